import GGEPCore
/// One of N deterministic parts of a plan (`--shard i/N`), for job arrays on a cluster.
///
/// Batches (never single jobs: a batch is the unit of work and of bitwise reproducibility) are
/// dealt round-robin in plan order: batch b belongs to shard b mod N. Every shard's share is
/// a function of the config alone, and N shards merged equal one unsharded run.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
  public let index: Int
  public let count: Int

  public init(index: Int, count: Int) {
    precondition(count >= 1 && (0..<count).contains(index))
    self.index = index
    self.count = count
  }

  public struct ParseError: UserFacingError {
    public let text: String
    public var description: String { "--shard: expected i/N with 0 ≤ i < N (e.g. 0/4), got \"\(text)\"" }
  }

  public init(parsing text: String) throws {
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (0..<n).contains(i) else {
      throw ParseError(text: text)
    }
    self.init(index: i, count: n)
  }

  public var description: String { "\(index)/\(count)" }

  /// The batches of `groups` (in plan order) that belong to this shard.
  public func select<T>(_ groups: [T]) -> [T] {
    groups.enumerated().filter { $0.offset % count == index }.map(\.element)
  }
}
