import Foundation
import GGEPCore
import GGEPNumerics
import GGEPConfig
import GGEPPipeline
import GGEPPlot

/// Each method at its best step size, chosen so that the choice cannot flatter it.
///
/// PRFM and Rifle have a step size and PPower has none, so a comparison at one fixed η says as
/// much about η as about the methods. The fair comparison puts each method at its best η; but
/// picking the best of several η on the very numbers one then reports favours the method
/// with the most knobs (the winner's curse), and PPower has none. So the choice is
/// cross-validated over signals: the signals are split into `folds` groups by index
/// (signal mod folds), the step for one group is the one with the best score on the others,
/// and every reported number comes from jobs whose step was chosen without them.
///
/// A step's score is the mean over m of the mean cosine at that m, a failed job counting 0
/// (a step that fails is not a good step), so each m weighs the same and one step serves all m,
/// as a user would set it. Ties go to the smaller step. With one signal there is nothing to
/// hold out; the choice is then made on all jobs and the table says "in-sample".
///
/// The step column is whichever of `eta` and `eta_lambda1` takes fewer distinct values within
/// a (problem, method): the one the config swept (an `eta_lambda1` sweep gives each instance
/// its own η = c/λ1, and vice versa).
public struct BestStepSelection: Sendable {
  public enum StepColumn: String, Sendable {
    case eta
    case etaLambda1 = "eta_lambda1"

    public var symbol: String { self == .eta ? "η" : "η·λ1" }
    func value(_ record: JobRecord) -> Double { self == .eta ? record.eta : record.etaLambda1 }
  }

  /// One (problem, method) line.
  public struct Line: Sendable {
    public var problem: String
    public var method: String
    /// nil for a method without a step (PPower), or with a single step (nothing to choose).
    public var column: StepColumn?
    /// Every step the jobs ran with, ascending.
    public var candidates: [Double]
    /// The step chosen on all signals (marked in the sensitivity table).
    public var inSampleChoice: Double?
    /// Fold k's step, chosen on the other folds; one entry per fold (all the same in-sample).
    public var foldChoices: [Double]
    /// The reported jobs: for each fold, its jobs at its step.
    public var selected: [JobRecord]
    /// Every job of the line, for the sensitivity table.
    public var all: [JobRecord]
  }

  public var lines: [Line]
  public var folds: Int
  /// False when there was only one signal: choices were made in-sample.
  public var crossValidated: Bool

  public typealias SelectionError = UserError

  public init(records: [JobRecord], folds: Int = 2) throws {
    // Lines are method variants: a method swept over something besides the step (its
    // iterations, say) gets a line per setting, each with its own best step.
    var records = records
    for (i, name) in ResultReport.methodVariants(records).enumerated() { records[i].algorithm = name }
    let signals = Set(records.map(\.signal))
    crossValidated = signals.count >= 2
    self.folds = crossValidated ? min(folds, signals.count) : 1
    let folds = self.folds
    var lines: [Line] = []
    let preferred = Self.stepColumn(records)
    for problem in ResultReport.ordered(records.map(\.problem)) {
      let mine = records.filter { $0.problem == problem }
      for method in ResultReport.ordered(mine.map(\.algorithm)) {
        let jobs = mine.filter { $0.algorithm == method }
        let column = Self.stepColumn(jobs, tie: preferred)
        let candidates = column.map { c in Set(jobs.map(c.value)).filter { !$0.isNaN }.sorted() } ?? []
        if candidates.count > 12 {
          throw SelectionError(
            description: "\(problem) \(method): \(candidates.count) distinct step sizes; --best-step chooses among the swept values "
              + "of eta or eta_lambda1, so sweep one of them (a handful of values)")
        }
        guard let column, candidates.count > 1 else {
          lines.append(
            Line(problem: problem, method: method, column: nil, candidates: candidates, inSampleChoice: candidates.first,
                 foldChoices: [], selected: jobs, all: jobs))
          continue
        }
        func best(_ pool: [JobRecord]) -> Double {
          var choice = candidates[0]
          var top = -Double.infinity
          for c in candidates {
            let score = Self.score(pool.filter { column.value($0) == c })
            if score > top { (choice, top) = (c, score) }
          }
          return choice
        }
        let inSample = best(jobs)
        var foldChoices: [Double] = []
        var selected: [JobRecord] = []
        if crossValidated {
          for k in 0..<folds {
            let choice = best(jobs.filter { $0.signal % folds != k })
            foldChoices.append(choice)
            selected += jobs.filter { $0.signal % folds == k && column.value($0) == choice }
          }
          // Plan order, so tables and figures do not depend on the fold loop.
          selected.sort { $0.planIndex < $1.planIndex }
        } else {
          foldChoices = [inSample]
          selected = jobs.filter { column.value($0) == inSample }
        }
        lines.append(
          Line(problem: problem, method: method, column: column, candidates: candidates, inSampleChoice: inSample,
               foldChoices: foldChoices, selected: selected, all: jobs))
      }
    }
    self.lines = lines
  }

  /// Mean over m of the mean cosine at m, failed jobs counting 0; −∞ without jobs.
  static func score(_ jobs: [JobRecord]) -> Double {
    let ms = Set(jobs.map(\.m)).sorted()
    guard !ms.isEmpty else { return -.infinity }
    let perM = ms.map { m in
      SummaryTable.mean(jobs.filter { $0.m == m }.map { $0.status == .ok && $0.cosine.isFinite ? $0.cosine : 0 })
    }
    return SummaryTable.mean(perM)
  }

  /// The column with fewer distinct values among `jobs`. On a tie (λ1 the same for every
  /// instance, as with B = I): `tie`, the column the whole file prefers, so that one file's
  /// lines speak of one kind of step; else the column whose values are the shorter numbers
  /// (a value someone typed, 0.4, against one divided by λ1, 0.1333…).
  static func stepColumn(_ jobs: [JobRecord], tie: StepColumn? = nil) -> StepColumn? {
    let etas = Set(jobs.map(\.eta).filter { !$0.isNaN })
    let scaled = Set(jobs.map(\.etaLambda1).filter { !$0.isNaN })
    if etas.isEmpty && scaled.isEmpty { return nil }
    if scaled.isEmpty { return .eta }
    if etas.isEmpty { return .etaLambda1 }
    if scaled.count == etas.count {
      if let tie { return tie }
      func digits(_ values: Set<Double>) -> Int { values.map { String(format: "%.12g", $0).count }.reduce(0, +) }
      return digits(scaled) < digits(etas) ? .etaLambda1 : .eta
    }
    return scaled.count < etas.count ? .etaLambda1 : .eta
  }

  // MARK: - Output

  /// Four significant digits: a per-instance η = c/λ1 is not a number anyone typed.
  static func stepText(_ value: Double) -> String { String(format: "%.4g", value) }

  /// How a line's step was chosen: "0.4 / 0.8" (one per fold), "–" without a step.
  public static func choiceText(_ line: Line) -> String {
    guard line.column != nil else {
      return line.candidates.count == 1 ? "\(line.candidates.first.map(stepText) ?? "–") (fixed)" : "–"
    }
    let unique = ResultReport.ordered(line.foldChoices.map(stepText))
    return unique.joined(separator: " / ")
  }

  var ms: [Int] { Set(lines.flatMap { $0.all.map(\.m) }).sorted() }

  /// Rows (problem, method) at the chosen steps, columns m.
  public func markdownTable() -> String {
    let ms = self.ms
    let symbol = lines.compactMap(\.column).first?.symbol ?? "η"
    var out = ["| problem | method | \(symbol) chosen | " + ms.map { "m = \($0)" }.joined(separator: " | ") + " |",
               "|---|---|---|" + ms.map { _ in "---" }.joined(separator: "|") + "|"]
    for line in lines {
      let cells = ms.map { m in ResultReport.cosineCell(line.selected.filter { $0.m == m }) }
      out.append("| \(line.problem) | \(line.method) | \(Self.choiceText(line)) | " + cells.joined(separator: " | ") + " |")
    }
    out.append("")
    out.append(explanation)
    return out.joined(separator: "\n") + "\n"
  }

  /// What the table's numbers are, in one paragraph.
  public var explanation: String {
    let symbol = lines.compactMap(\.column).first?.symbol ?? "η"
    if crossValidated {
      return "Mean ± sample std of the cosine similarity over signals and trials, each method at its best \(symbol) "
        + "chosen by \(folds)-fold cross-validation over signals (signal index mod \(folds)): the step reported for one fold's "
        + "signals is the one with the best mean cosine (averaged over m, failed jobs counted as 0) on the other folds' "
        + "signals, so no reported number chose its own step. \"\(symbol) chosen\" lists the folds' choices."
    }
    return "Mean ± sample std of the cosine similarity, each method at the \(symbol) with the best mean cosine (averaged over "
      + "m, failed jobs counted as 0), chosen in-sample (one signal: nothing to hold out)."
  }

  /// Every step of every method, columns m, plus its score; the in-sample best marked with *.
  public func sensitivityTable() -> String {
    let ms = self.ms
    var out = ["| problem | method | step | " + ms.map { "m = \($0)" }.joined(separator: " | ") + " | score |",
               "|---|---|---|" + ms.map { _ in "---" }.joined(separator: "|") + "|---|"]
    for line in lines {
      let steps: [Double?] = line.column == nil ? [nil] : line.candidates.map { Optional($0) }
      for step in steps {
        let jobs = step.map { s in line.all.filter { line.column!.value($0) == s } } ?? line.all
        let cells = ms.map { m in ResultReport.cosineCell(jobs.filter { $0.m == m }) }
        let label: String
        if let step, let column = line.column {
          label = "\(column.symbol) = \(Self.stepText(step))" + (step == line.inSampleChoice ? " *" : "")
        } else {
          label = line.candidates.first.map { "η = \(Self.stepText($0))" } ?? "–"
        }
        out.append("| \(line.problem) | \(line.method) | \(label) | " + cells.joined(separator: " | ")
          + " | " + String(format: "%.3f", Self.score(jobs)) + " |")
      }
    }
    out.append("")
    out.append("Score: mean over m of the mean cosine, failed jobs counted as 0. * marks the best step on all signals "
      + "(in-sample); the best-step table uses cross-validated choices instead.")
    return out.joined(separator: "\n") + "\n"
  }

  /// A panel per problem, a line per method at its chosen step, ±1 std error bars.
  public func panels() -> [LinePlot] {
    ResultReport.ordered(lines.map(\.problem)).map { problem in
      let series = lines.filter { $0.problem == problem }.map { line in
        LinePlot.Series(name: line.method, points: ResultReport.points(line.selected))
      }
      var plot = LinePlot(
        title: ResultReport.panelTitle(problem), xLabel: "m", yLabel: "cosine similarity", series: series, yRange: 0...1)
      plot.pinnedStyles = ResultReport.methodStyles
      return plot
    }
  }
}
