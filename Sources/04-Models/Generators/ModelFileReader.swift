import GGEPCore

/// A model file opened for reading, shared by every model's loader: the one place that opens
/// the file, requires attributes, reads a tensor with its shape and finiteness checked, and
/// compares the stored checksum with the weights' — each failure a `ModelFileError` naming the
/// file and the dataset or attribute.
final class ModelFileReader {
  let path: String
  private let file: HDF5File
  let root: HDF5Group
  let attributes: Set<String>

  init(_ path: String) throws {
    self.path = path
    do {
      file = try HDF5File.open(path)
    } catch let error as HDF5Error {
      throw ModelFileError(file: path, object: "", message: error.message)
    }
    root = file.root
    do {
      attributes = Set(try root.attributeNames())
    } catch {
      try? file.close()
      throw error
    }
  }

  deinit { try? file.close() }

  func fail(_ object: String, _ message: String) -> ModelFileError {
    ModelFileError(file: path, object: object, message: message)
  }

  /// A string attribute of the root that must be there.
  func required(_ name: String) throws -> String {
    guard attributes.contains(name) else { throw fail("/", "missing attribute '\(name)'") }
    return try root.stringAttribute(name)
  }

  /// The float32 dataset at `name` (a path below the root), which must have `shape` and only
  /// finite values; `isWeight` says "(in × out)" in a shape error.
  func tensor(_ name: String, shape: [Int], isWeight: Bool) throws -> [Float] {
    let object = "/" + name
    guard root.exists(name) else { throw fail(object, "missing dataset") }
    guard try !root.isGroup(name) else { throw fail(object, "is a group, expected a dataset") }
    let found = try root.shape(of: name)
    guard found == shape else { throw fail(object, "has shape \(found), expected \(shape)\(isWeight ? " (in × out)" : "")") }
    let values = try root.readFloats(name).values
    if let problem = FiniteWeights.problem(values) { throw fail(object, problem) }
    return values
  }

  /// The stored `checksum` must be the weights' (`computed`): a file edited after it was
  /// written, or damaged, is refused with both.
  func checkChecksum(_ computed: String) throws {
    let stored = try required("checksum")
    guard stored == computed else {
      throw fail("/", "checksum mismatch: the file records \(stored) but its weights hash to \(computed)")
    }
  }
}
