import Foundation
import GGEPCore

/// How a kind's results are summarised: which columns label a row by default, the metric
/// averaged, and which columns tell apart swept settings that share a label.
public struct SummarySpec: Sendable {
  /// Columns every default grouping starts with (GEP: problem, algorithm).
  public var labels: [String]
  /// Sweep axes that are columns of their own (GEP: problem, algorithm, generator, m, seed);
  /// any other axis groups by its `sweep.<path>` column.
  public var axisColumns: [String]
  /// Columns appended when not already there (GEP: m, the x of every figure).
  public var trailing: [String]
  /// Per swept axis, columns that separate values one label would pool (GEP: `algorithm` →
  /// `eta`, `eta_lambda1`: `{kind: prfm, eta: 0.05}` and `{kind: prfm, eta: 0.1}` both read PRFM).
  public var refinements: [String: [String]]
  /// The kind's columns `--by` accepts (besides the generic ones and swept paths).
  public var columns: [String]
  /// The averaged column, its heading, and a 0/1 column that says whether a row has one (GEP:
  /// cosine, only where there is a truth; else the table says n/a).
  public var metric: String
  public var metricTitle: String
  public var metricPresence: String?

  public init(
    labels: [String], axisColumns: [String], trailing: [String], refinements: [String: [String]], columns: [String],
    metric: String, metricTitle: String, metricPresence: String? = nil
  ) {
    self.labels = labels
    self.axisColumns = axisColumns
    self.trailing = trailing
    self.refinements = refinements
    self.columns = columns
    self.metric = metric
    self.metricTitle = metricTitle
    self.metricPresence = metricPresence
  }
}

/// Mean ± standard deviation of a kind's metric (and time) per group of jobs — for GEP, the
/// cosine similarity: the paper's Figure 2 numbers as a table (docs/mathematics.md §6).
///
/// Standard deviations are sample standard deviations (n − 1), over the signals and trials of
/// a group; failed jobs are counted but left out of the statistics.
public struct SummaryTable: Sendable {
  public struct Row: Sendable {
    public var keys: [String]
    public var jobs: Int
    public var failed: Int
    public var metricMean: Double
    public var metricStd: Double
    public var timeMean: Double
    /// False when no finished job of the group has the metric (GEP: user data without truth):
    /// shown as "n/a".
    public var hasMetric: Bool = true
  }

  public var spec: SummarySpec
  public var groupBy: [String]
  public var rows: [Row]

  public struct UnknownColumn: UserFacingError {
    public let name: String
    public let available: [String]
    public var description: String { "--by: no column \"\(name)\"; available: \(available.joined(separator: ", "))" }
  }

  /// The generic columns `--by` accepts for every kind.
  public static let genericColumns = ["signal", "trial", "status"]

  /// The default grouping: the kind's labels, each swept config path, the trailing columns —
  /// and, where a swept value is a whole mapping that its label does not tell apart, the column
  /// that does (a refinement, else the swept value itself). So settings that were swept are
  /// never pooled into one row.
  public static func defaultGrouping(provenance: RunProvenance, records: [JobRecord]) -> [String] {
    let spec = ResultsFile.kind(provenance).summary
    var columns = spec.labels
    for axis in provenance.sweepAxes {
      let column = spec.axisColumns.contains(axis) ? axis : "sweep.\(axis)"
      if !columns.contains(column) { columns.append(column) }
    }
    for column in spec.trailing where !columns.contains(column) { columns.append(column) }
    for axis in provenance.sweepAxes {
      let swept = "sweep.\(axis)"
      guard !columns.contains(swept), pools(records, by: columns, axis: axis) else { continue }
      let candidates = (spec.refinements[axis] ?? []) + [swept]
      let choice = candidates.first { !pools(records, by: columns + [$0], axis: axis) } ?? swept
      // Next to the label it refines (`algorithm`, then `eta`), not at the end.
      let position = (columns.firstIndex(of: axis) ?? columns.count - 1) + 1
      columns.insert(choice, at: position)
    }
    return columns
  }

  /// Whether grouping `records` by `columns` puts jobs of different values of `axis` in one row.
  package static func pools(_ records: [JobRecord], by columns: [String], axis: String) -> Bool {
    var seen: [[String]: String] = [:]
    for record in records {
      let key = columns.map { value(of: $0, in: record) }
      let swept = record.sweepValues[axis] ?? ""
      if let earlier = seen[key], earlier != swept { return true }
      seen[key] = swept
    }
    return false
  }

  public static func availableColumns(_ records: [JobRecord], spec: SummarySpec) -> [String] {
    spec.columns + genericColumns + Set(records.flatMap(\.sweepValues.keys)).sorted().map { "sweep.\($0)" }
  }

  /// Groups `records` (of one kind, whose `spec` says how) by `groupBy`.
  public init(records: [JobRecord], groupBy: [String], spec: SummarySpec) throws {
    self.spec = spec
    let available = Self.availableColumns(records, spec: spec)
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
      let present = ok.filter { record in spec.metricPresence.map { record.value(of: $0)?.integer != 0 } ?? true }
      let metric = present.map { $0.value(of: spec.metric)?.real ?? .nan }
      return Row(
        keys: key, jobs: group.count, failed: group.count - ok.count, metricMean: Self.mean(metric),
        metricStd: Self.sampleStd(metric), timeMean: Self.mean(ok.map(\.wallTime)),
        hasMetric: ok.isEmpty || !present.isEmpty)
    }
  }

  /// A column's value as a table shows it: reals without trailing zeros, NaN as "-".
  package static func value(of column: String, in r: JobRecord) -> String {
    switch r.value(of: column) {
    case .text(let x): return x
    case .integer(let x): return String(x)
    case .real(let x): return x.isNaN ? "-" : formatNumber(x)
    case nil: return ""
    }
  }

  package static func mean(_ x: [Double]) -> Double { x.isEmpty ? .nan : x.reduce(0, +) / Double(x.count) }
  package static func sampleStd(_ x: [Double]) -> Double {
    guard x.count > 1 else { return .nan }
    let mu = mean(x)
    return (x.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(x.count - 1)).squareRoot()
  }

  public func markdown() -> String {
    let header = groupBy.map { $0.hasPrefix("sweep.") ? String($0.dropFirst(6)) : $0 } + ["jobs", "\(spec.metricTitle) (mean ± std)", "time/job (s)"]
    var lines = ["| " + header.joined(separator: " | ") + " |", "|" + header.map { _ in "---" }.joined(separator: "|") + "|"]
    for row in rows {
      var metric = row.metricMean.isNaN ? (row.hasMetric ? "–" : "n/a") : String(format: "%.4f", row.metricMean)
      if !row.metricStd.isNaN { metric += String(format: " ± %.4f", row.metricStd) }
      let jobs = row.failed > 0 ? "\(row.jobs) (\(row.failed) failed)" : "\(row.jobs)"
      let time = row.timeMean.isNaN ? "–" : String(format: "%.3f", row.timeMean)
      lines.append("| " + (row.keys + [jobs, metric, time]).joined(separator: " | ") + " |")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  public func csv() -> String {
    let header = groupBy + ["jobs", "failed", "\(spec.metric)_mean", "\(spec.metric)_std", "time_mean"]
    var lines = [header.map(Self.csvField).joined(separator: ",")]
    for row in rows {
      let numbers = [
        String(row.jobs), String(row.failed), row.hasMetric ? Self.csvNumber(row.metricMean) : "n/a",
        row.hasMetric ? Self.csvNumber(row.metricStd) : "n/a", Self.csvNumber(row.timeMean),
      ]
      lines.append((row.keys.map(Self.csvField) + numbers).joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  package static func csvField(_ s: String) -> String {
    s.contains(where: { ",\"\n".contains($0) }) ? "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : s
  }
  package static func csvNumber(_ x: Double) -> String { x.isNaN ? "" : String(format: "%.6g", x) }
}

package func formatNumber(_ x: Double) -> String {
  x == x.rounded() && Swift.abs(x) < 1e15 ? String(Int(x)) : String(x)
}
