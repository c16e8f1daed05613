import Foundation
import GGEPCore
import GGEPModels
import GGEPNumerics

/// Mean ± standard deviation of the cosine similarity (and time) per group of jobs: the
/// paper's Figure 2 numbers as a table (SPEC 6).
///
/// Standard deviations are sample standard deviations (n − 1), over the signals and trials of
/// a group; failed jobs are counted but left out of the statistics.
public struct SummaryTable: Sendable {
  public struct Row: Sendable {
    public var keys: [String]
    public var jobs: Int
    public var failed: Int
    public var cosineMean: Double
    public var cosineStd: Double
    public var timeMean: Double
    /// False when no finished job of the group has a v* (user data without truth): the cosine
    /// is shown as "n/a".
    public var hasTruth: Bool = true
  }

  public var groupBy: [String]
  public var rows: [Row]

  public struct UnknownColumn: Error, CustomStringConvertible {
    public let name: String
    public let available: [String]
    public var description: String { "--by: no column \"\(name)\"; available: \(available.joined(separator: ", "))" }
  }

  /// The default grouping: problem and algorithm, each swept config path, and m — and, where a
  /// swept value is a whole mapping that its label does not tell apart (`algorithm:
  /// [{kind: prfm, eta: 0.05}, {kind: prfm, eta: 0.1}]` both read `PRFM`), the column that
  /// does: `eta` or `eta_lambda1` for the algorithm, else the swept value itself. So settings
  /// that were swept are never pooled into one row.
  public static func defaultGrouping(provenance: RunProvenance, records: [JobRecord]) -> [String] {
    var columns = ["problem", "algorithm"]
    for axis in provenance.sweepAxes {
      let column = ["problem", "algorithm", "generator", "m", "seed"].contains(axis) ? axis : "sweep.\(axis)"
      if !columns.contains(column) { columns.append(column) }
    }
    if !columns.contains("m") { columns.append("m") }
    for axis in provenance.sweepAxes {
      let swept = "sweep.\(axis)"
      guard !columns.contains(swept), pools(records, by: columns, axis: axis) else { continue }
      let candidates = axis == "algorithm" ? ["eta", "eta_lambda1", swept] : [swept]
      let choice = candidates.first { !pools(records, by: columns + [$0], axis: axis) } ?? swept
      // Next to the label it refines (`algorithm`, then `eta`), not at the end.
      let position = (columns.firstIndex(of: axis) ?? columns.count - 1) + 1
      columns.insert(choice, at: position)
    }
    return columns
  }

  /// Whether grouping `records` by `columns` puts jobs of different values of `axis` in one row.
  static func pools(_ records: [JobRecord], by columns: [String], axis: String) -> Bool {
    var seen: [[String]: String] = [:]
    for record in records {
      let key = columns.map { value(of: $0, in: record) }
      let swept = record.sweepValues[axis] ?? ""
      if let earlier = seen[key], earlier != swept { return true }
      seen[key] = swept
    }
    return false
  }

  /// The columns every results file can be grouped by; a swept config path is the others.
  public static let fixedColumns = [
    "problem", "generator", "algorithm", "projection", "m", "eta", "eta_lambda1", "seed", "signal", "trial", "status",
  ]

  public static func availableColumns(_ records: [JobRecord]) -> [String] {
    fixedColumns + Set(records.flatMap(\.sweepValues.keys)).sorted().map { "sweep.\($0)" }
  }

  public init(records: [JobRecord], groupBy: [String]) throws {
    let available = Self.availableColumns(records)
    var columns: [String] = []
    for name in groupBy {
      // A bare swept path (`algorithm.eta`) names its sweep column.
      let column = available.contains(name) ? name : "sweep.\(name)"
      guard available.contains(column) else { throw UnknownColumn(name: name, available: available) }
      columns.append(column)
    }
    self.groupBy = columns
    var order: [[String]] = []
    var members: [[String]: [JobRecord]] = [:]
    for record in records {
      let key = columns.map { Self.value(of: $0, in: record) }
      if members[key] == nil { order.append(key) }
      members[key, default: []].append(record)
    }
    rows = order.map { key in
      let group = members[key]!
      let ok = group.filter { $0.status == .ok }
      let cosines = ok.filter(\.hasTruth).map(\.cosine)
      return Row(
        keys: key, jobs: group.count, failed: group.count - ok.count, cosineMean: Self.mean(cosines),
        cosineStd: Self.sampleStd(cosines), timeMean: Self.mean(ok.map(\.wallTime)),
        hasTruth: ok.isEmpty || ok.contains(where: \.hasTruth))
    }
  }

  static func value(of column: String, in r: JobRecord) -> String {
    switch column {
    case "problem": return r.problem
    case "generator": return r.generator
    case "algorithm": return r.algorithm
    case "projection": return r.projection
    case "m": return String(r.m)
    case "eta": return r.eta.isNaN ? "-" : formatNumber(r.eta)
    case "eta_lambda1": return r.etaLambda1.isNaN ? "-" : formatNumber(r.etaLambda1)
    case "seed": return String(r.seed)
    case "signal": return String(r.signal)
    case "trial": return String(r.trial)
    case "status": return r.status.rawValue
    default: return r.sweepValues[String(column.dropFirst("sweep.".count))] ?? ""
    }
  }

  static func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }
  static func sampleStd(_ x: [Double]) -> Double {
    guard x.count > 1 else { return .nan }
    let mu = mean(x)
    return (x.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(x.count - 1)).squareRoot()
  }

  public func markdown() -> String {
    let header = groupBy.map { $0.hasPrefix("sweep.") ? String($0.dropFirst(6)) : $0 } + ["jobs", "cosine (mean ± std)", "time/job (s)"]
    var lines = ["| " + header.joined(separator: " | ") + " |", "|" + header.map { _ in "---" }.joined(separator: "|") + "|"]
    for row in rows {
      var cosine = row.cosineMean.isNaN ? (row.hasTruth ? "–" : "n/a") : String(format: "%.4f", row.cosineMean)
      if !row.cosineStd.isNaN { cosine += String(format: " ± %.4f", row.cosineStd) }
      let jobs = row.failed > 0 ? "\(row.jobs) (\(row.failed) failed)" : "\(row.jobs)"
      let time = row.timeMean.isNaN ? "–" : String(format: "%.3f", row.timeMean)
      lines.append("| " + (row.keys + [jobs, cosine, time]).joined(separator: " | ") + " |")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  public func csv() -> String {
    let header = groupBy + ["jobs", "failed", "cosine_mean", "cosine_std", "time_mean"]
    var lines = [header.map(Self.csvField).joined(separator: ",")]
    for row in rows {
      let numbers = [
        String(row.jobs), String(row.failed), row.hasTruth ? Self.csvNumber(row.cosineMean) : "n/a",
        row.hasTruth ? Self.csvNumber(row.cosineStd) : "n/a", Self.csvNumber(row.timeMean),
      ]
      lines.append((row.keys.map(Self.csvField) + numbers).joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  static func csvField(_ s: String) -> String {
    s.contains(where: { ",\"\n".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
  }
  static func csvNumber(_ x: Double) -> String { x.isNaN ? "" : String(format: "%.6g", x) }
}

func formatNumber(_ x: Double) -> String {
  x == x.rounded() && Swift.abs(x) < 1e15 ? String(Int(x)) : String(x)
}
