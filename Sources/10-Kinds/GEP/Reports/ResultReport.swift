import Foundation
import GGEPCore
import GGEPNumerics
import GGEPModels
import GGEPPipeline
import GGEPPlot
import GGEPComponents

/// The files a researcher looks at, built from one results file alone (`ggep report`):
///
/// * `figure2.svg`, `figure2.png`: mean cosine similarity against m, a line per method with
///   ±1 standard deviation error bars, a panel per problem (the paper's Figure 2);
/// * `figure1.png`: an image grid at one m — the ground truth row and a row per method, a
///   column per image (the paper's Figure 1), for signals whose n is a square;
/// * `summary.md`, `summary.csv`: the `summarize` table;
/// * `table.md`: cosine mean ± std with a row per (problem, method) and a column per m (the
///   appendix-D table's shape).
public enum ResultReport {
  public typealias Options = GEPReportOptions

  /// The paper's methods keep one colour and marker in every figure (PPower was green in
  /// Figure 2 and blue in another); other methods take the next free colour.
  static let methodStyles: [String: Int] = ["PPower": 0, "PRFM": 1, "Rifle20": 2, "Rifle100": 3]


  /// Writes the report into `directory`; returns the paths written.
  @discardableResult
  public static func write(results path: String, to directory: String, options: Options = Options()) throws -> [String] {
    let (provenance, records) = try ResultsFile.read(path)
    try FileSystem.createDirectory(directory)
    var written: [String] = []
    func save(_ name: String, _ text: String) throws {
      let file = (directory as NSString).appendingPathComponent(name)
      try FigureFile.write(text, to: file)
      written.append(file)
    }

    let summary = try SummaryTable(
      records: records, groupBy: SummaryTable.defaultGrouping(provenance: provenance, records: records), spec: GEPKind.summary)
    try save("summary.md", summary.markdown())
    try save("summary.csv", summary.csv())
    let panels: [LinePlot]
    let title: String
    // Figure 1 shows one image per method: at its chosen step, or a row per step.
    var gridRecords = records
    if options.bestStep {
      let selection = try BestStepSelection(records: records)
      gridRecords = selection.lines.flatMap(\.selected)
      try save("table.md", selection.markdownTable())
      try save("steps.md", selection.sensitivityTable())
      panels = selection.panels()
      title = "\(provenance.name): cosine against m, each method at its best step"
    } else {
      for (i, name) in seriesNames(records).enumerated() { gridRecords[i].algorithm = name }
      try save("table.md", methodByM(records))
      panels = figure2Panels(records)
      title = "\(provenance.name): mean cosine similarity against m"
    }
    if !panels.isEmpty {
      for ext in ["svg", "png"] {
        let file = (directory as NSString).appendingPathComponent("figure2.\(ext)")
        try FigureRenderer.write(panels, to: file, title: title, caption: figure2Caption(records))
        written.append(file)
      }
    }
    if let grid = try figure1(gridRecords, options: options) {
      let file = (directory as NSString).appendingPathComponent("figure1.png")
      try grid.write(to: file)
      written.append(file)
    }
    return written
  }

  /// Several results files side by side (the paper's Figure 2 has a panel per problem, and each
  /// problem is its own config): `figure2.svg`/`.png` with every file's panels, and `table.md`
  /// with every file's rows. Returns the paths written.
  @discardableResult
  public static func writeCombined(results paths: [String], to directory: String, title: String, bestStep: Bool = false) throws -> [String] {
    var panels: [LinePlot] = []
    var tables: [String] = []
    var sensitivity: [String] = []
    var combinedRecords: [JobRecord] = []
    for path in paths {
      let records = try ResultsFile.read(path, withVectors: false).records
      combinedRecords += records
      if bestStep {
        let selection = try BestStepSelection(records: records)
        panels += selection.panels()
        tables.append(selection.markdownTable())
        sensitivity.append(selection.sensitivityTable())
      } else {
        panels += figure2Panels(records)
        tables.append(methodByM(records))
      }
    }
    try FileSystem.createDirectory(directory)
    var written: [String] = []
    if bestStep {
      let file = (directory as NSString).appendingPathComponent("steps.md")
      try FigureFile.write(sensitivity.joined(separator: "\n"), to: file)
      written.append(file)
    }
    for ext in ["svg", "png"] {
      let file = (directory as NSString).appendingPathComponent("figure2.\(ext)")
      try FigureRenderer.write(panels, to: file, title: title, caption: figure2Caption(combinedRecords))
      written.append(file)
    }
    let table = (directory as NSString).appendingPathComponent("table.md")
    try FigureFile.write(tables.joined(separator: "\n"), to: table)
    written.append(table)
    return written
  }

  static func ordered(_ values: [String]) -> [String] {
    var seen: [String] = []
    for v in values where !seen.contains(v) { seen.append(v) }
    return seen
  }

  /// The method of each record as a line of a figure or table: its label, and, where jobs of
  /// one label on one problem come from sweep points that differ in more than m and the step
  /// size, what tells them apart (`PRFM (iterations: 100)`), so that no two settings are pooled.
  static func methodVariants(_ records: [JobRecord]) -> [String] {
    // A sweep value with the kind and the step taken out: what is left tells variants apart.
    // Flow mappings (`{kind: prfm, eta_lambda1: 0.05, iterations: 100}`) lose those entries;
    // a dotted axis keeps its path (`algorithm.iterations=100`).
    func residue(_ axis: String, _ value: String) -> String {
      if ["m", "problem", "seed"].contains(axis) || axis.hasSuffix(".eta") || axis.hasSuffix(".eta_lambda1") { return "" }
      let text = value.trimmingCharacters(in: .whitespaces)
      guard text.hasPrefix("{") && text.hasSuffix("}") else { return "\(axis)=\(text)" }
      let entries = text.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
      return entries.filter { entry in
        let key = entry.split(separator: ":").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        return !["kind", "eta", "eta_lambda1"].contains(key)
      }.map { entry in
        // A swept projection reads `P=latent-pursuit`.
        guard axis == "projection", entry.hasPrefix("method:") else { return entry }
        return "P=" + entry.dropFirst("method:".count).trimmingCharacters(in: .whitespaces)
      }.joined(separator: ", ")
    }
    let residues = records.map { r in
      r.sweepValues.keys.sorted().map { axis in residue(axis, r.sweepValues[axis]!) }.filter { !$0.isEmpty }
    }
    var varies: Set<String> = []
    var first: [String: [String]] = [:]
    for (r, res) in zip(records, residues) {
      let group = r.problem + "\u{1F}" + r.algorithm
      if let seen = first[group] { if seen != res { varies.insert(group) } } else { first[group] = res }
    }
    return zip(records, residues).map { r, res in
      varies.contains(r.problem + "\u{1F}" + r.algorithm) && !res.isEmpty ? "\(r.algorithm) (\(res.joined(separator: ", ")))" : r.algorithm
    }
  }

  /// The name of a record's line: its method variant (`methodVariants`), and its step when
  /// the variant ran with several steps on the problem (`PRFM η·λ1=0.4`).
  static func seriesNames(_ records: [JobRecord]) -> [String] {
    var records = records
    for (i, name) in methodVariants(records).enumerated() { records[i].algorithm = name }
    var steps: [String: BestStepSelection.StepColumn?] = [:]
    let preferred = BestStepSelection.stepColumn(records)
    for problem in ordered(records.map(\.problem)) {
      let mine = records.filter { $0.problem == problem }
      for method in ordered(mine.map(\.algorithm)) {
        let jobs = mine.filter { $0.algorithm == method }
        let column = BestStepSelection.stepColumn(jobs, tie: preferred)
        let distinct = column.map { c in Set(jobs.map(c.value).filter { !$0.isNaN }).count } ?? 0
        steps[problem + "\u{1F}" + method] = distinct > 1 ? column : nil
      }
    }
    return records.map { r in
      guard let column = steps[r.problem + "\u{1F}" + r.algorithm] ?? nil else { return r.algorithm }
      let value = column.value(r)
      return r.algorithm + " " + column.symbol + "=" + (value.isNaN ? "?" : BestStepSelection.stepText(value))
    }
  }

  /// One panel per problem; one series per method (and step, when it varies); error bars ±1
  /// sample std.
  static func figure2Panels(_ records: [JobRecord]) -> [LinePlot] {
    var ok = records.filter { $0.status == .ok }
    for (i, name) in seriesNames(ok).enumerated() { ok[i].algorithm = name }
    return ordered(ok.map(\.problem)).map { problem in
      let mine = ok.filter { $0.problem == problem }
      let series = ordered(mine.map(\.algorithm)).map { algorithm in
        LinePlot.Series(name: algorithm, points: points(mine.filter { $0.algorithm == algorithm }))
      }
      var plot = LinePlot(title: panelTitle(problem), xLabel: "m", yLabel: "cosine similarity", series: series, yRange: 0...1)
      plot.pinnedStyles = Self.methodStyles
      return plot
    }
  }

  /// Mean cosine against m of finished jobs, with ±1 sample std error bars.
  static func points(_ runs: [JobRecord]) -> [LinePlot.Point] {
    let ok = runs.filter { $0.status == .ok }
    return Set(ok.map(\.m)).sorted().map { m in
      let cosines = ok.filter { $0.m == m }.map(\.cosine)
      let std = SummaryTable.sampleStd(cosines)
      return LinePlot.Point(x: Double(m), y: SummaryTable.mean(cosines), error: std.isNaN ? nil : std)
    }
  }

  /// "mean ± std" of the finished jobs' cosines, with "(k/n failed)" when some failed; "–"
  /// without jobs.
  static func cosineCell(_ jobs: [JobRecord]) -> String {
    guard !jobs.isEmpty else { return "–" }
    let ok = jobs.filter { $0.status == .ok }.map(\.cosine)
    let failed = jobs.count - ok.count
    var text = ok.isEmpty ? "n/a" : String(format: "%.3f", SummaryTable.mean(ok))
    let std = SummaryTable.sampleStd(ok)
    if !std.isNaN { text += String(format: " ± %.3f", std) }
    if failed > 0 { text += " (\(failed)/\(jobs.count) failed)" }
    return text
  }

  /// What a point and its error bar are, under every Figure 2 (the bars were not
  /// explained), with the counts behind each point.
  static func figure2Caption(_ records: [JobRecord]) -> String {
    let ok = records.filter { $0.status == .ok }
    let signals = Set(ok.map(\.signal)).count
    let trials = Set(ok.map(\.trial)).count
    return "Points: mean cosine similarity over \(signals) signal(s) × \(trials) trial(s); error bars: ± 1 sample standard deviation."
  }

  static func panelTitle(_ problem: String) -> String {
    if problem.hasPrefix("eq24") { return "Eq. (24)" + problem.dropFirst(4) }
    if problem.hasPrefix("eq25") { return "Eq. (25)" + problem.dropFirst(4) }
    return problem
  }

  /// Ground truth and each method's û (sign-aligned with v*, min-max scaled) at one m.
  static func figure1(_ records: [JobRecord], options: Options) throws -> ImageGrid? {
    let ok = records.filter { $0.status == .ok && !$0.estimate.isEmpty }
    guard let first = ok.first else { return nil }
    let side = Int(Double(first.estimate.count).squareRoot().rounded())
    guard side * side == first.estimate.count, side > 1 else { return nil }
    let ms = Set(ok.map(\.m)).sorted()
    let m = ms.min { abs($0 - options.gridM) < abs($1 - options.gridM) }!
    let problem = options.gridProblem ?? first.problem
    guard ok.contains(where: { $0.problem == problem }) else {
      throw ReportError(
        "--grid-problem: no finished job of problem \"\(problem)\"; the file has \(ordered(ok.map(\.problem)).joined(separator: ", "))")
    }
    let chosen = ok.filter { $0.m == m && $0.problem == problem && $0.trial == options.gridTrial }
    let signals = Set(chosen.map(\.signal)).sorted()
    guard !signals.isEmpty else { return nil }
    let truths = signals.map { s in chosen.first { $0.signal == s }!.signalVector }
    var rows = [ImageGrid.Row(label: "Ground truth", images: truths)]
    for algorithm in ordered(chosen.map(\.algorithm)) {
      let images = signals.map { s -> [Double] in
        guard let r = chosen.first(where: { $0.signal == s && $0.algorithm == algorithm }) else { return [Double](repeating: 0, count: side * side) }
        let sign: Double = dot(r.estimate, r.signalVector) < 0 ? -1 : 1
        return r.estimate.map { sign * $0 }
      }
      rows.append(ImageGrid.Row(label: algorithm, images: images))
    }
    // Say what is shown: which trial, that each image is min–max scaled, and the
    // projection (the paper's oracle-norm leaks ‖image‖ to it).
    let modes = ordered(chosen.map(\.projection).filter { $0 != "none" }.map { projection -> String in
      guard let range = projection.range(of: "mode=") else { return projection }
      return String(projection[range.upperBound...].prefix { $0 != "," && $0 != ")" }) + " projection"
    })
    let title = "\(panelTitle(problem)), m = \(m), trial \(options.gridTrial)"
      + (modes.isEmpty ? "" : ", " + modes.joined(separator: " / ")) + "; each image min-max scaled"
    return try ImageGrid(title: title, rows: rows, scale: 3, scaling: .minMax)
  }

  /// Rows (problem, method), columns m: "mean ± std" of the cosine similarity.
  public static func methodByM(_ records: [JobRecord]) -> String {
    var ok = records.filter { $0.status == .ok }
    for (i, name) in seriesNames(ok).enumerated() { ok[i].algorithm = name }
    let ms = Set(ok.map(\.m)).sorted()
    var lines = ["| problem | method | " + ms.map { "m = \($0)" }.joined(separator: " | ") + " |",
                 "|---|---|" + ms.map { _ in "---" }.joined(separator: "|") + "|"]
    for problem in ordered(ok.map(\.problem)) {
      for algorithm in ordered(ok.filter { $0.problem == problem }.map(\.algorithm)) {
        let cells = ms.map { m in cosineCell(ok.filter { $0.problem == problem && $0.algorithm == algorithm && $0.m == m }) }
        lines.append("| \(problem) | \(algorithm) | " + cells.joined(separator: " | ") + " |")
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

/// A report that cannot be made as asked (an unknown problem for Figure 1, …).
public typealias ReportError = UserError
