import Foundation
import GGEPCore

/// An exclusive lock on an output folder, held while a run (or a merge) writes into it.
///
/// It is `flock(2)` on `DIR/.lock`: the kernel releases it when the holder exits, however it
/// exits (SIGKILL, out of memory), so a lock whose process is dead is simply taken over — no
/// stale-lock cleanup, no pid guessing. The file names its holder (pid, host, start time,
/// command) so that a refused run can say who has the folder. A holder that exits normally
/// empties the file; finding it non-empty on acquiring means the last holder died, which is
/// said in a note.
///
/// Without it, two runs into one folder both computed every job and then failed at the end,
/// with a journal that mixed both configs.
public final class RunLock: @unchecked Sendable {
  // @unchecked: `descriptor` is written once at init and by `release`, which the owner calls
  // once (or deinit does); nothing else touches it.
  public let path: String
  private var descriptor: Int32
  /// What the previous holder left in the file, when it died holding the lock.
  public let takenOverFrom: String?

  public struct Busy: UserFacingError {
    public let directory: String
    public let holder: String
    public var description: String {
      "\(directory) is in use by another ggep process (\(holder)); wait for it to finish, or choose another --out"
    }
  }

  private init(path: String, descriptor: Int32, takenOverFrom: String?) {
    self.path = path
    self.descriptor = descriptor
    self.takenOverFrom = takenOverFrom
  }

  /// Takes the lock of `directory` (which must exist) at once, or throws `Busy` naming the
  /// holder. A `.lock` that is a link or not a regular file is refused, never written through. `command` is recorded for whoever is refused next.
  public static func acquire(directory: String, command: String) throws -> RunLock {
    let path = directory + "/.lock"
    // Never through a link: a `.lock` planted as a symbolic link (or a second hard link) to
    // someone's file would otherwise be truncated and overwritten with the holder record.
    let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o644)
    guard fd >= 0 else {
      let code = errno
      if code == ELOOP {
        throw UserError("\(path) is a symbolic link; ggep does not follow a lock file into another file. Remove it (rm \(path)) if you did not make it, or choose another --out")
      }
      throw FileSystemError(path: directory, action: "cannot write in folder", errno: code)
    }
    var status = stat()
    guard fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, status.st_nlink == 1 else {
      let what = (status.st_mode & S_IFMT) == S_IFREG ? "has \(status.st_nlink) hard links (another file shares it)" : "is not a regular file"
      close(fd)
      throw UserError("\(path) \(what); ggep will not write its lock into it. Remove it if you did not make it, or choose another --out")
    }
    if flock(fd, LOCK_EX | LOCK_NB) != 0 {
      let code = errno
      if code == EWOULDBLOCK {
        let holder = describeHolder(read(fd))
        close(fd)
        throw Busy(directory: directory, holder: holder)
      }
      // File systems without flock (some network mounts): run unlocked rather than not at all.
      if code == ENOLCK || code == EOPNOTSUPP || code == ENOSYS {
        FileHandle.standardError.write(Data("warning: \(directory): cannot lock the folder (\(String(cString: strerror(code)))); do not start a second run into it\n".utf8))
      } else {
        close(fd)
        throw FileSystemError(path: path, action: "cannot lock", errno: code)
      }
    }
    let previous = read(fd)
    let info = [
      "pid=\(getpid())", "host=\(ProcessInfo.processInfo.hostName)", "started=\(BuildInfo.timestamp())", "command=\(command)",
    ].joined(separator: "\n") + "\n"
    _ = ftruncate(fd, 0)
    _ = info.withCString { pwrite(fd, $0, strlen($0), 0) }
    return RunLock(path: path, descriptor: fd, takenOverFrom: previous.isEmpty ? nil : describeHolder(previous))
  }

  /// Empties the holder record and releases the lock (also done at deinit).
  public func release() {
    guard descriptor >= 0 else { return }
    _ = ftruncate(descriptor, 0)
    close(descriptor)  // releases the flock
    descriptor = -1
  }

  deinit { release() }

  private static func read(_ fd: Int32) -> String {
    var bytes = [UInt8](repeating: 0, count: 4096)
    let count = pread(fd, &bytes, bytes.count, 0)
    return count > 0 ? String(decoding: bytes[0..<count], as: UTF8.self) : ""
  }

  /// `pid 1234 on host h, started 2026-12-02T20:15:03Z: ggep run configs/x.yaml`.
  package static func describeHolder(_ text: String) -> String {
    var fields: [String: String] = [:]
    for line in text.split(separator: "\n") {
      guard let eq = line.firstIndex(of: "=") else { continue }
      fields[String(line[..<eq])] = String(line[line.index(after: eq)...])
    }
    guard let pid = fields["pid"] else { return "holder not recorded yet" }
    var text = "pid \(pid)"
    if let host = fields["host"] { text += " on host \(host)" }
    if let started = fields["started"] { text += ", started \(started)" }
    if let command = fields["command"] { text += ": \(command)" }
    return text
  }
}
