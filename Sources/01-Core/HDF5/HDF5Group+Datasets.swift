import Foundation
import _HDF5

extension HDF5Group {
  /// Datasets of at least this many bytes are chunked and compressed; smaller ones are stored
  /// contiguously, where a chunk index and filter headers would cost more than they save.
  static let compressionThresholdBytes = 64 * 1024
  /// Upper bound for one chunk. HDF5's default chunk cache is 1 MiB per dataset, so chunks well
  /// below it are read without re-decompressing.
  static let chunkTargetBytes = 256 * 1024

  // MARK: - Writing

  /// Writes a dataset of doubles. `shape` is row-major (C order, as numpy) and defaults to
  /// `[values.count]`; `[]` writes a scalar. An existing dataset of that name is replaced.
  public func write(_ name: String, _ values: [Double], shape: [Int]? = nil) throws {
    try writeNumbers(name, values, shape: shape)
  }

  /// Writes a dataset of floats; see `write(_:_:shape:)` for doubles.
  public func write(_ name: String, _ values: [Float], shape: [Int]? = nil) throws {
    try writeNumbers(name, values, shape: shape)
  }

  /// Writes a dataset of 64-bit integers; see `write(_:_:shape:)` for doubles.
  public func write(_ name: String, _ values: [Int64], shape: [Int]? = nil) throws {
    try writeNumbers(name, values, shape: shape)
  }

  /// Writes a dataset of bytes (h5py reads `uint8`); see `write(_:_:shape:)` for doubles.
  public func write(_ name: String, _ values: [UInt8], shape: [Int]? = nil) throws {
    try writeNumbers(name, values, shape: shape)
  }

  /// Writes a 1-D dataset of variable-length UTF-8 strings, the type h5py uses for `str`.
  /// An existing dataset of that name is replaced.
  public func write(_ name: String, strings: [String]) throws {
    try withHDF5 {
      let site = site(name)
      let type = try HDF5Support.makeUTF8StringType(site: site)
      defer { H5Tclose(type) }
      // The strings are checked before the dataset exists, so a bad string leaves nothing behind.
      try HDF5Support.withCStrings(strings, site: site) { buffer in
        // Never compressed: only the references to the strings would be, not the strings.
        let dataset = try createDataset(name, type: type, shape: [strings.count], compressible: false, site: site)
        defer { H5Dclose(dataset) }
        guard !strings.isEmpty else { return }
        try site.status(
          H5Dwrite(dataset, type, ggep_h5s_all(), ggep_h5s_all(), ggep_h5p_default(), buffer),
          "could not write dataset")
      }
    }
  }

  private func writeNumbers<T: HDF5Numeric>(_ name: String, _ values: [T], shape: [Int]?) throws {
    try withHDF5 {
      let site = site(name)
      let shape = try HDF5Support.validate(shape: shape ?? [values.count], count: values.count, site: site)
      let dataset = try createDataset(
        name, type: T.hdf5Type, shape: shape, compressible: true, elementSize: MemoryLayout<T>.size, site: site)
      defer { H5Dclose(dataset) }
      guard !values.isEmpty else { return }  // nothing to write into a zero-sized dataset
      try values.withUnsafeBufferPointer { buffer in
        try site.status(
          H5Dwrite(dataset, T.hdf5Type, ggep_h5s_all(), ggep_h5s_all(), ggep_h5p_default(), buffer.baseAddress),
          "could not write dataset")
      }
    }
  }

  /// Creates dataset `name` (replacing an existing dataset, never a group) and returns its
  /// identifier, which the caller closes. Call with the HDF5 lock held.
  private func createDataset(
    _ name: String, type: hid_t, shape: [Int], compressible: Bool, elementSize: Int = 1, site: HDF5Site
  ) throws -> hid_t {
    try requireName(name, site: site)
    try requireWritable(site: site)
    let loc = try locationID(site: site)
    if let existing = try objectType(name, at: loc, site: site) {
      guard existing == H5O_TYPE_DATASET else { throw site.error("a group of that name exists") }
      try site.status(H5Ldelete(loc, name, ggep_h5p_default()), "could not remove the old dataset")
    }
    let space = try HDF5Support.makeDataspace(shape, site: site)
    defer { H5Sclose(space) }
    let lcpl = try makeLinkCreationList(site: site)
    defer { H5Pclose(lcpl) }
    let dcpl = try makeDatasetCreationList(
      shape: shape, elementSize: elementSize, compressible: compressible, site: site)
    defer { H5Pclose(dcpl) }
    return try site.id(
      H5Dcreate2(loc, name, type, space, lcpl, dcpl, ggep_h5p_default()), "could not create dataset")
  }

  /// Large numeric datasets get chunking with shuffle + deflate (level 4): result matrices of
  /// doubles compress well once their bytes are regrouped by significance, and every h5py
  /// install can read deflate. Skipped if this libhdf5 was built without zlib.
  ///
  /// Object modification times are not recorded, so that writing the same results twice gives
  /// the same dataset bytes (h5py's default too).
  private func makeDatasetCreationList(
    shape: [Int], elementSize: Int, compressible: Bool, site: HDF5Site
  ) throws -> hid_t {
    let dcpl = try site.id(H5Pcreate(ggep_h5p_dataset_create()), "could not create a dataset creation list")
    do {
      try site.status(H5Pset_obj_track_times(dcpl, false), "could not turn off time tracking")
      let count = shape.reduce(1, *)
      if compressible, !shape.isEmpty, count * elementSize >= Self.compressionThresholdBytes,
         H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0
      {
        let chunk = Self.chunkShape(for: shape, elementSize: elementSize).map { hsize_t($0) }
        try site.status(H5Pset_chunk(dcpl, Int32(chunk.count), chunk), "could not set the chunk shape")
        try site.status(H5Pset_shuffle(dcpl), "could not enable the shuffle filter")
        try site.status(H5Pset_deflate(dcpl, 4), "could not enable deflate compression")
      }
    } catch {
      H5Pclose(dcpl)
      throw error
    }
    return dcpl
  }

  /// Halves the axes in turn, first axis first (as h5py's chunk guesser does), until a chunk
  /// fits `chunkTargetBytes`. A chunk never exceeds the dataset, which HDF5 requires for
  /// fixed-size datasets.
  static func chunkShape(for shape: [Int], elementSize: Int) -> [Int] {
    var chunk = shape.map { max($0, 1) }
    let target = max(1, chunkTargetBytes / max(elementSize, 1))
    var axis = 0
    while chunk.reduce(1, *) > target, chunk.contains(where: { $0 > 1 }) {
      let index = axis % chunk.count
      chunk[index] = (chunk[index] + 1) / 2
      axis += 1
    }
    return chunk
  }

  // MARK: - Reading

  /// Reads a numeric dataset as doubles, converting from any integer or float storage as
  /// HDF5 does. Returns the values row-major and the shape (`[]` for a scalar).
  public func readDoubles(_ name: String) throws -> (values: [Double], shape: [Int]) {
    try readNumbers(name)
  }

  /// Reads a numeric dataset as floats (doubles are rounded by HDF5).
  public func readFloats(_ name: String) throws -> (values: [Float], shape: [Int]) {
    try readNumbers(name)
  }

  /// Reads an integer dataset as Int64. Floating-point storage is refused rather than
  /// truncated.
  public func readInt64s(_ name: String) throws -> (values: [Int64], shape: [Int]) {
    try readNumbers(name)
  }

  /// Reads an integer dataset as bytes. HDF5 clamps values outside 0...255 to the nearest
  /// bound; floating-point storage is refused.
  public func readUInt8s(_ name: String) throws -> (values: [UInt8], shape: [Int]) {
    try readNumbers(name)
  }

  /// Reads a string dataset of any shape, flattened row-major: variable-length strings (ggep,
  /// h5py `str`) and fixed-length ones (numpy `S` arrays written by h5py) alike.
  public func readStrings(_ name: String) throws -> [String] {
    try withHDF5 {
      let site = site(name)
      let dataset = try openDataset(name, site: site)
      defer { H5Dclose(dataset) }
      let type = try site.id(H5Dget_type(dataset), "could not read the dataset type")
      defer { H5Tclose(type) }
      let space = try site.id(H5Dget_space(dataset), "could not read the dataspace")
      defer { H5Sclose(space) }
      let count = try HDF5Support.shape(ofSpace: space, site: site).reduce(1, *)
      return try HDF5Support.readStrings(fileType: type, space: space, count: count, what: "dataset", site: site) {
        memType, buffer in
        H5Dread(dataset, memType, ggep_h5s_all(), ggep_h5s_all(), ggep_h5p_default(), buffer)
      }
    }
  }

  /// The shape of a dataset (`[]` for a scalar) without reading it.
  public func shape(of dataset: String) throws -> [Int] {
    try withHDF5 {
      let site = site(dataset)
      let id = try openDataset(dataset, site: site)
      defer { H5Dclose(id) }
      let space = try site.id(H5Dget_space(id), "could not read the dataspace")
      defer { H5Sclose(space) }
      return try HDF5Support.shape(ofSpace: space, site: site)
    }
  }

  private func readNumbers<T: HDF5Numeric>(_ name: String) throws -> (values: [T], shape: [Int]) {
    try withHDF5 {
      let site = site(name)
      let dataset = try openDataset(name, site: site)
      defer { H5Dclose(dataset) }
      let type = try site.id(H5Dget_type(dataset), "could not read the dataset type")
      defer { H5Tclose(type) }
      try HDF5Support.checkConvertible(T.self, fileType: type, what: "dataset", site: site)
      let space = try site.id(H5Dget_space(dataset), "could not read the dataspace")
      defer { H5Sclose(space) }
      let shape = try HDF5Support.shape(ofSpace: space, site: site)
      let count = shape.reduce(1, *)  // checked by shape(ofSpace:)
      try HDF5Support.checkFitsInMemory(count: count, elementSize: MemoryLayout<T>.stride, shape: shape, site: site)
      let values = try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
        if count > 0 {
          try site.status(
            H5Dread(dataset, T.hdf5Type, ggep_h5s_all(), ggep_h5s_all(), ggep_h5p_default(), buffer.baseAddress),
            "could not read dataset")
        }
        initialized = count
      }
      return (values, shape)
    }
  }

  /// Opens dataset `name`, saying "dataset not found" (rather than HDF5's traversal errors)
  /// when it is missing. The caller closes the identifier. Call with the HDF5 lock held.
  private func openDataset(_ name: String, site: HDF5Site) throws -> hid_t {
    try requireName(name, site: site)
    let loc = try locationID(site: site)
    try requireObject(name, H5O_TYPE_DATASET, at: loc, site: site)
    return try site.id(H5Dopen2(loc, name, ggep_h5p_default()), "could not open dataset")
  }
}
