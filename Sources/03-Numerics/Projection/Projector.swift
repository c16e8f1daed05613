import GGEPCore
import GGEPPrior
/// The projection P_G(x) = Ĝ(ẑ): the point of Range(Ĝ), Ĝ = G/‖G‖, closest to x/‖x‖ (docs/mathematics.md §4).
///
/// Batched over targets (rows), because every algorithm iteration projects one vector per
/// problem instance in its batch and the cost is all in the generator's GEMMs. Outcomes are per
/// row: a target that cannot be projected fails its own job, and its batch-mates go on.
public protocol Projector: Sendable {
  var dimension: Int { get }
  /// Projects each row of `targets` (rows × n). `slots[i]` is the per-target state of row i
  /// (its job's random stream, the oracle scale, and whatever the projector keeps across
  /// iterations in `slot.state`) and receives the final projection loss. Rows that succeed are
  /// unit-norm rows of `projected`; the others are in `failures`, by row, with the reason.
  func projectRows(_ targets: Matrix<Double>, slots: [ProjectionSlot]) -> ProjectionOutcome
  /// What the results record about this projector (method and settings).
  var summary: String { get }
}

/// What one batched projection gives: a unit row for each target that could be projected, and
/// the reason for each that could not.
public struct ProjectionOutcome: Sendable {
  public var projected: Matrix<Double>
  public var failures: [Int: ProjectionError]
  public init(projected: Matrix<Double>, failures: [Int: ProjectionError] = [:]) {
    self.projected = projected
    self.failures = failures
  }
}

extension Projector {
  /// All rows at once, or the first row's failure (for callers with one target, and tests).
  public func project(_ targets: Matrix<Double>, slots: [ProjectionSlot]) throws -> Matrix<Double> {
    let outcome = projectRows(targets, slots: slots)
    if let first = outcome.failures.keys.min() { throw outcome.failures[first]! }
    return outcome.projected
  }
}

/// What a projector keeps for one target across an algorithm's iterations; each projector
/// subclasses it (`AdamProjector.State`: the previous ẑ for a warm start; the product
/// projector: its factors' slots).
open class ProjectorState {
  public init() {}
}

/// One problem instance's handle on the projection: the job's own random stream (so a target's
/// projection depends only on its job, never on its batch-mates), the oracle scale ‖image‖ for
/// the oracle-norm mode, the last loss, and the projector's own `state`.
public final class ProjectionSlot {
  public var rng: RandomStream
  /// c = ‖image‖ for the oracle-norm scale mode.
  public let oracleScale: Double?
  public var lastLoss: Double = .nan
  /// The projector's per-target state, created by it on first use.
  public var state: ProjectorState?

  public init(rng: RandomStream, oracleScale: Double? = nil) {
    self.rng = rng
    self.oracleScale = oracleScale
  }

  /// The projector's state of type `S`, made by `make` on first use.
  public func state<S: ProjectorState>(_ make: () -> S) -> S {
    if let existing = state as? S { return existing }
    let made = make()
    state = made
    return made
  }
}

public struct ProjectionError: UserFacingError, Sendable {
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

  public func projectRows(_ targets: Matrix<Double>, slots: [ProjectionSlot]) -> ProjectionOutcome {
    precondition(targets.cols == dimension && slots.count == targets.rows)
    var out = matmul(matmul(targets, basis), basis, transposeB: true)
    var failures: [Int: ProjectionError] = [:]
    let n = dimension
    for i in 0..<out.rows {
      let x = targets.row(i)
      let xNorm = dot(x, x).squareRoot()
      let r = dot(out.row(i), out.row(i)).squareRoot()
      guard r > 0, r.isFinite, xNorm.isFinite else {
        failures[i] = ProjectionError(
          message: xNorm.isFinite ? "the target is orthogonal to the generator's range" : "the target is not finite")
        continue
      }
      for j in 0..<n { out.storage[i * n + j] /= r }
      // ‖x/‖x‖ − P(x)‖² = 2 − 2 cos(x, P(x)), the same loss the Adam projector reports (λ_z = 0).
      slots[i].lastLoss = 2 - 2 * (r / xNorm)
    }
    return ProjectionOutcome(projected: out, failures: failures)
  }
}
