import Foundation
import GGEPCore

/// Why a layer-wise inversion could not go on: the layer (1 = next to z) and what happened.
public struct InversionFailure: UserFacingError, Sendable {
  public let layer: Int
  public let reason: String
  public init(layer: Int, reason: String) {
    self.layer = layer
    self.reason = reason
  }
  public var description: String { "layer \(layer): \(reason)" }
}

/// One dense layer inverted by a linear program (Lei, Jalal, Dhillon, Dimakis 2019; docs/mathematics.md §10).
///
/// For y = relu(h W + b) (W in × out, rows are samples) with S = {j : y_j > τ} the active
/// outputs, the ℓ∞ program over (h, ε) is
///
///     minimise ε   s.t.   |(hW + b)_j − y_j| ≤ ε  (j ∈ S),   (hW + b)_j ≤ ε  (j ∉ S),
///                         ε ≥ 0,   h ≥ 0 when h is itself a ReLU output
///
/// and `exact` fixes ε = 0 (the noiseless feasibility problem, which may be infeasible on noisy
/// data). With a unique solution the noiseless program recovers h exactly (in polynomial time);
/// with noise, ε is the smallest ℓ∞ residual any h achieves. A `linear` layer (an invertible
/// output already inverted entrywise) has every row in the first form. S = {j : y_j > τ} with
/// τ = threshold·max|y| (default 1e-9: an LP's round-off above zero does not join the support;
/// with noise, zeros of y become ±σ and τ must be above the noise for the split to be right).
public enum LPLayerInversion {
  public struct Result: Sendable {
    public var h: [Double]
    /// The optimal ε: the ℓ∞ residual of the layer's equations.
    public var residual: Double
  }

  public static func invert(
    weights: Matrix<Double>, bias: [Double], output y: [Double], relu: Bool, nonnegativeInput: Bool, exact: Bool = false,
    supportThreshold: Double = 1e-9, layer: Int
  ) throws(InversionFailure) -> Result {
    let (fanIn, fanOut) = (weights.rows, weights.cols)
    precondition(y.count == fanOut && (bias.isEmpty || bias.count == fanOut))
    let scale = y.map { Swift.abs($0) }.max() ?? 0
    let threshold = supportThreshold * max(scale, 1e-300)
    var rows: [[Double]] = []
    var lower: [Double] = []
    var upper: [Double] = []
    for j in 0..<fanOut {
      // Row j of the layer's map: Σ_i h_i W[i][j] (+ b_j), and ε's coefficient last.
      let a = (0..<fanIn).map { weights.storage[$0 * fanOut + j] }
      let target = y[j] - (bias.isEmpty ? 0 : bias[j])
      if !relu || y[j] > threshold {
        rows.append(a + [-1]); lower.append(-.infinity); upper.append(target)  // a·h − ε ≤ y − b
        rows.append(a + [1]); lower.append(target); upper.append(.infinity)  // a·h + ε ≥ y − b
      } else {
        rows.append(a + [-1]); lower.append(-.infinity); upper.append(-(bias.isEmpty ? 0 : bias[j]))  // a·h + b ≤ ε
      }
    }
    let columns = fanIn + 1
    let lp = LinearProgram(
      objective: [Double](repeating: 0, count: fanIn) + [1], matrix: Matrix(rows: rows.count, cols: columns, storage: rows.flatMap { $0 }),
      rowLower: lower, rowUpper: upper,
      columnLower: [Double](repeating: nonnegativeInput ? 0 : -.infinity, count: fanIn) + [0],
      columnUpper: [Double](repeating: .infinity, count: fanIn) + [exact ? 0 : .infinity])
    let solution = lp.solve()
    guard solution.status == .optimal else {
      throw InversionFailure(layer: layer, reason: "the LP is \(solution.status) (CLP status \(solution.status.rawValue))")
    }
    return Result(h: Array(solution.x.prefix(fanIn)), residual: max(solution.x[fanIn], 0))
  }
}
