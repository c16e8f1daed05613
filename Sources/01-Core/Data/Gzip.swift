import Foundation
import _ZLib

/// Whole-file reading with transparent gzip decompression (zlib), for data files that come
/// either raw or as `.gz`.
public enum CompressedFile {
  /// The bytes of `path`, read whole.
  public static func readBytes(_ path: String) throws -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw DataFileError(file: path, message: "file not found")
    }
    guard !isDirectory.boolValue else { throw DataFileError(file: path, message: "is a directory") }
    guard let data = FileManager.default.contents(atPath: path) else {
      throw DataFileError(file: path, message: "could not read file")
    }
    return [UInt8](data)
  }

  /// Whether `bytes` start with the gzip magic number 1f 8b.
  public static func isGzip(_ bytes: [UInt8]) -> Bool {
    bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
  }

  /// The decompressed content of gzip data (one or more concatenated members). `file` only
  /// names the source in errors. Truncated or corrupt data throws.
  public static func gunzip(_ bytes: [UInt8], file: String) throws -> [UInt8] {
    guard isGzip(bytes) else { throw DataFileError(file: file, message: "not gzip data") }
    // The trailer's ISIZE (size mod 2³²) is a good first guess for the output size.
    var capacity = 1 << 16
    if bytes.count >= 18 {
      let n = bytes.count
      let isize = Int(bytes[n - 4]) | Int(bytes[n - 3]) << 8 | Int(bytes[n - 2]) << 16 | Int(bytes[n - 1]) << 24
      // A damaged trailer must not cause a huge allocation: deflate expands at most ~1032×.
      capacity = max(capacity, min(isize, 1032 * n, 1 << 30) + 1)
    }
    var output = [UInt8](repeating: 0, count: capacity)
    var produced = 0
    var stream = z_stream()
    // 15 + 32: maximum window, and detect the gzip (or zlib) header automatically.
    var status = inflateInit2_(&stream, 15 + 32, zlibVersion(), Int32(MemoryLayout<z_stream>.size))
    guard status == Z_OK else { throw DataFileError(file: file, message: "zlib could not start (status \(status))") }
    defer { inflateEnd(&stream) }

    try bytes.withUnsafeBufferPointer { input in
      stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress!)
      stream.avail_in = UInt32(input.count)
      while true {
        if produced == output.count { output.append(contentsOf: repeatElement(0, count: output.count)) }
        status = output.withUnsafeMutableBufferPointer { out -> Int32 in
          stream.next_out = out.baseAddress! + produced
          let room = min(out.count - produced, Int(UInt32.max))
          stream.avail_out = UInt32(room)
          let result = inflate(&stream, Z_NO_FLUSH)
          produced += room - Int(stream.avail_out)
          return result
        }
        switch status {
        case Z_STREAM_END:
          // Another gzip member may follow (as `cat a.gz b.gz` makes); anything else is junk.
          if stream.avail_in == 0 { return }
          let rest = input.count - Int(stream.avail_in)
          guard input.count - rest >= 2, input[rest] == 0x1F, input[rest + 1] == 0x8B else {
            throw DataFileError(file: file, message: "\(stream.avail_in) bytes of junk after the gzip data")
          }
          guard inflateReset(&stream) == Z_OK else { throw DataFileError(file: file, message: "zlib could not reset") }
        case Z_OK:
          continue
        case Z_BUF_ERROR:
          // No progress possible: with output room left, the input ended mid-stream.
          if stream.avail_in == 0 && stream.avail_out > 0 {
            throw DataFileError(file: file, message: "truncated gzip data (the compressed stream ends early)")
          }
          continue
        default:
          let reason = stream.msg.map { String(cString: $0) } ?? "status \(status)"
          throw DataFileError(file: file, message: "corrupt gzip data (\(reason))")
        }
      }
    }
    output.removeSubrange(produced...)
    return output
  }

  /// `bytes` compressed as one gzip member (zlib, default level), e.g. to write test fixtures.
  public static func gzip(_ bytes: [UInt8]) -> [UInt8] {
    var stream = z_stream()
    // 15 + 16: maximum window, gzip header and trailer instead of zlib's.
    let status = deflateInit2_(
      &stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
      Int32(MemoryLayout<z_stream>.size))
    precondition(status == Z_OK, "zlib deflateInit2 failed (\(status))")
    defer { deflateEnd(&stream) }
    var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 64)
    var input = bytes
    let produced = input.withUnsafeMutableBufferPointer { inp in
      output.withUnsafeMutableBufferPointer { out -> Int in
        stream.next_in = inp.baseAddress
        stream.avail_in = UInt32(inp.count)
        stream.next_out = out.baseAddress
        stream.avail_out = UInt32(out.count)
        let result = deflate(&stream, Z_FINISH)
        precondition(result == Z_STREAM_END, "zlib deflate did not finish (\(result))")
        return out.count - Int(stream.avail_out)
      }
    }
    output.removeSubrange(produced...)
    return output
  }

  /// The content of a file that may be gzipped: decompressed if it starts with the gzip
  /// magic number, as is otherwise. Also returns the raw bytes (for checksums).
  public static func readContent(_ path: String) throws -> (content: [UInt8], raw: [UInt8]) {
    let raw = try readBytes(path)
    return (isGzip(raw) ? try gunzip(raw, file: path) : raw, raw)
  }
}
