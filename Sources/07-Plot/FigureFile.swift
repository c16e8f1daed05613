import Foundation
import GGEPCore

public struct FigureError: UserFacingError, Sendable {
  public let path: String
  public let message: String
  public init(path: String, message: String) {
    self.path = path
    self.message = message
  }
  public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// Atomic file writes for figures: a report regenerated while someone has the old figure open
/// (or a run killed mid-write) must never leave a truncated image behind. The bytes go to a
/// temporary name in the same folder, are synced, and are renamed over the target, so a
/// reader sees the old file or the new one.
public enum FigureFile {
  public static func write(_ text: String, to path: String) throws {
    try write(Array(text.utf8), to: path)
  }

  /// Creates the parent folder if needed. On failure the temporary file is removed and `path`
  /// is untouched.
  public static func write(_ bytes: [UInt8], to path: String) throws {
    let directory = (path as NSString).deletingLastPathComponent
    let name = (path as NSString).lastPathComponent
    guard !name.isEmpty else { throw FigureError(path: path, message: "not a file name") }
    if !directory.isEmpty { try FileSystem.createDirectory(directory) }
    let temporary = (directory.isEmpty ? "" : directory + "/") + ".\(name).tmp-\(getpid())-\(UUID().uuidString.prefix(8))"
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    guard descriptor >= 0 else { throw systemError(path, "could not create \(temporary)") }
    var failure: FigureError?
    bytes.withUnsafeBytes { buffer in
      var offset = 0
      while offset < buffer.count {
        let written = Foundation.write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
        if written < 0 {
          if errno == EINTR { continue }
          failure = systemError(path, "could not write \(temporary)")
          return
        }
        offset += written
      }
    }
    if failure == nil, fsync(descriptor) != 0 { failure = systemError(path, "could not sync \(temporary)") }
    close(descriptor)
    if failure == nil, rename(temporary, path) != 0 { failure = systemError(path, "could not rename \(temporary) over it") }
    if let failure {
      unlink(temporary)
      throw failure
    }
  }

  private static func systemError(_ path: String, _ message: String) -> FigureError {
    FigureError(path: path, message: "\(message): \(String(cString: strerror(errno)))")
  }
}
