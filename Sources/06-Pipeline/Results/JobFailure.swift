import Foundation

/// A job that failed: its key and the recorded reason (`/runs/error`).
public struct JobFailure: Sendable, Equatable {
  public var key: String
  public var reason: String
  public init(key: String, reason: String) {
    self.key = key
    self.reason = reason
  }
}

/// The failures of a run grouped by reason and counted, for the end of `ggep run`.
///
/// Reasons that differ only in their numbers (`iteration 4: ρ_t = -0.012 ≤ 0 …` and
/// `iteration 9: ρ_t = -0.3 ≤ 0 …`) are one group, shown by its first example, so that 1 500
/// Rifle failures read as one line, not 1 500.
public enum FailureReport {
  public struct Group: Sendable {
    public var count: Int
    /// The first failure of the group, in plan order.
    public var example: JobFailure
    /// Whether the group's reasons differ in their numbers.
    public var numbersVary: Bool
  }

  public static func groups(_ failures: [JobFailure]) -> [Group] {
    var order: [String] = []
    var groups: [String: Group] = [:]
    for failure in failures {
      let template = maskNumbers(failure.reason)
      if var group = groups[template] {
        group.count += 1
        if failure.reason != group.example.reason { group.numbersVary = true }
        groups[template] = group
      } else {
        order.append(template)
        groups[template] = Group(count: 1, example: failure, numbersVary: false)
      }
    }
    return order.map { groups[$0]! }.sorted { $0.count > $1.count }
  }

  /// `12 of 240 jobs failed:` and one line per reason, the largest groups first.
  public static func text(_ failures: [JobFailure], of total: Int, limit: Int = 10) -> String {
    let all = groups(failures)
    var lines = ["\(failures.count) of \(total) jobs failed, by reason:"]
    for group in all.prefix(limit) {
      lines.append("  \(group.count) × \(group.example.reason)" + (group.numbersVary ? "  (numbers vary; first: job \(group.example.key))" : "  (first: job \(group.example.key))"))
    }
    if all.count > limit {
      let rest = all.dropFirst(limit).reduce(0) { $0 + $1.count }
      lines.append("  … \(rest) more in \(all.count - limit) other groups (the `error` column of /runs has every reason)")
    }
    return lines.joined(separator: "\n")
  }

  private static let number = try! NSRegularExpression(pattern: "[-+]?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?")

  package static func maskNumbers(_ text: String) -> String {
    number.stringByReplacingMatches(in: text, range: NSRange(text.startIndex..., in: text), withTemplate: "#")
  }
}
