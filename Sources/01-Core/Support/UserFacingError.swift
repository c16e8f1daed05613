import Foundation

/// The one protocol of ggep's errors. Each is a value whose `description` is written for the
/// person running ggep: it names the file, key, job or value at fault and, where there is one,
/// what to do. Commands let these propagate unchanged; the CLI prints `Error: <description>`
/// and exits 1 (usage errors 64), and Foundation's own errors are turned into one line naming
/// the path first (`FileSystem.describe`).
public protocol UserFacingError: Error, CustomStringConvertible, LocalizedError {}

extension UserFacingError {
  /// So that `localizedDescription`, which some callers print, says the same.
  public var errorDescription: String? { description }
}

/// An error that is nothing but its message: the many failures whose text says everything
/// (a merge of two configs, a report asked of a missing problem, sbatch's refusal, …).
public struct UserError: UserFacingError, Equatable, Sendable {
  public let description: String
  public init(_ description: String) { self.description = description }
  public init(description: String) { self.description = description }
}
