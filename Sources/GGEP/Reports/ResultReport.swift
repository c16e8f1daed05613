import Foundation

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
  public struct Options: Sendable {
    /// The m of Figure 1 (default: 300, else the nearest m in the file).
    public var gridM: Int
    /// Trial whose reconstructions Figure 1 shows.
    public var gridTrial: Int
    public init(gridM: Int = 300, gridTrial: Int = 0) {
      self.gridM = gridM
      self.gridTrial = gridTrial
    }
  }

  /// Writes the report into `directory`; returns the paths written.
  @discardableResult
  public static func write(results path: String, to directory: String, options: Options = Options()) throws -> [String] {
    let (provenance, records) = try ResultsFile.read(path)
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    var written: [String] = []
    func save(_ name: String, _ text: String) throws {
      let file = (directory as NSString).appendingPathComponent(name)
      try FigureFile.write(text, to: file)
      written.append(file)
    }

    let summary = try SummaryTable(records: records, groupBy: SummaryTable.defaultGrouping(provenance: provenance))
    try save("summary.md", summary.markdown())
    try save("summary.csv", summary.csv())
    try save("table.md", methodByM(records))

    let panels = figure2Panels(records)
    if !panels.isEmpty {
      for ext in ["svg", "png"] {
        let file = (directory as NSString).appendingPathComponent("figure2.\(ext)")
        try FigureRenderer.write(panels, to: file, title: "\(provenance.name): mean cosine similarity against m")
        written.append(file)
      }
    }
    if let grid = try figure1(records, options: options) {
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
  public static func writeCombined(results paths: [String], to directory: String, title: String) throws -> [String] {
    var panels: [LinePlot] = []
    var tables: [String] = []
    for path in paths {
      let records = try ResultsFile.read(path, withVectors: false).records
      panels += figure2Panels(records)
      tables.append(methodByM(records))
    }
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    var written: [String] = []
    for ext in ["svg", "png"] {
      let file = (directory as NSString).appendingPathComponent("figure2.\(ext)")
      try FigureRenderer.write(panels, to: file, title: title)
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

  /// One panel per problem; one series per method; error bars ±1 sample std.
  static func figure2Panels(_ records: [JobRecord]) -> [LinePlot] {
    let ok = records.filter { $0.status == .ok }
    return ordered(ok.map(\.problem)).map { problem in
      let mine = ok.filter { $0.problem == problem }
      let series = ordered(mine.map(\.algorithm)).map { algorithm in
        let runs = mine.filter { $0.algorithm == algorithm }
        let points = Set(runs.map(\.m)).sorted().map { m in
          let cosines = runs.filter { $0.m == m }.map(\.cosine)
          let std = SummaryTable.sampleStd(cosines)
          return LinePlot.Point(x: Double(m), y: SummaryTable.mean(cosines), error: std.isNaN ? nil : std)
        }
        return LinePlot.Series(name: algorithm, points: points)
      }
      return LinePlot(title: panelTitle(problem), xLabel: "m", yLabel: "cosine similarity", series: series, yRange: 0...1)
    }
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
    let problem = first.problem
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
    return try ImageGrid(title: "\(panelTitle(problem)), m = \(m)", rows: rows, scale: 3, scaling: .minMax)
  }

  /// Rows (problem, method), columns m: "mean ± std" of the cosine similarity.
  public static func methodByM(_ records: [JobRecord]) -> String {
    let ok = records.filter { $0.status == .ok }
    let ms = Set(ok.map(\.m)).sorted()
    var lines = ["| problem | method | " + ms.map { "m = \($0)" }.joined(separator: " | ") + " |",
                 "|---|---|" + ms.map { _ in "---" }.joined(separator: "|") + "|"]
    for problem in ordered(ok.map(\.problem)) {
      for algorithm in ordered(ok.filter { $0.problem == problem }.map(\.algorithm)) {
        let cells = ms.map { m -> String in
          let c = ok.filter { $0.problem == problem && $0.algorithm == algorithm && $0.m == m }.map(\.cosine)
          guard !c.isEmpty else { return "–" }
          let std = SummaryTable.sampleStd(c)
          return String(format: "%.3f", SummaryTable.mean(c)) + (std.isNaN ? "" : String(format: " ± %.3f", std))
        }
        lines.append("| \(problem) | \(algorithm) | " + cells.joined(separator: " | ") + " |")
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }
}
