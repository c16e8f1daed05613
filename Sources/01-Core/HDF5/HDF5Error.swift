import Foundation

/// A failed HDF5 operation, named by file and by the object inside the file, because a
/// message such as "dataset not found" is useless in a sweep that writes hundreds of files.
///
/// Printed as `results.h5: /runs/cosine: dataset not found`.
public struct HDF5Error: UserFacingError {
  /// The file's path on disk.
  public let path: String
  /// The object's absolute path inside the file (`/runs/cosine`), or empty for the file itself.
  public let object: String
  /// What went wrong, with HDF5's own innermost reason in parentheses when it gave one.
  public let message: String

  public init(path: String, object: String, message: String) {
    self.path = path
    self.object = object
    self.message = message
  }

  public var description: String {
    object.isEmpty ? "\(path): \(message)" : "\(path): \(object): \(message)"
  }
}
