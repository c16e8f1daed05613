import Foundation
import XCTest

@testable import GGEPCore
@testable import GGEPPrior
@testable import GGEPNumerics
@testable import GGEPModels
@testable import GGEPConfig
@testable import GGEPPipeline
@testable import GGEPPlot
@testable import GGEPCluster
@testable import GGEPComponents
@testable import GGEPKindGEP
@testable import GGEPKindInversion
@testable import GGEPPriors
@testable import GGEPBench
@testable import GGEPBuiltIns

/// CLP through `LinearProgram`: a known optimum, and the statuses of programs without one.
final class LinearProgramTests: GGEPTestCase {
  /// max x + y s.t. x + 2y ≤ 4, 3x + y ≤ 6, x, y ≥ 0: optimum at (8/5, 6/5), value 14/5.
  func testAKnownOptimum() {
    let lp = LinearProgram(
      objective: [-1, -1], matrix: Matrix(rows: 2, cols: 2, storage: [1, 2, 3, 1]), rowLower: [-.infinity, -.infinity],
      rowUpper: [4, 6], columnLower: [0, 0], columnUpper: [.infinity, .infinity])
    let solution = lp.solve()
    XCTAssertEqual(solution.status, .optimal)
    XCTAssertEqual(solution.x[0], 1.6, accuracy: 1e-9)
    XCTAssertEqual(solution.x[1], 1.2, accuracy: 1e-9)
    XCTAssertEqual(solution.objectiveValue, -2.8, accuracy: 1e-9)
    // The same program solved again (and on another thread) gives the same bits.
    let again = DispatchQueue.global().sync { lp.solve() }
    XCTAssertEqual(again.x.map(\.bitPattern), solution.x.map(\.bitPattern))
  }

  func testInfeasibleAndUnboundedProgramsSaySo() {
    // x ≥ 1 and x ≤ 0.
    let infeasible = LinearProgram(
      objective: [1], matrix: Matrix(rows: 1, cols: 1, storage: [1]), rowLower: [1], rowUpper: [.infinity], columnLower: [-.infinity],
      columnUpper: [0])
    XCTAssertEqual(infeasible.solve().status, .infeasible)
    XCTAssertEqual(LinearProgram.Status.infeasible.description, "primal infeasible")
    // min −x, x ≥ 0, x − y ≤ 1 with y free upwards: unbounded.
    let unbounded = LinearProgram(
      objective: [-1, 0], matrix: Matrix(rows: 1, cols: 2, storage: [1, -1]), rowLower: [-.infinity], rowUpper: [1], columnLower: [0, 0],
      columnUpper: [.infinity, .infinity])
    XCTAssertEqual(unbounded.solve().status, .unbounded)
  }
}
