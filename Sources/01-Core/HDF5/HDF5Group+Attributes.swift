import Foundation
import _HDF5

/// Attributes: small named values attached to this group (`object` nil) or to the object
/// `object` below it (a dataset or group path). Meant for metadata such as configs, seeds and
/// versions; HDF5's earliest file format limits one attribute to about 64 KiB.
extension HDF5Group {
  // MARK: - Writing

  /// Sets a string attribute (scalar, variable-length UTF-8: h5py reads it as `str`),
  /// replacing any attribute of that name.
  public func setAttribute(_ name: String, _ value: String, on object: String? = nil) throws {
    try withHDF5 {
      let site = site(object)
      let type = try HDF5Support.makeUTF8StringType(site: site)
      defer { H5Tclose(type) }
      try HDF5Support.withCStrings([value], site: site) { buffer in
        try writeAttribute(name, on: object, type: type, shape: [], buffer: buffer, site: site)
      }
    }
  }

  /// Sets a scalar double attribute, replacing any attribute of that name.
  public func setAttribute(_ name: String, _ value: Double, on object: String? = nil) throws {
    try setNumbers(name, [value], shape: [], on: object)
  }

  /// Sets a scalar 64-bit integer attribute, replacing any attribute of that name.
  public func setAttribute(_ name: String, _ value: Int64, on object: String? = nil) throws {
    try setNumbers(name, [value], shape: [], on: object)
  }

  /// Sets a 1-D double array attribute (possibly empty), replacing any attribute of that name.
  public func setAttribute(_ name: String, _ values: [Double], on object: String? = nil) throws {
    try setNumbers(name, values, shape: [values.count], on: object)
  }

  /// Sets a 1-D 64-bit integer array attribute (possibly empty), replacing any attribute of
  /// that name.
  public func setAttribute(_ name: String, _ values: [Int64], on object: String? = nil) throws {
    try setNumbers(name, values, shape: [values.count], on: object)
  }

  private func setNumbers<T: HDF5Numeric>(_ name: String, _ values: [T], shape: [Int], on object: String?) throws {
    try withHDF5 {
      let site = site(object)
      try values.withUnsafeBufferPointer { buffer in
        try writeAttribute(
          name, on: object, type: T.hdf5Type, shape: shape, buffer: UnsafeRawPointer(buffer.baseAddress), site: site)
      }
    }
  }

  /// Creates attribute `name` on `object` from `buffer`, deleting an existing one first: HDF5
  /// cannot change an attribute's type or shape in place. Call with the HDF5 lock held.
  private func writeAttribute(
    _ name: String, on object: String?, type: hid_t, shape: [Int], buffer: UnsafeRawPointer?, site: HDF5Site
  ) throws {
    try requireName(name, site: site)
    try requireWritable(site: site)
    let (loc, target) = try attributeTarget(object, site: site)
    if try site.truth(H5Aexists_by_name(loc, target, name, ggep_h5p_default()), "could not look up attribute '\(name)'") {
      try site.status(H5Adelete_by_name(loc, target, name, ggep_h5p_default()), "could not replace attribute '\(name)'")
    }
    let space = try HDF5Support.makeDataspace(shape, site: site)
    defer { H5Sclose(space) }
    let attribute = try site.id(
      H5Acreate_by_name(loc, target, name, type, space, ggep_h5p_default(), ggep_h5p_default(), ggep_h5p_default()),
      "could not create attribute '\(name)'")
    defer { H5Aclose(attribute) }
    if shape.reduce(1, *) > 0 {
      try site.status(H5Awrite(attribute, type, buffer), "could not write attribute '\(name)'")
    }
  }

  // MARK: - Reading

  /// The attribute names of this group or of `object`, in HDF5's name order (bytewise UTF-8).
  public func attributeNames(on object: String? = nil) throws -> [String] {
    try withHDF5 {
      let site = site(object)
      let (loc, target) = try attributeTarget(object, site: site)
      var names: [String] = []
      var index: hsize_t = 0
      let status = withUnsafeMutablePointer(to: &names) { pointer in
        H5Aiterate_by_name(loc, target, H5_INDEX_NAME, H5_ITER_INC, &index, { _, name, _, data in
          guard let name, let data else { return -1 }
          data.assumingMemoryBound(to: [String].self).pointee.append(String(cString: name))
          return 0
        }, pointer, ggep_h5p_default())
      }
      try site.status(status, "could not list attributes")
      return names
    }
  }

  /// Reads a string attribute: variable-length (ggep, h5py `str`) or fixed-length (what h5py
  /// writes for numpy bytes). It must hold exactly one string.
  public func stringAttribute(_ name: String, on object: String? = nil) throws -> String {
    try withHDF5 {
      let site = site(object)
      let strings = try readAttribute(name, on: object, site: site) { attribute, type, space, count in
        try HDF5Support.readStrings(fileType: type, space: space, count: count, what: "attribute '\(name)'", site: site) {
          memType, buffer in H5Aread(attribute, memType, buffer)
        }
      }
      guard strings.count == 1 else {
        throw site.error("attribute '\(name)' holds \(strings.count) strings, not one")
      }
      return strings[0]
    }
  }

  /// Reads a numeric attribute holding one value as a double (integers are converted).
  public func doubleAttribute(_ name: String, on object: String? = nil) throws -> Double {
    try singleNumber(name, on: object)
  }

  /// Reads an integer attribute holding one value. Floating-point storage is refused rather
  /// than truncated.
  public func int64Attribute(_ name: String, on object: String? = nil) throws -> Int64 {
    try singleNumber(name, on: object)
  }

  /// Reads a numeric attribute of any shape as doubles, flattened row-major (a scalar gives
  /// one value).
  public func doublesAttribute(_ name: String, on object: String? = nil) throws -> [Double] {
    try withHDF5 { try numbers(name, on: object, site: site(object)) }
  }

  /// Reads an integer attribute of any shape as Int64s, flattened row-major.
  public func int64sAttribute(_ name: String, on object: String? = nil) throws -> [Int64] {
    try withHDF5 { try numbers(name, on: object, site: site(object)) }
  }

  private func singleNumber<T: HDF5Numeric>(_ name: String, on object: String?) throws -> T {
    try withHDF5 {
      let site = site(object)
      let values: [T] = try numbers(name, on: object, site: site)
      guard values.count == 1 else {
        throw site.error("attribute '\(name)' holds \(values.count) values, not one")
      }
      return values[0]
    }
  }

  private func numbers<T: HDF5Numeric>(_ name: String, on object: String?, site: HDF5Site) throws -> [T] {
    try readAttribute(name, on: object, site: site) { attribute, type, _, count in
      try HDF5Support.checkConvertible(T.self, fileType: type, what: "attribute '\(name)'", site: site)
      return try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
        if count > 0 {
          try site.status(H5Aread(attribute, T.hdf5Type, buffer.baseAddress), "could not read attribute '\(name)'")
        }
        initialized = count
      }
    }
  }

  /// Opens attribute `name` and hands `body` its identifier, stored type, dataspace and value
  /// count, closing all of them afterwards. Call with the HDF5 lock held.
  private func readAttribute<R>(
    _ name: String, on object: String?, site: HDF5Site,
    _ body: (_ attribute: hid_t, _ type: hid_t, _ space: hid_t, _ count: Int) throws -> R
  ) throws -> R {
    try requireName(name, site: site)
    let (loc, target) = try attributeTarget(object, site: site)
    guard try site.truth(H5Aexists_by_name(loc, target, name, ggep_h5p_default()), "could not look up attribute '\(name)'")
    else { throw site.error("attribute '\(name)' not found") }
    let attribute = try site.id(
      H5Aopen_by_name(loc, target, name, ggep_h5p_default(), ggep_h5p_default()), "could not open attribute '\(name)'")
    defer { H5Aclose(attribute) }
    let type = try site.id(H5Aget_type(attribute), "could not read the type of attribute '\(name)'")
    defer { H5Tclose(type) }
    let space = try site.id(H5Aget_space(attribute), "could not read the dataspace of attribute '\(name)'")
    defer { H5Sclose(space) }
    let count = try HDF5Support.shape(ofSpace: space, site: site).reduce(1, *)
    return try body(attribute, type, space, count)
  }

  /// The location identifier and object name for the H5A*_by_name calls: "." is this group
  /// itself. Checks that `object` exists, so a typo says "not found" instead of HDF5's
  /// traversal errors.
  private func attributeTarget(_ object: String?, site: HDF5Site) throws -> (hid_t, String) {
    let loc = try locationID(site: site)
    guard let object, !object.isEmpty else { return (loc, ".") }
    guard objectExists(object, at: loc) else { throw site.error("not found") }
    return (loc, object)
  }
}
