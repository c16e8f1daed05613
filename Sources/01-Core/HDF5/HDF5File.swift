import Foundation
import _HDF5

/// An open HDF5 file.
///
/// Files are written in HDF5's earliest file format (the library default), so that old h5py
/// and HDF5 1.8 readers open them. Close files as soon as they are complete: a file that is
/// open for writing when the process dies can be left unreadable (see `writeHDF5Atomically`).
public final class HDF5File: @unchecked Sendable {
  // @unchecked Sendable: the mutable `id` is only read or written with the global HDF5 lock
  // held (`withHDF5`), and all HDF5 calls go through that lock too.

  /// The path the file was opened with; every `HDF5Error` from this file names it.
  public let path: String
  /// Whether the file was opened for writing; writes to a read-only file fail early with a
  /// clear message instead of HDF5's "no write intent on file".
  public let isWritable: Bool
  /// The HDF5 file identifier, or -1 once closed.
  private(set) var id: hid_t

  private init(path: String, id: hid_t, isWritable: Bool) {
    self.path = path
    self.id = id
    self.isWritable = isWritable
  }

  /// Creates a file (replacing an existing one unless `truncate` is false, in which case an
  /// existing file is an error).
  public static func create(_ path: String, truncate: Bool = true) throws -> HDF5File {
    try withHDF5 {
      let site = HDF5Site(file: path, object: "")
      if !truncate && FileManager.default.fileExists(atPath: path) {
        throw site.error("file already exists")
      }
      let directory = (path as NSString).deletingLastPathComponent
      var isDirectory: ObjCBool = false
      if !FileManager.default.fileExists(atPath: directory.isEmpty ? "." : directory, isDirectory: &isDirectory)
        || !isDirectory.boolValue
      {
        throw site.error("directory \(directory) does not exist")
      }
      let fapl = try makeFileAccessList(site: site)
      defer { H5Pclose(fapl) }
      let flags = truncate ? ggep_h5f_acc_trunc() : ggep_h5f_acc_excl()
      let id = try site.id(H5Fcreate(path, flags, ggep_h5p_default(), fapl), "could not create file")
      return HDF5File(path: path, id: id, isWritable: true)
    }
  }

  /// Opens an existing file, read-only unless `writable`.
  public static func open(_ path: String, writable: Bool = false) throws -> HDF5File {
    try withHDF5 {
      let site = HDF5Site(file: path, object: "")
      var isDirectory: ObjCBool = false
      guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw site.error("file not found")
      }
      if isDirectory.boolValue { throw site.error("is a directory, not an HDF5 file") }
      // HDF5 1.10 has no H5Fis_accessible (1.12+); H5Fis_hdf5 looks for the signature.
      guard try site.truth(H5Fis_hdf5(path), "could not read file") else {
        throw site.error("not an HDF5 file")
      }
      let fapl = try makeFileAccessList(site: site)
      defer { H5Pclose(fapl) }
      let flags = writable ? ggep_h5f_acc_rdwr() : ggep_h5f_acc_rdonly()
      let id = try site.id(H5Fopen(path, flags, fapl), "could not open file")
      return HDF5File(path: path, id: id, isWritable: writable)
    }
  }

  /// The strong close degree makes `close()` close the file for real even while groups of it
  /// are still referenced: with the default (weak) degree the file would stay open, unflushed,
  /// until the last group went away, and an atomic rename would publish a half-written file.
  private static func makeFileAccessList(site: HDF5Site) throws -> hid_t {
    let fapl = try site.id(H5Pcreate(ggep_h5p_file_access()), "could not create a file access list")
    do {
      try site.status(H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG), "could not set the close degree")
    } catch {
      H5Pclose(fapl)
      throw error
    }
    return fapl
  }

  /// The root group `/`. Holding it (or any group) keeps this object alive, but not the file
  /// open: after `close()`, group operations throw "file is closed".
  public var root: HDF5Group { HDF5Group(rootOf: self) }

  /// Whether `close()` has not yet been called.
  public var isOpen: Bool { withHDF5 { id >= 0 } }

  /// Writes HDF5's cached data and metadata to disk. A flushed file that is written to again
  /// is not crash-safe until it is closed; prefer `writeHDF5Atomically` for finished results.
  public func flush() throws {
    try withHDF5 {
      let site = HDF5Site(file: path, object: "")
      let id = try openID(site: site)
      try site.status(H5Fflush(id, H5F_SCOPE_LOCAL), "could not flush file")
    }
  }

  /// Closes the file and every group, dataset and attribute of it still open. Calling it again
  /// does nothing. An error here means data may not have reached the disk.
  public func close() throws {
    try withHDF5 {
      guard id >= 0 else { return }
      let status = H5Fclose(id)
      id = -1
      try HDF5Site(file: path, object: "").status(status, "could not close file")
    }
  }

  deinit {
    withHDF5 {
      if id >= 0 { H5Fclose(id) }
    }
  }

  /// The file identifier, or an error if the file was closed. Call with the lock held.
  func openID(site: HDF5Site) throws -> hid_t {
    guard id >= 0 else { throw site.error("file is closed") }
    return id
  }
}
