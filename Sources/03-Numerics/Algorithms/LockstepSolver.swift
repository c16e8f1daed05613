import GGEPCore
/// The outcome of one instance: the estimate and what happened on the way.
public struct SolverOutcome: Sendable {
  /// û, unit norm (empty when the instance failed before producing one).
  public var estimate: [Double]
  /// ρ_t for t = 0 … iterations (the last entry is ρ(û)).
  public var rhoHistory: [Double]
  /// |⟨u_t, v*⟩| for t = 0 … iterations (the last entry is the final cosine).
  public var cosineHistory: [Double]
  public var iterations: Int
  public var converged: Bool
  public var projectionLoss: Double
  public var failure: String?

  public var cosine: Double { cosineHistory.last ?? .nan }
  public var finalRho: Double { rhoHistory.last ?? .nan }
}

/// How the first iterate is chosen (docs/mathematics.md §5): 1/√n (all ones, normalised), or a seeded random
/// unit vector.
public enum InitialVector: String, Sendable, Codable, CaseIterable {
  case ones, random

  public func vector(dimension n: Int, rng: inout RandomStream) -> [Double] {
    switch self {
    case .ones: return [Double](repeating: 1 / Double(n).squareRoot(), count: n)
    case .random: return normalized(rng.normals(n)) ?? [Double](repeating: 1 / Double(n).squareRoot(), count: n)
    }
  }
}

/// Runs a solver on a batch of independent instances in lock-step.
///
/// Per iteration and active instance: Âu and B̂u (operator products), ρ_t, the recorded ρ_t
/// and |⟨u_t, v*⟩|, the solver's target; then ONE projection call over all active targets
/// (rows = active instances; the projector batches its restarts too). An instance leaves the
/// batch when ‖u_{t+1} − u_t‖ < tolerance or when it fails; the others go on. The batch's
/// composition is a function of the instances alone, never of scheduling.
public struct LockstepSolver {
  public let solver: any EigenSolver
  public let iterations: Int
  public let tolerance: Double

  public init(solver: any EigenSolver, iterations: Int, tolerance: Double) {
    self.solver = solver
    self.iterations = iterations
    self.tolerance = tolerance
  }

  public func run(
    _ instances: [ProblemInstance], initial: [[Double]], projector: (any Projector)?, slots: [ProjectionSlot]
  ) -> [SolverOutcome] {
    let count = instances.count
    precondition(initial.count == count && slots.count == count)
    precondition(!solver.usesProjection || projector != nil, "\(solver.label) needs a projector")
    var u = initial
    var outcomes = (0..<count).map { _ in
      SolverOutcome(estimate: [], rhoHistory: [], cosineHistory: [], iterations: 0, converged: false, projectionLoss: .nan)
    }
    var active = Array(0..<count)

    for _ in 0..<iterations where !active.isEmpty {
      var targets: [(index: Int, target: [Double])] = []
      for i in active {
        do {
          let (au, bu, rho) = products(instances[i], u[i])
          outcomes[i].rhoHistory.append(rho)
          outcomes[i].cosineHistory.append(Swift.abs(dot(u[i], instances[i].signal)))
          guard rho.isFinite else { throw SolverFailure("ρ_t is not finite (uᵀB̂u = \(dot(u[i], bu)))") }
          let x = try solver.target(u: u[i], au: au, bu: bu, rho: rho, instance: instances[i])
          if let failure = SolverFailure.overflow(x, step: "the step's target") { throw failure }
          guard x.allSatisfy(\.isFinite) else { throw SolverFailure("the step produced a non-finite vector") }
          guard norm(x) > 0 else { throw SolverFailure("the step produced the zero vector") }
          targets.append((i, x))
        } catch {
          outcomes[i].failure = "iteration \(outcomes[i].iterations): \(error)"
        }
      }

      var next: [(index: Int, vector: [Double])] = []
      if solver.usesProjection, let projector, !targets.isEmpty {
        let n = instances[targets[0].index].dimension
        let block = Matrix(rows: targets.count, cols: n, storage: targets.flatMap(\.target))
        // Per row: a target that cannot be projected fails its own instance; the others go on.
        let outcome = projector.projectRows(block, slots: targets.map { slots[$0.index] })
        for (row, entry) in targets.enumerated() {
          if let failure = outcome.failures[row] {
            outcomes[entry.index].failure = "iteration \(outcomes[entry.index].iterations): projection: \(failure)"
            continue
          }
          next.append((entry.index, Array(outcome.projected.row(row))))
          outcomes[entry.index].projectionLoss = slots[entry.index].lastLoss
        }
      } else {
        for entry in targets {
          do { next.append((entry.index, try solver.finish(entry.target))) } catch {
            outcomes[entry.index].failure = "iteration \(outcomes[entry.index].iterations): \(error)"
          }
        }
      }

      for (i, v) in next {
        var change = 0.0
        for j in v.indices { let d = v[j] - u[i][j]; change += d * d }
        u[i] = v
        outcomes[i].iterations += 1
        if change.squareRoot() < tolerance { outcomes[i].converged = true }
      }
      active = active.filter { outcomes[$0].failure == nil && !outcomes[$0].converged }
    }

    for i in 0..<count where outcomes[i].failure == nil {
      let (_, _, rho) = products(instances[i], u[i])
      outcomes[i].rhoHistory.append(rho)
      outcomes[i].cosineHistory.append(Swift.abs(dot(u[i], instances[i].signal)))
      outcomes[i].estimate = u[i]
      if !rho.isFinite { outcomes[i].failure = "final ρ is not finite" }
    }
    return outcomes
  }

  /// Âu, B̂u and the Rayleigh quotient uᵀÂu / uᵀB̂u.
  private func products(_ instance: ProblemInstance, _ u: [Double]) -> ([Double], [Double], Double) {
    let au = instance.a.apply(u)
    let bu = instance.b.apply(u)
    return (au, bu, dot(u, au) / dot(u, bu))
  }
}
