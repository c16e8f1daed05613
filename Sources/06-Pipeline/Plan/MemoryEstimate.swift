import Foundation
import GGEPConfig

/// The peak memory of a batch, estimated from its spec before anything is allocated (each
/// kind's `KindSpec.memoryEstimate`), so that a config too large for the machine is refused at
/// plan time with the key to change — a failed allocation in Swift is a crash with a
/// backtrace, not an error one can catch (`--set m=1000000000` planned fine, then
/// aborted the run trying to allocate 400 GB).
public struct MemoryEstimate: Sendable {
  public var bytes: Double
  /// The config key whose value drives the largest term (`m`, `generator.n`, `signal.count`).
  public var key: String
  public var value: String
  /// What the largest term is, in words.
  public var what: String
  public var jobs: Int
  /// The config keys whose product is the jobs per batch, for the message that suggests fewer.
  public var batchKeys = "signal.count × trials"

  /// The process itself: code, libraries, the plan.
  public static let processBase = 64.0 * 1024 * 1024

  /// An estimate from its terms (bytes, the key that drives each, its value, what it is); the
  /// largest term names the key.
  public init(terms: [(bytes: Double, key: String, value: String, what: String)], shared: Double = 0, jobs: Int) {
    let largest = terms.max { $0.bytes < $1.bytes } ?? (0, "", "", "nothing")
    bytes = terms.reduce(Self.processBase + shared) { $0 + $1.bytes }
    key = largest.key
    value = largest.value
    what = largest.what
    self.jobs = jobs
  }
}

/// How much memory a run may use: `--max-memory`, or what the machine has available.
public struct MemoryBudget: Sendable, CustomStringConvertible {
  public var bytes: Double
  /// Where the figure comes from, for messages.
  public var source: String

  public init(bytes: Double, source: String) {
    self.bytes = bytes
    self.source = source
  }

  public var description: String { "\(Self.format(bytes)) (\(source))" }

  /// `MemAvailable` of /proc/meminfo, or less where a cgroup limit is lower (a container, a
  /// Slurm allocation).
  public static func available() -> MemoryBudget {
    var budget = MemoryBudget(bytes: .infinity, source: "no limit found")
    if let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
      let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
      let kilobytes = Double(line.split(separator: " ").dropFirst().first ?? "")
    {
      budget = MemoryBudget(bytes: kilobytes * 1024, source: "available memory, MemAvailable in /proc/meminfo")
    }
    for (limitFile, usageFile) in [
      ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"),
      ("/sys/fs/cgroup/memory/memory.limit_in_bytes", "/sys/fs/cgroup/memory/memory.usage_in_bytes"),
    ] {
      guard let limitText = try? String(contentsOfFile: limitFile, encoding: .utf8),
        let limit = Double(limitText.trimmingCharacters(in: .whitespacesAndNewlines)), limit < 1e18
      else { continue }
      let used = (try? String(contentsOfFile: usageFile, encoding: .utf8)).flatMap { Double($0.trimmingCharacters(in: .whitespacesAndNewlines)) } ?? 0
      if limit - used < budget.bytes { budget = MemoryBudget(bytes: limit - used, source: "the cgroup's limit, \(limitFile)") }
    }
    return budget
  }

  /// Parses `--max-memory`: bytes, or a number with K, M, G or T (powers of 1024; `GiB`, `GB`,
  /// `g` all mean the same).
  public static func parse(_ text: String) -> Double? {
    let trimmed = text.trimmingCharacters(in: .whitespaces).lowercased()
    let units: [(String, Double)] = [("t", 0x1p40), ("g", 0x1p30), ("m", 0x1p20), ("k", 0x1p10)]
    var number = trimmed
    var scale = 1.0
    for suffix in ["ib", "b"] where number.hasSuffix(suffix) && number.count > suffix.count {
      number.removeLast(suffix.count)
      break
    }
    if let (unit, factor) = units.first(where: { number.hasSuffix($0.0) }) {
      number.removeLast(unit.count)
      scale = factor
    }
    guard let value = Double(number.trimmingCharacters(in: .whitespaces)), value > 0, value.isFinite else { return nil }
    return value * scale
  }

  public static func format(_ bytes: Double) -> String {
    if bytes >= 0x1p30 { return String(format: "%.1f GiB", bytes / 0x1p30) }
    if bytes >= 0x1p20 { return String(format: "%.0f MiB", bytes / 0x1p20) }
    return String(format: "%.0f KiB", bytes / 1024)
  }
}

extension ExperimentPlan {
  /// Each batch's estimate (one per batch, in plan order).
  public func memoryEstimates(_ batches: [[JobSpec]]? = nil) -> [MemoryEstimate] {
    (batches ?? groups).map { $0[0].kindSpec.memoryEstimate(jobs: $0.count) }
  }

  /// Refuses the plan when one batch would need more than `budget`, naming the config key
  /// that drives the estimate, its value, the estimate and the budget.
  public func checkMemory(_ budget: MemoryBudget, batches: [[JobSpec]]? = nil) throws(ConfigError) {
    let batches = batches ?? groups
    for (batch, estimate) in zip(batches, memoryEstimates(batches)) where estimate.bytes > budget.bytes {
      let point = points.first { $0.groupKey == batch[0].groupKey }!
      var node: ConfigNode? = point.config
      var path = ConfigPath.root
      for part in estimate.key.split(separator: ".") {
        node = node?[String(part)]
        path = path.appending(String(part))
      }
      let mark = node?.mark ?? point.config.mark
      var error = ConfigError(
        at: mark, path: path,
        "a batch of \(estimate.jobs) job(s) needs about \(MemoryBudget.format(estimate.bytes)) at \(estimate.key) = \(estimate.value) "
          + "(mostly \(estimate.what)), more than the \(budget); lower \(estimate.key)"
          + (estimate.jobs > 1 ? ", or the jobs per batch (\(estimate.batchKeys) = \(estimate.jobs))" : "")
          + ", or set --max-memory if you know better")
      if !point.sweepLabels.isEmpty {
        error.context = "sweep point \(point.index + 1) of \(points.count): " + point.sweepLabels.map(\.description).joined(separator: ", ")
      }
      throw error
    }
  }

  /// The most batches that can run at once within `budget` (at least 1, at most `requested`):
  /// the largest batches are assumed to meet.
  public func workersWithin(_ budget: MemoryBudget, requested: Int, batches: [[JobSpec]]) -> Int {
    let largest = memoryEstimates(batches).map { $0.bytes - MemoryEstimate.processBase }.sorted(by: >)
    var workers = 0
    var total = MemoryEstimate.processBase
    for bytes in largest.prefix(requested) {
      guard total + bytes <= budget.bytes || workers == 0 else { break }
      total += bytes
      workers += 1
    }
    return max(1, min(requested, workers))
  }
}
