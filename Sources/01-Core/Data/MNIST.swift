import Foundation

/// The MNIST handwritten digits: 60 000 training and 10 000 test images of 28×28 pixels.
///
/// Read from the four standard IDX files (gzipped or raw) in one directory, by default
/// `data/mnist/` in the package (filled by `make data`, i.e. `scripts/fetch-mnist.sh`). Each
/// file's SHA-256 is checked against the known digest before use (see `MNIST.File`).
public struct MNIST: Sendable {
  public var train: Split
  public var test: Split

  /// One part of the data set: images as rows of 784 pixels scaled to [0, 1], and labels 0–9.
  public struct Split: Sendable {
    /// count × (rows·columns), row-major: image i is row i, pixel (r, c) is column 28r + c.
    public var images: Matrix<Float>
    public var labels: [UInt8]
    public var count: Int { labels.count }

    public init(images: Matrix<Float>, labels: [UInt8]) {
      precondition(images.rows == labels.count)
      self.images = images
      self.labels = labels
    }

    /// The first `count` images (for quick runs).
    public func prefix(_ count: Int) -> Split {
      let n = min(count, self.count)
      return Split(
        images: Matrix(rows: n, cols: images.cols, storage: Array(images.storage[0..<(n * images.cols)])),
        labels: Array(labels[0..<n]))
    }
  }

  public enum Part: String, Sendable, CaseIterable {
    case train, test
    public var files: (images: File, labels: File) {
      self == .train ? (.trainImages, .trainLabels) : (.testImages, .testLabels)
    }
  }

  /// The four files under their standard names, with their known SHA-256 digests.
  public enum File: String, Sendable, CaseIterable {
    case trainImages = "train-images-idx3-ubyte.gz"
    case trainLabels = "train-labels-idx1-ubyte.gz"
    case testImages = "t10k-images-idx3-ubyte.gz"
    case testLabels = "t10k-labels-idx1-ubyte.gz"

    /// The standard file name (gzipped).
    public var fileName: String { rawValue }
    /// The name of the decompressed file, also accepted in the data directory.
    public var rawFileName: String { String(rawValue.dropLast(3)) }

    /// SHA-256 of the `.gz` file as distributed with the project (shared/datasets/mnist).
    public var sha256: String {
      switch self {
      case .trainImages: "0b367032e93c5d0cea0925647cfdb18614af8ee15f83e6f2fc2ad904a6835971"
      case .trainLabels: "1787548bbe0bff1ec2ecdc0ef292b02df999e2d1a6002d27500982c652b17203"
      case .testImages: "1a1a05eab793c14bb050b398624a11b0ffd1a2953baed553b1b9bd079e2a20be"
      case .testLabels: "b91679a0acfe4ba0e50a2437a903084cba1f5f92592b016a25a7dfd00455798b"
      }
    }

    /// SHA-256 of the decompressed IDX content. Gzip output depends on the compressor and its
    /// settings, so a copy of the same data compressed elsewhere (the files on the public
    /// mirrors) has another `.gz` digest; it is accepted when its content has this digest.
    public var contentSHA256: String {
      switch self {
      case .trainImages: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"
      case .trainLabels: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
      case .testImages: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"
      case .testLabels: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
      }
    }
  }

  /// The default data directory, relative to the package root.
  public static let defaultDirectory = "data/mnist"

  /// Loads both splits from `directory`.
  public static func load(directory: String = defaultDirectory, verifyChecksums: Bool = true) throws -> MNIST {
    MNIST(
      train: try load(.train, directory: directory, verifyChecksums: verifyChecksums),
      test: try load(.test, directory: directory, verifyChecksums: verifyChecksums))
  }

  /// Loads one split from `directory` (e.g. only the test set, for evaluating a model).
  public static func load(_ part: Part, directory: String = defaultDirectory, verifyChecksums: Bool = true) throws -> Split {
    let (imageFile, labelFile) = part.files
    let imagePath = try locate(imageFile, in: directory)
    let labelPath = try locate(labelFile, in: directory)
    let imageBytes = try readVerified(imagePath, file: imageFile, verify: verifyChecksums)
    let labelBytes = try readVerified(labelPath, file: labelFile, verify: verifyChecksums)
    let images = try IDX.parseImages(imageBytes, file: imagePath)
    let labels = try IDX.parseLabels(labelBytes, file: labelPath)
    guard images.count == labels.count else {
      throw DataFileError(
        file: labelPath, message: "has \(labels.count) labels but \(imagePath) has \(images.count) images")
    }
    let scale: Float = 1 / 255
    let pixels = images.pixels.map { Float($0) * scale }
    return Split(images: Matrix(rows: images.count, cols: images.rows * images.columns, storage: pixels), labels: labels)
  }

  /// The path of `file` in `directory`: the `.gz` name, else the decompressed name.
  public static func locate(_ file: File, in directory: String) throws -> String {
    let gz = (directory as NSString).appendingPathComponent(file.fileName)
    if FileManager.default.fileExists(atPath: gz) { return gz }
    let raw = (directory as NSString).appendingPathComponent(file.rawFileName)
    if FileManager.default.fileExists(atPath: raw) { return raw }
    throw DataFileError(file: gz, message: "file not found (run `make data` or scripts/fetch-mnist.sh to fetch MNIST)")
  }

  /// The decompressed content of `path` after checking its SHA-256: the `.gz` digest for
  /// gzip files (or, failing that, the content digest: a re-compressed copy of the same data),
  /// the content digest for raw files.
  public static func readVerified(_ path: String, file: File, verify: Bool = true) throws -> [UInt8] {
    let raw = try CompressedFile.readBytes(path)
    let gzipped = CompressedFile.isGzip(raw)
    if !verify { return gzipped ? try CompressedFile.gunzip(raw, file: path) : raw }
    if gzipped {
      let digest = SHA256.hexDigest(raw)
      if digest == file.sha256 { return try CompressedFile.gunzip(raw, file: path) }
      let mismatch = "SHA-256 mismatch: expected \(file.sha256), got \(digest)"
      let content: [UInt8]
      do {
        content = try CompressedFile.gunzip(raw, file: path)
      } catch let error as DataFileError {
        throw DataFileError(file: path, message: "\(mismatch); \(error.message)")
      }
      let contentDigest = SHA256.hexDigest(content)
      if contentDigest == file.contentSHA256 { return content }
      throw DataFileError(
        file: path,
        message: "\(mismatch) (decompressed content: expected \(file.contentSHA256), got \(contentDigest))")
    }
    let digest = SHA256.hexDigest(raw)
    guard digest == file.contentSHA256 else {
      throw DataFileError(file: path, message: "SHA-256 mismatch: expected \(file.contentSHA256), got \(digest)")
    }
    return raw
  }
}
