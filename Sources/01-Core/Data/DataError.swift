import Foundation

/// A data file that could not be used, named by its path: printed as
/// `data/mnist/train-images-idx3-ubyte.gz: truncated: …`.
public struct DataFileError: UserFacingError, Equatable {
  /// The file's path on disk.
  public let file: String
  /// What is wrong with it.
  public let message: String

  public init(file: String, message: String) {
    self.file = file
    self.message = message
  }

  public var description: String { "\(file): \(message)" }
}
