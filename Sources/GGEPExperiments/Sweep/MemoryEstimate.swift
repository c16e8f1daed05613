import Foundation
import GGEPCore
import GGEPModels
import GGEPNumerics

/// The peak memory of a batch, estimated from its spec before anything is allocated, so that a
/// config too large for the machine is refused at plan time with the key to change — a failed
/// allocation in Swift is a crash with a backtrace, not an error one can catch (issue 12:
/// `--set m=1000000000` planned fine, then aborted the run trying to allocate 400 GB).
///
/// The terms, in bytes (8 per Double, 4 per Float), for a batch of J jobs:
///
///     sampled pair      J · 2·m·n·8          Â and B̂ as m × n sample matrices (Eq. 24, 25, GFDA, GCCA)
///                       + m·n·8              the next instance's draws while it is built
///     population pair   J · 2·n²·8           dense A and B
///     projection        J·R · (Σ widths)·4·3 activations and two gradient buffers (R restarts)
///                       + J·R · (k·4·4 + n·4) + J·n·8·2   Adam state, ∂L/∂G, targets
///     results           J · (2n + 2(T+1))·8  û, v*, the ρ and cosine histories
///
/// plus 64 MiB for the process itself. It errs high (the draws of an instance may be released
/// before the next is made), never low by more than the process's small allocations.
public struct MemoryEstimate: Sendable {
  public var bytes: Double
  /// The config key whose value drives the largest term (`m`, `generator.n`, `signal.count`).
  public var key: String
  public var value: String
  /// What the largest term is, in words.
  public var what: String
  public var jobs: Int

  static let processBase = 64.0 * 1024 * 1024

  /// The estimate for one batch of `jobs` jobs of `spec`.
  public init(spec: ExperimentSpec, jobs: Int) {
    let J = Double(jobs)
    let n = Double(spec.generator.n)
    let m = Double(spec.m)
    let T = Double(spec.algorithm.iterations)
    var terms: [(bytes: Double, key: String, value: String, what: String)] = []
    if spec.problem.userData != nil {
      // The file's matrices are loaded (once) when the plan is made: already in memory.
    } else if spec.problem.population {
      terms.append((J * 2 * n * n * 8, "generator.n", String(spec.generator.n), "dense population A and B: 2 × \(spec.generator.n)² doubles per job"))
    } else {
      terms.append((
        J * 2 * m * n * 8 + m * n * 8, "m", String(spec.m),
        "the samples of Â and B̂: 2 × \(spec.m) × \(spec.generator.n) doubles per job"
      ))
    }
    if spec.algorithm.method.kind != .rifle {
      let R = spec.projection.method == .adam ? Double(spec.projection.restarts) : 1
      let k = Double(spec.generator.k)
      let rows = J * R
      let projection = rows * Self.widths(spec.generator) * 4 * 3 + rows * (k * 16 + n * 4) + J * n * 16
      terms.append((projection, "signal.count", String(spec.signal.count), "the batched projection's buffers"))
    }
    terms.append((J * (2 * n + 2 * (T + 1)) * 8, "signal.count", String(spec.signal.count), "the results"))
    let largest = terms.max { $0.bytes < $1.bytes }!
    bytes = terms.reduce(Self.processBase) { $0 + $1.bytes } + Self.weights(spec.generator)
    key = largest.key
    value = largest.value
    what = largest.what
    self.jobs = jobs
  }

  /// Σ of the layer widths of the generator (input, hidden, output), for its workspace.
  static func widths(_ g: GeneratorSpec) -> Double {
    switch g.architecture {
    case .linear: return Double(g.k + g.n)
    case .reluRandom(let hidden): return Double(g.k + hidden + g.n)
    case .vaeMNIST: return Double(g.k + 1000 + g.n)  // the decoder's two hidden layers of 500
    case .product(let factors): return factors.map(widths).reduce(0, +)
    }
  }

  /// The generator's weights (shared by every batch).
  static func weights(_ g: GeneratorSpec) -> Double {
    switch g.architecture {
    case .linear: return Double(g.n * g.k) * 12  // Float weights and the Double basis
    case .reluRandom(let hidden): return Double((g.k + g.n) * hidden) * 4
    case .vaeMNIST: return Double(g.k * 500 + 500 * 500 + 500 * g.n) * 4
    case .product(let factors): return factors.map(weights).reduce(0, +)
    }
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
    (batches ?? groups).map { MemoryEstimate(spec: $0[0].spec, jobs: $0.count) }
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
          + (estimate.jobs > 1 ? ", or the jobs per batch (signal.count × trials = \(estimate.jobs))" : "")
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
