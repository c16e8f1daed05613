import GGEPCore
import GGEPModels
/// The projection P_G(x) = Ĝ(ẑ): the point of Range(Ĝ), Ĝ = G/‖G‖, closest to x/‖x‖ (SPEC 4).
///
/// Batched over targets (rows), because every algorithm iteration projects one vector per
/// problem instance in its batch and the cost is all in the generator's GEMMs.
public protocol Projector: Sendable {
  var dimension: Int { get }
  /// Projects each row of `targets` (rows × n, finite and nonzero). `slots[i]` is the per-target
  /// state of row i (random stream for restarts, warm start, oracle scale) and receives the
  /// final projection loss. Returns unit-norm rows.
  func project(_ targets: Matrix<Double>, slots: [ProjectionSlot]) throws -> Matrix<Double>
  /// What the results record about this projector (method and settings).
  var summary: String { get }
}

/// State a projector keeps for one problem instance across the iterations of an algorithm.
///
/// Each slot draws its restarts from its own job's stream, so a target's projection depends
/// only on its own job, not on which other targets share the batch.
public final class ProjectionSlot {
  public var rng: RandomStream
  /// ẑ of the previous projection, for `warm_start`.
  public var previousLatent: [Float]?
  /// c = ‖image‖ for the oracle-norm scale mode.
  public let oracleScale: Double?
  public var lastLoss: Double = .nan

  public init(rng: RandomStream, oracleScale: Double? = nil) {
    self.rng = rng
    self.oracleScale = oracleScale
  }
}

public struct ProjectionError: UserFacingError {
  public let message: String
  public init(message: String) { self.message = message }
  public var description: String { message }
}

/// The exact projection onto a linear generator's range: P(x) = W Wᵀx / ‖W Wᵀx‖ for W with
/// orthonormal columns (the unit sphere of span W). Two GEMMs per batch: (X W) Wᵀ.
public struct ExactLinearProjector: Projector {
  public let basis: Matrix<Double>  // n × k, orthonormal columns
  public var dimension: Int { basis.rows }
  public var summary: String { "exact(linear)" }

  public init(basis: Matrix<Double>) { self.basis = basis }

  public func project(_ targets: Matrix<Double>, slots: [ProjectionSlot]) throws -> Matrix<Double> {
    precondition(targets.cols == dimension && slots.count == targets.rows)
    var out = matmul(matmul(targets, basis), basis, transposeB: true)
    let n = dimension
    for i in 0..<out.rows {
      let x = targets.row(i)
      let xNorm = dot(x, x).squareRoot()
      let r = dot(out.row(i), out.row(i)).squareRoot()
      guard r > 0, r.isFinite else {
        throw ProjectionError(message: "target \(i) is orthogonal to the generator's range")
      }
      for j in 0..<n { out.storage[i * n + j] /= r }
      // ‖x/‖x‖ − P(x)‖² = 2 − 2 cos(x, P(x)), the same loss the Adam projector reports (λ_z = 0).
      slots[i].lastLoss = 2 - 2 * (r / xNorm)
    }
    return out
  }
}
