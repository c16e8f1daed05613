import Foundation
import GGEPCore
import GGEPPrior
import GGEPModels
import GGEPConfig
import GGEPPipeline
import GGEPPlot
import GGEPComponents

/// `ggep report` for inversion results (docs/mathematics.md §10), in the style of Aberdam et al.'s Figure 4:
/// each method's median latent SNR against the swept parameter, with 25–75% bars and 10–90%
/// whiskers; success rates; tables of the same with per-layer SNRs, the uniqueness prediction
/// and time per inversion; image grids when the generator is a trained image model.
enum InversionReport {
  /// Columns a sweep may vary that make a figure's x axis, in order of preference.
  static let axes = ["k", "expansion", "n_hidden1", "n", "noise_snr_db", "noise_sigma", "mask_fraction", "hidden_rows"]
  static let axisTitles = [
    "n_hidden1": "first hidden width n1", "k": "latent dimension k", "n": "output dimension n", "noise_snr_db": "noise SNR (dB)",
    "noise_sigma": "noise standard deviation", "expansion": "expansion per layer (n/k)^(1/L)",
    "mask_fraction": "fraction of x hidden", "hidden_rows": "top rows hidden",
  ]

  /// A figure panel: the jobs with one value of every varying column but the axis.
  struct Panel {
    var title: String
    var records: [JobRecord]
  }

  static func write(results paths: [String], to directory: String, title: String) throws -> [String] {
    var records: [JobRecord] = []
    var provenances: [RunProvenance] = []
    for path in paths {
      let (provenance, rows) = try ResultsFile.read(path)
      provenances.append(provenance)
      records += rows
    }
    records = Self.labelVariants(records)
    try FileSystem.createDirectory(directory)
    var written: [String] = []
    func save(_ name: String, _ text: String) throws {
      let file = (directory as NSString).appendingPathComponent(name)
      try FigureFile.write(text, to: file)
      written.append(file)
    }
    let name = title.isEmpty ? provenances.map(\.name).joined(separator: " + ") : title

    if provenances.count == 1 {
      let summary = try SummaryTable(
        records: records, groupBy: SummaryTable.defaultGrouping(provenance: provenances[0], records: records), spec: InversionKind().summary)
      try save("summary.md", summary.markdown())
      try save("summary.csv", summary.csv())
    }

    let axis = axes.first { column in Set(records.map { $0.value(of: column)?.description ?? "" }).count > 1 }
    let panels = Self.panels(records, axis: axis)
    try save("table.md", table(panels, axis: axis, name: name))

    if let axis {
      // Widths and dimensions are swept over decades: a log axis when the values span 4× or more.
      let values = records.map { axisValue($0, axis) }.filter { $0.isFinite }
      let logarithmic = ["k", "n_hidden1", "n", "expansion"].contains(axis) && (values.min() ?? 0) > 0
        && (values.max() ?? 0) >= 4 * (values.min() ?? 1)
      let caption = "Points: median over jobs; bars: 25th–75th percentile; whiskers: 10th–90th. A failed job counts as -inf dB."
      let snr = panels.map { panel in
        LinePlot(
          title: panel.title, xLabel: axisTitles[axis] ?? axis, yLabel: "latent SNR (dB)",
          series: methods(panel.records).map { method in
            LinePlot.Series(
              name: method,
              points: axisValues(panel.records, axis).compactMap { value in
                let jobs = panel.records.filter { $0[InversionColumn.method] == method && axisValue($0, axis) == value }
                let q = quantiles(latentSNRs(jobs))
                guard q.median.isFinite else { return nil }
                // Bars are clipped to the axis: a −219 dB tail would flatten every other line.
                func clip(_ v: Double) -> Double { min(max(v, -25), 105) }
                return LinePlot.Point(
                  x: value, y: q.median, range: clip(q.p25)...max(clip(q.p25), clip(q.p75)), outer: clip(q.p10)...max(clip(q.p10), clip(q.p90)))
              })
          },
          yRange: -20...100, xLogarithmic: logarithmic)
      }
      let success = panels.map { panel in
        LinePlot(
          title: panel.title, xLabel: axisTitles[axis] ?? axis, yLabel: "success rate",
          series: methods(panel.records).map { method in
            LinePlot.Series(
              name: method,
              points: axisValues(panel.records, axis).map { value in
                let jobs = panel.records.filter { $0[InversionColumn.method] == method && axisValue($0, axis) == value }
                return LinePlot.Point(x: value, y: successRate(jobs))
              })
          },
          yRange: 0...1, xLogarithmic: logarithmic)
      }
      for ext in ["svg", "png"] {
        let snrFile = (directory as NSString).appendingPathComponent("figure_snr.\(ext)")
        try FigureRenderer.write(snr, to: snrFile, title: "\(name): latent SNR against \(axisTitles[axis] ?? axis)", caption: caption)
        let successFile = (directory as NSString).appendingPathComponent("figure_success.\(ext)")
        try FigureRenderer.write(
          success, to: successFile, title: "\(name): success rate against \(axisTitles[axis] ?? axis)",
          caption: "Share of jobs whose latent SNR reaches 40 dB (failed jobs count as failures).")
        written += [snrFile, successFile]
      }
    }
    if axis == nil {
      // Say why there is no figure rather than leave the reader to look for one.
      FileHandle.standardError.write(Data((
        "note: \(name): no SNR or success figure: nothing that makes an x axis varies across the jobs "
          + "(one of \(axes.joined(separator: ", "))); table.md compares the methods\n").utf8))
    }
    written += try imageGrids(records, axis: axis, name: name, directory: directory)
    return written
  }

  // MARK: - Grouping

  /// Each record's `method` as a line of a figure or table: the method's name, and where one
  /// name ran with several settings (`support_threshold` swept, two hybrids), those settings
  /// (`latent-pursuit (support_threshold: 0.001)`), so that no two settings are pooled.
  static func labelVariants(_ records: [JobRecord]) -> [JobRecord] {
    func residue(_ r: JobRecord) -> String {
      var parts: [String] = []
      for (axis, value) in r.sweepValues.sorted(by: { $0.key < $1.key }) {
        if axis == "method" {
          let text = value.trimmingCharacters(in: .whitespaces)
          guard text.hasPrefix("{"), text.hasSuffix("}") else { continue }
          parts += text.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.hasPrefix("kind:") }
        } else if axis.hasPrefix("method.") {
          parts.append("\(axis.dropFirst(7)): \(value)")
        }
      }
      return parts.joined(separator: ", ")
    }
    let residues = records.map(residue)
    var variants: [String: Set<String>] = [:]
    for (r, res) in zip(records, residues) { variants[r[InversionColumn.method], default: []].insert(res) }
    return zip(records, residues).map { r, res in
      guard (variants[r[InversionColumn.method]]?.count ?? 0) > 1, !res.isEmpty else { return r }
      var labelled = r
      labelled[InversionColumn.method] = "\(r[InversionColumn.method]) (\(res))"
      return labelled
    }
  }

  static func axisValue(_ record: JobRecord, _ axis: String) -> Double {
    switch record.value(of: axis) {
    case .integer(let v): return Double(v)
    case .real(let v): return v
    default: return .nan
    }
  }

  static func axisValues(_ records: [JobRecord], _ axis: String) -> [Double] {
    Array(Set(records.map { axisValue($0, axis) }.filter(\.isFinite))).sorted()
  }

  /// Methods in a fixed order (the papers' first), then any other in order of appearance.
  static func methods(_ records: [JobRecord]) -> [String] {
    let order = ["adam", "hybrid", "latent-pursuit", "latent-pursuit-debiased", "layered-bp", "lp", "lp-noiseless", "oracle"]
    var seen: [String] = []
    for r in records where !seen.contains(r[InversionColumn.method]) { seen.append(r[InversionColumn.method]) }
    // By the base name's place in `order` (variants of one method together), then as they came.
    func rank(_ label: String) -> Int {
      let base = label.split(separator: " ", maxSplits: 1).first.map(String.init) ?? label
      return order.firstIndex(of: base) ?? order.count
    }
    return seen.enumerated().sorted { (rank($0.element), $0.offset) < (rank($1.element), $1.offset) }.map(\.element)
  }

  /// One panel per combination of the other varying columns (the generator's widths, the
  /// corruption), titled by them.
  static func panels(_ records: [JobRecord], axis: String?) -> [Panel] {
    // A column splits the panels only where it is not a function of the axis (n₁ as the axis
    // varies the widths with it; a k sweep at scaled widths varies n₁ with k).
    let varying = (["widths", "generator"] + axes).filter { $0 != axis }.filter { column in
      guard Set(records.map { $0.value(of: column)?.description ?? "" }).count > 1 else { return false }
      guard let axis else { return true }
      let byValue = Dictionary(grouping: records, by: { axisValue($0, axis) })
      return byValue.values.contains { Set($0.map { $0.value(of: column)?.description ?? "" }).count > 1 }
    }
    var order: [String] = []
    var groups: [String: [JobRecord]] = [:]
    for r in records {
      let label = varying.map { "\($0) = \(r.value(of: $0).map(display) ?? "")" }.joined(separator: ", ")
      if groups[label] == nil { order.append(label) }
      groups[label, default: []].append(r)
    }
    let fixed = ["widths", "noise_snr_db", "noise_sigma", "mask_fraction", "hidden_rows"].filter { !varying.contains($0) && $0 != axis }
    return order.map { label in
      let first = groups[label]![0]
      let context = fixed.compactMap { column -> String? in
        guard let value = first.value(of: column) else { return nil }
        switch column {
        case "noise_snr_db": return value.real.map { $0.isNaN ? nil : "noise \(formatNumber($0)) dB" } ?? nil
        case "noise_sigma": return value.real.map { $0.isNaN ? nil : "noise σ = \(formatNumber($0))" } ?? nil
        case "mask_fraction": return value.real.map { $0 == 0 ? nil : "\(formatNumber($0 * 100))% hidden" } ?? nil
        case "hidden_rows": return value.integer.map { $0 == 0 ? nil : "top \($0) rows hidden" } ?? nil
        default: return Set(groups[label]!.map { $0[InversionColumn.widths] }).count > 1 ? nil : "net \(display(value))"
        }
      }
      return Panel(title: ([label].filter { !$0.isEmpty } + context).joined(separator: "; "), records: groups[label]!)
    }
  }

  static func display(_ value: ColumnValue) -> String {
    switch value {
    case .text(let t): return t
    case .integer(let i): return String(i)
    case .real(let r): return r.isNaN ? "none" : formatNumber(r)
    }
  }

  // MARK: - Statistics

  /// Latent SNRs of jobs, failed ones as −∞ (a failure is worse than any recovery).
  static func latentSNRs(_ jobs: [JobRecord]) -> [Double] {
    jobs.map { $0.status == .ok ? $0[InversionColumn.snrLatentDB] : -.infinity }
  }

  static func successRate(_ jobs: [JobRecord]) -> Double {
    jobs.isEmpty ? .nan : Double(jobs.filter { $0.status == .ok && $0[InversionColumn.success] }.count) / Double(jobs.count)
  }

  /// Percentiles by linear interpolation between order statistics (numpy's default), so the
  /// tables can be re-derived with `numpy.percentile` (`Percentiles.percentile`).
  static func percentile(_ sorted: [Double], _ q: Double) -> Double {
    Percentiles.percentile(sorted, q)
  }

  static func quantiles(_ values: [Double]) -> (p10: Double, p25: Double, median: Double, p75: Double, p90: Double) {
    let sorted = values.filter { !$0.isNaN }.sorted()
    return (percentile(sorted, 0.1), percentile(sorted, 0.25), percentile(sorted, 0.5), percentile(sorted, 0.75), percentile(sorted, 0.9))
  }

  static func db(_ value: Double) -> String {
    value.isFinite ? String(format: "%.1f", value) : (value < 0 ? "fail" : "–")
  }

  // MARK: - Tables

  static func table(_ panels: [Panel], axis: String?, name: String) -> String {
    var out = ["# \(name)", ""]
    out.append("Latent SNR in dB: median [10th, 25th, 75th, 90th percentile] over jobs (a failed job counts as −∞, shown as `fail`); "
      + "success: latent SNR ≥ 40 dB; unique: share of jobs whose every layer docs/mathematics.md §10 predicts invertible uniquely; "
      + "time: median seconds per inversion (Adam's batched rows: the batch's time over its jobs).")
    out.append("")
    for panel in panels {
      if !panel.title.isEmpty { out += ["## \(panel.title)", ""] }
      let values: [Double?] = axis.map { a in axisValues(panel.records, a).map(Optional.some) } ?? [nil]
      let layers = (1...InversionKind.maxHiddenLayers).filter { l in panel.records.contains { $0.status == .ok && !$0[InversionColumn.snrLayer[l - 1]].isNaN } }
      let header = [axis ?? "", "method", "jobs", "latent SNR dB", "success", "unique"] + layers.map { "layer \($0) dB" }
        + ["output dB", "time (s)", "failed"]
      out.append("| " + header.joined(separator: " | ") + " |")
      out.append("|" + header.map { _ in "---" }.joined(separator: "|") + "|")
      for value in values {
        for method in methods(panel.records) {
          let jobs = panel.records.filter { $0[InversionColumn.method] == method && (value == nil || axisValue($0, axis!) == value!) }
          guard !jobs.isEmpty else { continue }
          let ok = jobs.filter { $0.status == .ok }
          let q = quantiles(latentSNRs(jobs))
          let median = { (column: Column<Double>) -> String in db(quantiles(ok.map { $0[column] }).median) }
          let unique = Double(jobs.filter { $0[InversionColumn.uniquePredicted] }.count) / Double(jobs.count)
          var row = [value.map { String(format: "%.4g", $0) } ?? "", method, String(jobs.count)]
          row.append("\(db(q.median)) [\(db(q.p10)), \(db(q.p25)), \(db(q.p75)), \(db(q.p90))]")
          row.append(String(format: "%.0f%%", 100 * successRate(jobs)))
          row.append(String(format: "%.0f%%", 100 * unique))
          row += layers.map { median(InversionColumn.snrLayer[$0 - 1]) }
          row.append(median(InversionColumn.snrOutputDB))
          row.append(String(format: "%.4g", quantiles(ok.map(\.wallTime)).median))
          row.append(String(jobs.count - ok.count))
          out.append("| " + row.joined(separator: " | ") + " |")
        }
      }
      out.append("")
      let failures = Dictionary(grouping: panel.records.filter { $0.status == .failed }, by: { "\($0[InversionColumn.method]): \($0.error)" })
      if !failures.isEmpty {
        out.append("Failed jobs:")
        for (reason, jobs) in failures.sorted(by: { $0.key < $1.key }) { out.append("- \(jobs.count) × \(reason)") }
        out.append("")
      }
    }
    return out.joined(separator: "\n")
  }

  // MARK: - Image grids

  /// For a trained image generator (square n, a model file): per axis value, the observed x and
  /// each method's G(ẑ) for up to 8 signals of trial 0.
  static func imageGrids(_ records: [JobRecord], axis: String?, name: String, directory: String) throws -> [String] {
    guard let first = records.first, !first[InversionColumn.generatorChecksum].isEmpty else { return [] }
    let n = first[InversionColumn.n], side = Int(Double(n).squareRoot().rounded())
    guard side * side == n else { return [] }
    var written: [String] = []
    let values: [Double?] = axis.map { a in axisValues(records, a).map(Optional.some) } ?? [nil]
    for value in values.prefix(6) {
      let jobs = records.filter { $0.trial == 0 && (value == nil || axisValue($0, axis!) == value!) }
      let signals = Array(Set(jobs.map(\.signal))).sorted().prefix(8)
      func row(_ label: String, _ pick: (Int) -> [Double]?) -> ImageGrid.Row? {
        let images = signals.map { pick($0) ?? [Double](repeating: 0, count: n) }
        return images.isEmpty ? nil : ImageGrid.Row(label: label, images: images)
      }
      let methodRows = methods(jobs).compactMap { method in
        row(method) { s in jobs.first { $0.signal == s && $0[InversionColumn.method] == method && $0.status == .ok }?[InversionColumn.xHat] }
      }
      let observed = row("observed x") { s in jobs.first { $0.signal == s }?[InversionColumn.x] }
      let rows = [observed].compactMap { $0 } + methodRows
      guard !rows.isEmpty else { continue }
      let suffix = value.map { "-\(axis!)=\(formatNumber($0))" } ?? ""
      let grid = try ImageGrid(
        title: "\(name): G(z-hat) per method" + (value.map { ", \(axis!) = \(formatNumber($0))" } ?? ""), rows: rows, scaling: .minMax)
      let file = (directory as NSString).appendingPathComponent("grid\(suffix).png")
      try grid.write(to: file)
      written.append(file)
    }
    return written
  }
}
