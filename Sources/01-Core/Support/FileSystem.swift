import Foundation

/// A file-system failure worded for the user: one line that names the path and the problem
/// (`results/x: cannot create folder: Permission denied`), never Foundation's
/// `Error Domain=NSCocoaErrorDomain Code=513 …`.
public struct FileSystemError: UserFacingError {
  public let path: String
  public let problem: String

  public init(path: String, problem: String) {
    self.path = path
    self.problem = problem
  }

  /// `action` failed with the current `errno`.
  package init(path: String, action: String, errno code: Int32 = errno) {
    self.init(path: path, problem: "\(action): \(String(cString: strerror(code)))")
  }

  public var description: String { "\(path): \(problem)" }
}

/// The few file-system operations the pipeline needs, on POSIX calls so that every failure is
/// a `FileSystemError` with the path and the system's reason.
public enum FileSystem {
  /// Creates `path` and its missing parents (`mkdir -p`). An existing regular file in the way
  /// is an error that says so.
  public static func createDirectory(_ path: String) throws {
    let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    var current = ""
    for component in absolute.split(separator: "/", omittingEmptySubsequences: true) {
      current += "/" + component
      var status = stat()
      if stat(current, &status) == 0 {
        guard status.st_mode & S_IFMT == S_IFDIR else {
          let shown = current == absolute ? path : current
          throw FileSystemError(path: shown, problem: "exists and is a file, not a folder")
        }
        continue
      }
      if mkdir(current, 0o777) != 0 && errno != EEXIST {
        throw FileSystemError(path: current == absolute ? path : current, action: "cannot create folder")
      }
    }
  }

  /// Whether `path` exists, and whether it is a folder.
  /// The bytes of a regular file of at most `limit` bytes. A device (`/dev/zero`), pipe or
  /// socket never ends or blocks, and an oversized file is certainly not what was meant: each
  /// is refused with the reason, as is a file that cannot be read (with the system's reason).
  public static func readRegularFile(_ path: String, limit: Int) throws(FileSystemError) -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
    guard fd >= 0 else { throw FileSystemError(path: path, action: "cannot read") }
    defer { close(fd) }
    var status = stat()
    guard fstat(fd, &status) == 0 else { throw FileSystemError(path: path, action: "cannot read") }
    guard (status.st_mode & S_IFMT) == S_IFREG else {
      let what = (status.st_mode & S_IFMT) == S_IFCHR || (status.st_mode & S_IFMT) == S_IFBLK ? "a device" : "not a regular file"
      throw FileSystemError(path: path, problem: "is \(what), not a file to read")
    }
    guard status.st_size <= limit else {
      throw FileSystemError(path: path, problem: "is \(status.st_size) bytes; at most \(limit) are read")
    }
    var bytes = [UInt8](repeating: 0, count: Int(status.st_size))
    var done = 0
    while done < bytes.count {
      let count = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
      if count < 0 && errno == EINTR { continue }
      guard count >= 0 else { throw FileSystemError(path: path, action: "cannot read") }
      if count == 0 { break }
      done += count
    }
    return Array(bytes[0..<done])
  }

  public static func kind(of path: String) -> (exists: Bool, isDirectory: Bool) {
    var status = stat()
    guard stat(path, &status) == 0 else { return (false, false) }
    return (true, status.st_mode & S_IFMT == S_IFDIR)
  }

  /// A memo key for what a file holds: path, inode, size and modification time. nil for a file
  /// modified in the last 2 s, whose rewrite within the clock's resolution could keep all of
  /// them (git's "racy" rule): such a file is always read again.
  public static func stamp(_ path: String) -> String? {
    var status = stat()
    guard stat(path, &status) == 0 else { return nil }
    let modified = Double(status.st_mtim.tv_sec) + Double(status.st_mtim.tv_nsec) / 1e9
    guard Date().timeIntervalSince1970 - modified > 2 else { return nil }
    return "\(path)|\(status.st_ino)|\(status.st_size)|\(status.st_mtim.tv_sec).\(status.st_mtim.tv_nsec)"
  }

  /// Removes a file or a folder tree; a missing path is not an error.
  public static func remove(_ path: String) throws {
    guard kind(of: path).exists else { return }
    do {
      try FileManager.default.removeItem(atPath: path)
    } catch {
      throw FileSystemError(path: path, problem: "cannot remove: \(reason(error))")
    }
  }

  /// Writes `text` to `path` through a temporary file and a rename, creating the folder.
  public static func write(_ text: String, to path: String) throws {
    let directory = (path as NSString).deletingLastPathComponent
    if !directory.isEmpty { try createDirectory(directory) }
    let temporary = "\(path).tmp-\(getpid())"
    guard FileManager.default.createFile(atPath: temporary, contents: Data(text.utf8)) else {
      throw FileSystemError(path: path, action: "cannot write")
    }
    guard rename(temporary, path) == 0 else {
      let code = errno
      unlink(temporary)
      throw FileSystemError(path: path, action: "cannot write", errno: code)
    }
  }

  /// The system's reason inside a Foundation error (`Permission denied`), or its description.
  public static func reason(_ error: Error) -> String {
    let ns = error as NSError
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
      return String(cString: strerror(Int32(underlying.code)))
    }
    if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))) }
    if ns.domain == NSCocoaErrorDomain {
      switch CocoaError.Code(rawValue: ns.code) {
      case .fileWriteFileExists: return "a file with that name already exists"
      case .fileWriteNoPermission, .fileReadNoPermission: return "Permission denied"
      case .fileNoSuchFile, .fileReadNoSuchFile: return "No such file or directory"
      case .fileWriteOutOfSpace: return "No space left on device"
      case .fileWriteVolumeReadOnly: return "Read-only file system"
      default: break
      }
    }
    return ns.localizedDescription
  }

  /// One line for any error: errors of this project print their own message; Foundation's
  /// file errors become `path: reason`.
  public static func describe(_ error: Error) -> String {
    let text = "\(error)"
    if !text.contains("Error Domain=") { return text }
    let ns = error as NSError
    let path = (ns.userInfo[NSFilePathErrorKey] as? String) ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
    return path.map { "\($0): \(reason(error))" } ?? reason(error)
  }
}
