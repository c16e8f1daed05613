import Foundation
import _CLP

/// A linear program, solved by COIN-OR CLP (`initialSolve`: presolve, then the simplex method it
/// picks; the plain dual simplex wrongly reported infeasible consistent systems with free
/// variables and a fixed column):
///
///     minimise cᵀx   subject to   rowLower ≤ A x ≤ rowUpper,   columnLower ≤ x ≤ columnUpper
///
/// with A dense (rows × columns, row-major) and ±∞ bounds as `.infinity`. Each `solve` creates
/// its own CLP model, solves it and deletes it, so concurrent solves on different threads share
/// no solver state (CLP documents none as shared, but promises no thread safety either: keep a
/// model inside one work item; the `--jobs 1` vs `--jobs 2` tests guard it). The same program
/// gives the same bits every time.
public struct LinearProgram: Sendable {
  public var objective: [Double]
  public var matrix: Matrix<Double>
  public var rowLower: [Double]
  public var rowUpper: [Double]
  public var columnLower: [Double]
  public var columnUpper: [Double]

  public init(
    objective: [Double], matrix: Matrix<Double>, rowLower: [Double], rowUpper: [Double], columnLower: [Double],
    columnUpper: [Double]
  ) {
    precondition(objective.count == matrix.cols && columnLower.count == matrix.cols && columnUpper.count == matrix.cols)
    precondition(rowLower.count == matrix.rows && rowUpper.count == matrix.rows)
    self.objective = objective
    self.matrix = matrix
    self.rowLower = rowLower
    self.rowUpper = rowUpper
    self.columnLower = columnLower
    self.columnUpper = columnUpper
  }

  /// CLP's outcome (`Clp_status`).
  public enum Status: Int32, Sendable, CustomStringConvertible {
    case optimal = 0
    case infeasible = 1
    case unbounded = 2
    case stopped = 3
    case errors = 4

    public var description: String {
      switch self {
      case .optimal: return "optimal"
      case .infeasible: return "primal infeasible"
      case .unbounded: return "unbounded (dual infeasible)"
      case .stopped: return "stopped on an iteration limit"
      case .errors: return "stopped by numerical errors"
      }
    }
  }

  public struct Solution: Sendable {
    public var status: Status
    /// The solver's secondary status (scaling caveats), 0 when none.
    public var secondaryStatus: Int32
    public var x: [Double]
    public var objectiveValue: Double
  }

  public func solve() -> Solution {
    let (m, n) = (matrix.rows, matrix.cols)
    // Column-major sparse form without the zeros.
    var starts: [CoinBigIndex] = [0]
    var indices: [Int32] = []
    var values: [Double] = []
    for j in 0..<n {
      for i in 0..<m {
        let a = matrix.storage[i * n + j]
        if a != 0 {
          indices.append(Int32(i))
          values.append(a)
        }
      }
      starts.append(CoinBigIndex(indices.count))
    }
    let infinity = Double.greatestFiniteMagnitude  // COIN_DBL_MAX
    func finite(_ x: [Double]) -> [Double] { x.map { $0 == .infinity ? infinity : ($0 == -.infinity ? -infinity : $0) } }
    let (cl, cu, rl, ru) = (finite(columnLower), finite(columnUpper), finite(rowLower), finite(rowUpper))

    guard let model = Clp_newModel() else {
      return Solution(status: .errors, secondaryStatus: 0, x: [], objectiveValue: .nan)
    }
    defer { Clp_deleteModel(model) }
    Clp_setLogLevel(model, 0)
    Clp_loadProblem(model, Int32(n), Int32(m), starts, indices, values, cl, cu, objective, rl, ru)
    Clp_setOptimizationDirection(model, 1)
    // The default options but one: CLP's interrupt handling off (special option 2 = 1, "for
    // threadsafe"). With it on, every solve installs CLP's own SIGINT handler and restores the
    // previous one afterwards; concurrent solves race on that, Ctrl-C stops the LP instead of
    // reaching the run, and a lost restore leaves CLP's handler in place for the rest of the run.
    guard let options = ClpSolve_new() else {
      return Solution(status: .errors, secondaryStatus: 0, x: [], objectiveValue: .nan)
    }
    defer { ClpSolve_delete(options) }
    ClpSolve_setSpecialOption(options, 2, 1, -1)
    _ = Clp_initialSolveWithOptions(model, options)
    let status = Status(rawValue: Clp_status(model)) ?? .errors
    let secondary = Clp_secondaryStatus(model)
    var x = [Double](repeating: .nan, count: n)
    if let solution = Clp_getColSolution(model) {
      for j in 0..<n { x[j] = solution[j] }
    }
    return Solution(status: status, secondaryStatus: secondary, x: x, objectiveValue: Clp_objectiveValue(model))
  }
}
