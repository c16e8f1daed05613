/// What `ggep report` can ask of a GEP results file's report (the CLI's `--grid-m`,
/// `--grid-problem`, `--best-step`), carried in `ReportOptions.kindOptions`.
public struct GEPReportOptions: Sendable {
  /// Figure 1's m (the nearest available) and trial.
  public var gridM: Int
  public var gridTrial: Int
  /// Figure 1's problem label (default: the file's first).
  public var gridProblem: String?
  /// Each method at its cross-validated best step.
  public var bestStep: Bool

  public init(gridM: Int = 300, gridTrial: Int = 0, gridProblem: String? = nil, bestStep: Bool = false) {
    self.gridM = gridM
    self.gridTrial = gridTrial
    self.gridProblem = gridProblem
    self.bestStep = bestStep
  }
}
