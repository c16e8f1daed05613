/// The IDX format of the MNIST files (LeCun et al.): a big-endian header, then unsigned bytes.
///
///     images: magic 2051 (0x00000803), count, rows, columns, then count·rows·columns pixels
///     labels: magic 2049 (0x00000801), count, then count labels
///
/// The parsers check the magic number, the dimensions and that the length is exactly what the
/// header promises, and name the file in every error.
public enum IDX {
  public static let imagesMagic: UInt32 = 2051
  public static let labelsMagic: UInt32 = 2049

  /// Images from the (decompressed) content of an IDX image file: count × rows × columns
  /// bytes, row-major, one image after another. `expectedShape` (rows, columns) is checked
  /// when given.
  public static func parseImages(
    _ bytes: [UInt8], file: String, expectedShape: (rows: Int, columns: Int)? = (28, 28)
  ) throws -> (count: Int, rows: Int, columns: Int, pixels: ArraySlice<UInt8>) {
    guard bytes.count >= 16 else {
      throw DataFileError(file: file, message: "truncated: \(bytes.count) bytes, shorter than the 16-byte IDX image header")
    }
    let magic = bigEndian(bytes, at: 0)
    guard magic == imagesMagic else {
      throw DataFileError(file: file, message: "bad magic number \(magic): an IDX image file has \(imagesMagic)")
    }
    let (count, rows, columns) = (Int(bigEndian(bytes, at: 4)), Int(bigEndian(bytes, at: 8)), Int(bigEndian(bytes, at: 12)))
    if let expected = expectedShape, rows != expected.rows || columns != expected.columns {
      throw DataFileError(file: file, message: "images are \(rows)×\(columns), expected \(expected.rows)×\(expected.columns)")
    }
    guard rows > 0, columns > 0 else { throw DataFileError(file: file, message: "images are \(rows)×\(columns)") }
    let (pixels, overflow1) = rows.multipliedReportingOverflow(by: columns)
    let (total, overflow2) = pixels.multipliedReportingOverflow(by: count)
    guard !overflow1, !overflow2 else {
      throw DataFileError(file: file, message: "header claims \(count) images of \(rows)×\(columns): too large")
    }
    let expectedLength = 16 + total
    guard bytes.count == expectedLength else {
      let what = bytes.count < expectedLength ? "truncated" : "too long"
      throw DataFileError(
        file: file,
        message: "\(what): \(bytes.count) bytes, but the header's \(count) images of \(rows)×\(columns) need \(expectedLength)")
    }
    return (count, rows, columns, bytes[16...])
  }

  /// Labels from the (decompressed) content of an IDX label file; each must be at most
  /// `maxLabel`.
  public static func parseLabels(_ bytes: [UInt8], file: String, maxLabel: UInt8 = 9) throws -> [UInt8] {
    guard bytes.count >= 8 else {
      throw DataFileError(file: file, message: "truncated: \(bytes.count) bytes, shorter than the 8-byte IDX label header")
    }
    let magic = bigEndian(bytes, at: 0)
    guard magic == labelsMagic else {
      throw DataFileError(file: file, message: "bad magic number \(magic): an IDX label file has \(labelsMagic)")
    }
    let count = Int(bigEndian(bytes, at: 4))
    guard bytes.count == 8 + count else {
      let what = bytes.count < 8 + count ? "truncated" : "too long"
      throw DataFileError(file: file, message: "\(what): \(bytes.count) bytes, but the header's \(count) labels need \(8 + count)")
    }
    let labels = Array(bytes[8...])
    if let bad = labels.firstIndex(where: { $0 > maxLabel }) {
      throw DataFileError(file: file, message: "label \(bad) is \(labels[bad]), above \(maxLabel)")
    }
    return labels
  }

  /// Builds the IDX bytes of images or labels (for tests and tools).
  public static func encode(images pixels: [UInt8], count: Int, rows: Int, columns: Int) -> [UInt8] {
    precondition(pixels.count == count * rows * columns)
    return header([imagesMagic, UInt32(count), UInt32(rows), UInt32(columns)]) + pixels
  }

  public static func encode(labels: [UInt8]) -> [UInt8] {
    header([labelsMagic, UInt32(labels.count)]) + labels
  }

  private static func header(_ words: [UInt32]) -> [UInt8] {
    words.flatMap { w in [UInt8(w >> 24), UInt8(truncatingIfNeeded: w >> 16), UInt8(truncatingIfNeeded: w >> 8), UInt8(truncatingIfNeeded: w)] }
  }

  private static func bigEndian(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
  }
}
