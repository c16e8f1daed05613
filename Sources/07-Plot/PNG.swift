import Foundation
import _ZLib
import GGEPCore

/// PNG encoding and a strict decoder for what the encoder writes, so figures need no image
/// library: 8-bit grayscale, RGB or RGBA, non-interlaced.
///
/// The decoder exists so tests (and anyone debugging a figure) can check our files byte by
/// byte: it verifies every chunk's CRC, the header, and that the image data inflates to
/// exactly the expected size, and it reverses all five row filters.
public enum PNG {
  /// A decoded (or to-be-encoded) image: rows top to bottom, `channels` bytes per pixel
  /// (1 gray, 3 RGB, 4 RGBA).
  public struct Image: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public var channels: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, channels: Int, pixels: [UInt8]) {
      self.width = width
      self.height = height
      self.channels = channels
      self.pixels = pixels
    }

    /// The bytes of pixel (x, y).
    public subscript(x: Int, y: Int) -> ArraySlice<UInt8> {
      let start = (y * width + x) * channels
      return pixels[start..<start + channels]
    }
  }

  public struct DecodingError: UserFacingError, Equatable {
    public let message: String
    public var description: String { "PNG: \(message)" }
  }

  /// One chunk as stored: its four-letter type, data, and whether its CRC matched.
  public struct Chunk: Sendable {
    public var type: String
    public var data: [UInt8]
    public var crcIsValid: Bool
  }

  package static let signature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]

  /// PNG bytes for an 8-bit image. Rows are filtered adaptively (the usual minimum-sum
  /// heuristic), which shrinks plots with long flat runs and smooth images alike.
  public static func encode(width: Int, height: Int, channels: Int, pixels: [UInt8]) -> [UInt8] {
    precondition(width > 0 && height > 0, "PNG: empty image (\(width)×\(height))")
    precondition(width <= Int(Int32.max) && height <= Int(Int32.max), "PNG: image too large")
    let colorType: UInt8
    switch channels {
    case 1: colorType = 0
    case 3: colorType = 2
    case 4: colorType = 6
    default: preconditionFailure("PNG: \(channels) channels; only 1 (gray), 3 (RGB) or 4 (RGBA)")
    }
    precondition(pixels.count == width * height * channels, "PNG: \(pixels.count) bytes for \(width)×\(height)×\(channels)")

    var header: [UInt8] = []
    appendBigEndian(UInt32(width), to: &header)
    appendBigEndian(UInt32(height), to: &header)
    header += [8, colorType, 0, 0, 0]  // bit depth, colour type, deflate, adaptive filtering, no interlace

    var output = signature
    appendChunk("IHDR", header, to: &output)
    appendChunk("IDAT", deflateZlib(filterRows(width: width, height: height, channels: channels, pixels: pixels)), to: &output)
    appendChunk("IEND", [], to: &output)
    return output
  }

  public static func encode(_ image: Image) -> [UInt8] {
    encode(width: image.width, height: image.height, channels: image.channels, pixels: image.pixels)
  }

  /// The chunks of a PNG file in order, without interpreting them. Throws only when the
  /// framing itself is broken (bad signature, a length running past the end).
  public static func chunks(_ bytes: [UInt8]) throws -> [Chunk] {
    guard bytes.count >= 8, Array(bytes[0..<8]) == signature else {
      throw DecodingError(message: "not a PNG file (bad signature)")
    }
    var chunks: [Chunk] = []
    var offset = 8
    while offset < bytes.count {
      guard offset + 12 <= bytes.count else { throw DecodingError(message: "truncated chunk header at byte \(offset)") }
      let length = Int(readBigEndian(bytes, at: offset))
      guard length <= Int(Int32.max), offset + 12 + length <= bytes.count else {
        throw DecodingError(message: "chunk at byte \(offset) runs past the end of the file")
      }
      let typeBytes = Array(bytes[offset + 4..<offset + 8])
      let data = Array(bytes[offset + 8..<offset + 8 + length])
      let stored = readBigEndian(bytes, at: offset + 8 + length)
      let type = String(decoding: typeBytes, as: UTF8.self)
      chunks.append(Chunk(type: type, data: data, crcIsValid: crc(typeBytes + data) == stored))
      offset += 12 + length
    }
    return chunks
  }

  /// Decodes what `encode` writes (8-bit gray, RGB, RGBA; filters 0–4; no interlace).
  /// Any CRC mismatch, inconsistent header or wrongly sized image data throws.
  public static func decode(_ bytes: [UInt8]) throws -> Image {
    let chunks = try chunks(bytes)
    if let bad = chunks.firstIndex(where: { !$0.crcIsValid }) {
      throw DecodingError(message: "CRC mismatch in chunk \(bad) (\(chunks[bad].type))")
    }
    guard let first = chunks.first, first.type == "IHDR", first.data.count == 13 else {
      throw DecodingError(message: "the first chunk is not a 13-byte IHDR")
    }
    guard chunks.last?.type == "IEND" else { throw DecodingError(message: "no IEND chunk at the end") }
    let header = first.data
    let width = Int(readBigEndian(header, at: 0))
    let height = Int(readBigEndian(header, at: 4))
    guard width > 0, height > 0 else { throw DecodingError(message: "empty image \(width)×\(height)") }
    guard header[8] == 8 else { throw DecodingError(message: "bit depth \(header[8]); only 8 is supported") }
    let channels: Int
    switch header[9] {
    case 0: channels = 1
    case 2: channels = 3
    case 6: channels = 4
    default: throw DecodingError(message: "colour type \(header[9]); only 0, 2 and 6 are supported")
    }
    guard header[10] == 0, header[11] == 0 else { throw DecodingError(message: "unknown compression or filter method") }
    guard header[12] == 0 else { throw DecodingError(message: "interlaced images are not supported") }

    let compressed = chunks.filter { $0.type == "IDAT" }.flatMap(\.data)
    guard !compressed.isEmpty else { throw DecodingError(message: "no IDAT chunk") }
    let stride = width * channels
    let expected = height * (stride + 1)
    let filtered = try inflateZlib(compressed, expectedCount: expected)
    let pixels = try unfilterRows(filtered, height: height, stride: stride, bytesPerPixel: channels)
    return Image(width: width, height: height, channels: channels, pixels: pixels)
  }

  /// zlib's CRC-32 (the one PNG chunks carry).
  package static func crc(_ bytes: [UInt8]) -> UInt32 {
    bytes.withUnsafeBufferPointer { UInt32(crc32(0, $0.baseAddress, UInt32($0.count))) }
  }

  // MARK: - Chunks

  private static func appendChunk(_ type: String, _ data: [UInt8], to output: inout [UInt8]) {
    let typeBytes = Array(type.utf8)
    precondition(typeBytes.count == 4)
    appendBigEndian(UInt32(data.count), to: &output)
    output += typeBytes
    output += data
    appendBigEndian(crc(typeBytes + data), to: &output)
  }

  private static func appendBigEndian(_ value: UInt32, to output: inout [UInt8]) {
    output += [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
  }

  private static func readBigEndian(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
  }

  // MARK: - Filters

  /// Each row gets the filter whose output has the smallest sum of |signed bytes|, the
  /// heuristic the PNG specification recommends.
  private static func filterRows(width: Int, height: Int, channels: Int, pixels: [UInt8]) -> [UInt8] {
    let stride = width * channels
    var output = [UInt8]()
    output.reserveCapacity(height * (stride + 1))
    var candidate = [UInt8](repeating: 0, count: stride)
    var best = [UInt8](repeating: 0, count: stride)
    let zeros = [UInt8](repeating: 0, count: stride)
    for y in 0..<height {
      let row = Array(pixels[y * stride..<(y + 1) * stride])
      let above = y > 0 ? Array(pixels[(y - 1) * stride..<y * stride]) : zeros
      var bestType: UInt8 = 0
      var bestCost = Int.max
      for type: UInt8 in 0...4 {
        var cost = 0
        for i in 0..<stride {
          let a = i >= channels ? row[i - channels] : 0
          let b = above[i]
          let c = i >= channels ? above[i - channels] : 0
          let value = row[i] &- predictor(type, a, b, c)
          candidate[i] = value
          cost += value < 128 ? Int(value) : 256 - Int(value)
        }
        if cost < bestCost {
          bestCost = cost
          bestType = type
          swap(&best, &candidate)
        }
      }
      output.append(bestType)
      output += best
    }
    return output
  }

  private static func unfilterRows(_ data: [UInt8], height: Int, stride: Int, bytesPerPixel: Int) throws -> [UInt8] {
    var pixels = [UInt8](repeating: 0, count: height * stride)
    for y in 0..<height {
      let type = data[y * (stride + 1)]
      guard type <= 4 else { throw DecodingError(message: "row \(y) has unknown filter type \(type)") }
      let source = y * (stride + 1) + 1
      for i in 0..<stride {
        let a = i >= bytesPerPixel ? pixels[y * stride + i - bytesPerPixel] : 0
        let b = y > 0 ? pixels[(y - 1) * stride + i] : 0
        let c = (i >= bytesPerPixel && y > 0) ? pixels[(y - 1) * stride + i - bytesPerPixel] : 0
        pixels[y * stride + i] = data[source + i] &+ predictor(type, a, b, c)
      }
    }
    return pixels
  }

  /// The five PNG predictors: none, left, up, average, Paeth.
  @inline(__always)
  private static func predictor(_ type: UInt8, _ a: UInt8, _ b: UInt8, _ c: UInt8) -> UInt8 {
    switch type {
    case 0: return 0
    case 1: return a
    case 2: return b
    case 3: return UInt8((Int(a) + Int(b)) / 2)
    default:
      let p = Int(a) + Int(b) - Int(c)
      let pa = abs(p - Int(a)), pb = abs(p - Int(b)), pc = abs(p - Int(c))
      if pa <= pb && pa <= pc { return a }
      return pb <= pc ? b : c
    }
  }

  // MARK: - zlib

  private static func deflateZlib(_ bytes: [UInt8]) -> [UInt8] {
    var capacity = compressBound(UInt(bytes.count))
    var output = [UInt8](repeating: 0, count: Int(capacity))
    let status = output.withUnsafeMutableBufferPointer { out in
      bytes.withUnsafeBufferPointer { input in
        compress2(out.baseAddress, &capacity, input.baseAddress, UInt(input.count), 9)
      }
    }
    precondition(status == Z_OK, "zlib compress2 failed (\(status))")
    output.removeSubrange(Int(capacity)...)
    return output
  }

  /// Inflates into a buffer one byte larger than expected, so that too much data is caught
  /// as well as too little.
  private static func inflateZlib(_ bytes: [UInt8], expectedCount: Int) throws -> [UInt8] {
    var produced = UInt(expectedCount + 1)
    var output = [UInt8](repeating: 0, count: expectedCount + 1)
    var consumed = UInt(bytes.count)
    let status = output.withUnsafeMutableBufferPointer { out in
      bytes.withUnsafeBufferPointer { input in
        uncompress2(out.baseAddress, &produced, input.baseAddress, &consumed)
      }
    }
    switch status {
    case Z_OK:
      guard Int(produced) == expectedCount else {
        throw DecodingError(message: "image data inflates to \(produced) bytes, expected \(expectedCount)")
      }
      guard Int(consumed) == bytes.count else {
        throw DecodingError(message: "\(bytes.count - Int(consumed)) bytes of junk after the image data")
      }
      output.removeLast()
      return output
    case Z_BUF_ERROR:
      throw DecodingError(message: "image data inflates to more than the expected \(expectedCount) bytes")
    default:
      throw DecodingError(message: "corrupt or truncated image data (zlib status \(status))")
    }
  }
}
