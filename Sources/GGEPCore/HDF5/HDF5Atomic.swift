import Foundation
import _HDF5

/// Writes an HDF5 file atomically: `body` fills a new file at `<path>.tmp-<pid>-<n>`, which is
/// closed, fsynced and then renamed over `path`.
///
/// Why: HDF5 keeps metadata in memory while a file is open for writing, so a process killed
/// mid-write (a cancelled Slurm job, an out-of-memory kill) can leave an unreadable file. With
/// the rename, a reader or a crash sees either the old complete file or the new complete one.
/// If `body` (or anything after it) throws, the temporary file is removed and `path` is left
/// untouched. The counter `n` keeps concurrent writers of the same path in one process apart.
///
/// The file is closed when `body` returns, even if `body` kept groups of it, so do not use the
/// `HDF5File` after `body`.
public func writeHDF5Atomically(to path: String, _ body: (HDF5File) throws -> Void) throws {
  let temporary = "\(path).tmp-\(getpid())-\(HDF5Library.shared.nextTemporaryFileNumber())"
  let file = try HDF5File.create(temporary, truncate: true)
  do {
    try body(file)
    try file.close()
    try syncToDisk(temporary, reportingAs: path)
    guard rename(temporary, path) == 0 else {
      throw systemError(path, "could not rename \(temporary) over it")
    }
  } catch let error as HDF5Error where error.path == temporary {
    try? file.close()
    unlink(temporary)
    // Name the file the user asked for; the temporary one is gone.
    throw HDF5Error(path: path, object: error.object, message: error.message)
  } catch {
    try? file.close()
    unlink(temporary)
    throw error
  }
  // Make the rename itself durable. Some file systems cannot fsync a directory; the file is
  // complete either way, so that failure is not reported.
  let directory = (path as NSString).deletingLastPathComponent
  let descriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY)
  if descriptor >= 0 {
    _ = fsync(descriptor)
    close(descriptor)
  }
}

/// Forces the closed file's bytes to disk before the rename publishes it; otherwise a power cut
/// soon after could leave the new name pointing at a file whose data never arrived.
private func syncToDisk(_ file: String, reportingAs path: String) throws {
  let descriptor = open(file, O_RDONLY)
  guard descriptor >= 0 else { throw systemError(path, "could not open \(file) to sync it") }
  defer { close(descriptor) }
  guard fsync(descriptor) == 0 else { throw systemError(path, "could not sync \(file) to disk") }
}

private func systemError(_ path: String, _ message: String) -> HDF5Error {
  HDF5Error(path: path, object: "", message: "\(message): \(String(cString: strerror(errno)))")
}
