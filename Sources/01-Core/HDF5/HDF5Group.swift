import Foundation
import _HDF5

/// A group in an open HDF5 file: a folder of datasets, subgroups and attributes.
///
/// Names given to its methods are relative to the group and may be paths (`"runs/cosine"`);
/// a leading `/` makes them absolute in the file.
public final class HDF5Group: @unchecked Sendable {
  // @unchecked Sendable: `location` is immutable and the group's HDF5 identifier is only used
  // with the global HDF5 lock held (`withHDF5`); the file's open state is guarded the same way.

  /// The file this group belongs to; kept alive by the group.
  public let file: HDF5File
  /// The group's absolute path in the file, for error messages.
  public let path: String

  private enum Location {
    /// The root group is addressed through the file identifier, so that `file.root` needs no
    /// HDF5 call and cannot fail.
    case root
    case group(hid_t)
  }
  private let location: Location

  init(rootOf file: HDF5File) {
    self.file = file
    self.path = "/"
    self.location = .root
  }

  private init(file: HDF5File, id: hid_t, path: String) {
    self.file = file
    self.path = path
    self.location = .group(id)
  }

  deinit {
    guard case .group(let id) = location else { return }
    withHDF5 {
      // After file.close() the strong close degree has already closed this group.
      if file.id >= 0 && H5Iis_valid(id) > 0 { H5Gclose(id) }
    }
  }

  // MARK: - Shared plumbing (call with the HDF5 lock held)

  /// The absolute path of `name` in the file, for error messages.
  func objectPath(_ name: String?) -> String {
    guard let name, !name.isEmpty, name != "." else { return path }
    if name.hasPrefix("/") { return name }
    return path == "/" ? "/" + name : path + "/" + name
  }

  func site(_ name: String?) -> HDF5Site {
    HDF5Site(file: file.path, object: objectPath(name))
  }

  /// The identifier HDF5 calls use for this group; throws once the file is closed.
  func locationID(site: HDF5Site) throws -> hid_t {
    let fileID = try file.openID(site: site)
    switch location {
    case .root: return fileID
    case .group(let id): return id
    }
  }

  func requireWritable(site: HDF5Site) throws {
    guard file.isWritable else { throw site.error("file is open read-only") }
  }

  func requireName(_ name: String, site: HDF5Site) throws {
    guard !name.isEmpty else { throw site.error("empty object name") }
  }

  /// Whether `name` resolves to an object. H5Lexists fails (rather than saying false) when an
  /// intermediate component is missing, so each prefix of the path is checked in turn.
  func objectExists(_ name: String, at loc: hid_t) -> Bool {
    let components = name.split(separator: "/", omittingEmptySubsequences: true)
    guard !components.isEmpty else { return name.hasPrefix("/") }  // "/" is the root
    var prefix = name.hasPrefix("/") ? "/" : ""
    for (index, component) in components.enumerated() {
      prefix += (index == 0 ? "" : "/") + component
      if component == "." { continue }
      guard H5Lexists(loc, prefix, ggep_h5p_default()) > 0 else { return false }
    }
    // A soft link can exist while its target does not.
    return H5Oexists_by_name(loc, prefix, ggep_h5p_default()) > 0
  }

  /// The kind of object `name` is, or nil if there is none.
  func objectType(_ name: String, at loc: hid_t, site: HDF5Site) throws -> H5O_type_t? {
    guard objectExists(name, at: loc) else { return nil }
    var info = H5O_info_t()
    try site.status(
      H5Oget_info_by_name2(loc, name, &info, UInt32(H5O_INFO_BASIC), ggep_h5p_default()),
      "could not inspect object")
    return info.type
  }

  /// Throws "… not found" unless `name` is an object of the `expected` kind.
  func requireObject(
    _ name: String, _ expected: H5O_type_t, at loc: hid_t, site: HDF5Site
  ) throws {
    let kind = expected == H5O_TYPE_GROUP ? "group" : "dataset"
    guard let type = try objectType(name, at: loc, site: site) else {
      throw site.error("\(kind) not found")
    }
    guard type == expected else {
      throw site.error("is a \(type == H5O_TYPE_GROUP ? "group" : "non-group object"), not a \(kind)")
    }
  }

  /// A link creation list that creates missing intermediate groups (so `"a/b/c"` works in one
  /// call) and marks link names as UTF-8 (as h5py does), so non-ASCII names read back intact.
  func makeLinkCreationList(site: HDF5Site) throws -> hid_t {
    let lcpl = try site.id(H5Pcreate(ggep_h5p_link_create()), "could not create a link creation list")
    do {
      try site.status(H5Pset_create_intermediate_group(lcpl, 1), "could not set intermediate group creation")
      try site.status(H5Pset_char_encoding(lcpl, H5T_CSET_UTF8), "could not set the link name encoding")
    } catch {
      H5Pclose(lcpl)
      throw error
    }
    return lcpl
  }

  // MARK: - Groups and links

  /// Creates a group, and any missing groups on its path. Creating a group that exists is an
  /// error, so that two parts of a program cannot unknowingly share one.
  public func createGroup(_ name: String) throws -> HDF5Group {
    try withHDF5 {
      let site = site(name)
      try requireName(name, site: site)
      try requireWritable(site: site)
      let loc = try locationID(site: site)
      if objectExists(name, at: loc) { throw site.error("already exists") }
      let lcpl = try makeLinkCreationList(site: site)
      defer { H5Pclose(lcpl) }
      let id = try site.id(
        H5Gcreate2(loc, name, lcpl, ggep_h5p_default(), ggep_h5p_default()), "could not create group")
      return HDF5Group(file: file, id: id, path: site.object)
    }
  }

  /// Opens an existing group.
  public func openGroup(_ name: String) throws -> HDF5Group {
    try withHDF5 {
      let site = site(name)
      try requireName(name, site: site)
      let loc = try locationID(site: site)
      try requireObject(name, H5O_TYPE_GROUP, at: loc, site: site)
      let id = try site.id(H5Gopen2(loc, name, ggep_h5p_default()), "could not open group")
      return HDF5Group(file: file, id: id, path: site.object)
    }
  }

  /// Whether `name` (a path) names an object; false, not an error, when the file is closed.
  public func exists(_ name: String) -> Bool {
    withHDF5 {
      guard !name.isEmpty, let loc = try? locationID(site: site(name)) else { return false }
      return objectExists(name, at: loc)
    }
  }

  /// The names of the group's direct members, in HDF5's name order (bytewise UTF-8, which is
  /// also how h5py lists them), so listings are stable from run to run.
  public func memberNames() throws -> [String] {
    try withHDF5 {
      let site = site(nil)
      let loc = try locationID(site: site)
      var names: [String] = []
      var index: hsize_t = 0
      let status = withUnsafeMutablePointer(to: &names) { pointer in
        H5Literate_by_name(loc, ".", H5_INDEX_NAME, H5_ITER_INC, &index, { _, name, _, data in
          guard let name, let data else { return -1 }
          data.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
          return 0
        }, pointer, ggep_h5p_default())
      }
      try site.status(status, "could not list members")
      return names
    }
  }

  /// Whether `name` is a group (false for a dataset); an error if there is no such object.
  public func isGroup(_ name: String) throws -> Bool {
    try withHDF5 {
      let site = site(name)
      let loc = try locationID(site: site)
      guard let type = try objectType(name, at: loc, site: site) else { throw site.error("not found") }
      return type == H5O_TYPE_GROUP
    }
  }

  /// Removes the link `name` (with everything below it if it is a group). HDF5 does not give
  /// the space back: the file keeps its size until rewritten (h5repack, or a new atomic write).
  public func remove(_ name: String) throws {
    try withHDF5 {
      let site = site(name)
      try requireName(name, site: site)
      try requireWritable(site: site)
      let loc = try locationID(site: site)
      guard objectExists(name, at: loc) else { throw site.error("not found") }
      try site.status(H5Ldelete(loc, name, ggep_h5p_default()), "could not remove")
    }
  }
}
