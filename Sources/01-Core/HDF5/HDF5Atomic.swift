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
    try publish(temporary, as: path)
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
  syncDirectory(of: path)
}

/// Changes an existing HDF5 file atomically: `path` is copied byte for byte (permission bits
/// kept) to `<path>.tmp-<pid>-<n>`, `body` edits the copy, which is closed, fsynced and renamed
/// over `path`.
///
/// Why a copy and not an edit in place: an HDF5 file open for writing is not crash-safe (see
/// `writeHDF5Atomically`), and a model file that job keys name by its checksum must never be
/// left unreadable by an interrupted edit. With the copy, a reader or a crash sees the old
/// complete file or the edited complete one; if `body` (or anything after it) throws, the copy
/// is removed and `path` is untouched (a process killed outright can leave the copy behind,
/// never a damaged `path`). What `body` does not change keeps its values (datasets
/// are not rewritten; HDF5 may move metadata, so the file's bytes are not promised).
public func updateHDF5Atomically(_ path: String, _ body: (HDF5File) throws -> Void) throws {
  let temporary = "\(path).tmp-\(getpid())-\(HDF5Library.shared.nextTemporaryFileNumber())"
  try copyFile(path, to: temporary)
  var file: HDF5File?
  do {
    let opened = try HDF5File.open(temporary, writable: true)
    file = opened
    try body(opened)
    try opened.close()
    try publish(temporary, as: path)
  } catch let error as HDF5Error where error.path == temporary {
    try? file?.close()
    unlink(temporary)
    throw HDF5Error(path: path, object: error.object, message: error.message)
  } catch {
    try? file?.close()
    unlink(temporary)
    throw error
  }
  syncDirectory(of: path)
}

/// Syncs the closed `temporary` file and renames it over `path`.
private func publish(_ temporary: String, as path: String) throws {
  try syncToDisk(temporary, reportingAs: path)
  guard rename(temporary, path) == 0 else {
    throw systemError(path, "could not rename \(temporary) over it")
  }
}

/// Makes a rename durable. Some file systems cannot fsync a directory; the file is complete
/// either way, so that failure is not reported.
private func syncDirectory(of path: String) {
  let directory = (path as NSString).deletingLastPathComponent
  let descriptor = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY)
  if descriptor >= 0 {
    _ = fsync(descriptor)
    close(descriptor)
  }
}

/// Copies `source` to the new file `target` (which must not exist) with `source`'s permission
/// bits; on failure `target` is removed and the error names `source`.
private func copyFile(_ source: String, to target: String) throws {
  let input = open(source, O_RDONLY)
  guard input >= 0 else { throw systemError(source, "could not open it to copy it") }
  defer { close(input) }
  var status = stat()
  guard fstat(input, &status) == 0 else { throw systemError(source, "could not read its permissions") }
  let output = open(target, O_WRONLY | O_CREAT | O_EXCL, status.st_mode & 0o7777)
  guard output >= 0 else { throw systemError(source, "could not create the copy \(target)") }
  var failure: HDF5Error?
  let size = 1 << 20
  let buffer = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 16)
  defer { buffer.deallocate() }
  copying: while true {
    let count = read(input, buffer, size)
    if count == 0 { break }
    if count < 0 {
      if errno == EINTR { continue }
      failure = systemError(source, "could not read it to copy it")
      break
    }
    var offset = 0
    while offset < count {
      let written = write(output, buffer + offset, count - offset)
      if written < 0 {
        if errno == EINTR { continue }
        failure = systemError(source, "could not write the copy \(target)")
        break copying
      }
      offset += written
    }
  }
  close(output)
  if let failure {
    unlink(target)
    throw failure
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
