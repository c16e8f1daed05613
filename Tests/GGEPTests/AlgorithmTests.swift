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

final class AlgorithmTests: GGEPTestCase {
  func run(
    _ solver: any EigenSolver, _ instances: [ProblemInstance], projector: (any Projector)?, iterations: Int = 30,
    tolerance: Double = 0
  ) -> [SolverOutcome] {
    let n = instances[0].dimension
    var rng = RandomStream(seed: 0)
    return LockstepSolver(solver: solver, iterations: iterations, tolerance: tolerance).run(
      instances, initial: instances.map { _ in InitialVector.ones.vector(dimension: n, rng: &rng) }, projector: projector,
      slots: instances.map { _ in ProjectionSlot(rng: RandomStream(seed: 1)) })
  }

  /// Per-row outcomes: a target the projection cannot handle fails only its own
  /// instance; its batch-mates go on. The generator's range is the first 4 coordinates; the
  /// middle instance's Â lives on the others, so PPower's target Âu is exactly orthogonal to
  /// the range at the first step.
  func testOneTargetsProjectionFailureFailsOnlyItsInstance() throws {
    let (n, k) = (40, 4)
    var basis = Matrix<Double>(rows: n, cols: k)
    for c in 0..<k { basis.storage[c * k + c] = 1 }
    let projector = ExactLinearProjector(basis: basis)
    let v = normalized([3, 1, -2, 1] + [Double](repeating: 0, count: n - k))!
    let good = SpikedCovariancePair(beta: 2).population(signal: v)
    var offRange = Matrix<Double>(rows: n, cols: n)
    for i in k..<n { offRange.storage[i * n + i] = 1 }
    let bad = ProblemInstance(a: DenseSymmetricOperator(offRange), b: IdentityOperator(dimension: n), signal: v, lambda1: 1, lambda2: 1)
    let outcomes = run(PPower(), [good, bad, good], projector: projector, iterations: 20)
    XCTAssertNil(outcomes[0].failure)
    XCTAssertNil(outcomes[2].failure)
    XCTAssertGreaterThan(outcomes[0].cosine, 0.999999)
    XCTAssertGreaterThan(outcomes[2].cosine, 0.999999)
    XCTAssertEqual(outcomes[0].iterations, 20)
    let reason = try XCTUnwrap(outcomes[1].failure)
    XCTAssertEqual(reason, "iteration 0: projection: the target is orthogonal to the generator's range")
    XCTAssertTrue(outcomes[1].estimate.isEmpty)
    // The good instances alone end where they ended in the mixed batch (to rounding: a row's
    // last bits depend on its place in the GEMM).
    let alone = run(PPower(), [good], projector: projector, iterations: 20)[0]
    XCTAssertEqual(alone.cosine, outcomes[0].cosine, accuracy: 1e-12)
  }

  /// With exact population operators and an exact projection, PRFM converges to v* and the
  /// error ‖u_t − v*‖ shrinks geometrically (a contraction: the ratio of successive errors stays
  /// below a constant < 1).
  func testPRFMConvergesGeometricallyOnPopulationPair() throws {
    let (gen, basis) = try FeedForwardGenerator.linear(n: 300, k: 10, seed: 1)
    let projector = ExactLinearProjector(basis: basis)
    for pair in [SpikedCovariancePair(beta: 2) as any ProblemPair, PhaseRetrievalPair(link: .square), SpikedCovariancePair(beta: 2, covariance: .toeplitz(r: 0.5))] {
      let (v, _) = Fixtures.signal(in: gen, seed: 3)
      let outcome = run(PRFM(eta: 0.2), [pair.population(signal: v)], projector: projector, iterations: 60)[0]
      XCTAssertNil(outcome.failure)
      XCTAssertGreaterThan(outcome.cosine, 0.999, "\(pair)")
      let errors = outcome.cosineHistory.map { (2 - 2 * $0).squareRoot() }  // ‖u − v*‖ for aligned signs
      let ratios = zip(errors.dropFirst(), errors).prefix(25).map { $0 / $1 }
      XCTAssertLessThan(ratios.max()!, 1, "\(pair): the error must shrink every step: \(ratios)")
      XCTAssertLessThan(ratios.suffix(10).max()!, 0.8, "\(pair): linear rate \(ratios)")
      XCTAssertLessThan(errors[40], 1e-5 * errors[0])
      if pair.population(signal: v).b is IdentityOperator {
        // With B = I the local rate is that of the population update, 1 − η(λ1 − λ2) = 0.6.
        XCTAssertEqual(ratios.last!, 0.6, accuracy: 0.01, "\(pair)")
      }
      XCTAssertEqual(outcome.finalRho, pair.populationEigenvalues(signal: v).lambda1, accuracy: 1e-3)
    }
  }

  /// With sampled Â, B̂ the estimate improves with m, and m = 20n gives cosine > 0.95.
  func testPRFMCosineRisesWithSamples() throws {
    let n = 200
    let (gen, basis) = try FeedForwardGenerator.linear(n: n, k: 10, seed: 2)
    let projector = ExactLinearProjector(basis: basis)
    let signals = (0..<4).map { Fixtures.signal(in: gen, seed: UInt64(10 + $0)).signal }
    var means: [Double] = []
    for m in [20, 100, 20 * n] {
      let instances = signals.enumerated().map { i, v in
        var rng = RandomStream(seed: 5, key: "m=\(m) signal=\(i)")
        return SpikedCovariancePair(beta: 2).sample(signal: v, m: m, rng: &rng)
      }
      let outcomes = run(PRFM(eta: 0.2), instances, projector: projector)
      means.append(outcomes.map(\.cosine).reduce(0, +) / Double(outcomes.count))
    }
    XCTAssertLessThan(means[0], means[1])
    XCTAssertLessThan(means[1], means[2])
    XCTAssertGreaterThan(means[2], 0.95, "means \(means)")
  }

  /// Rifle with s at least the support size recovers a sparse v* (no generative prior).
  func testRifleRecoversSparseSignal() {
    let n = 300
    let v = Fixtures.sparseSignal(n: n, support: 10, seed: 4)
    var rng = RandomStream(seed: 6)
    let instance = SpikedCovariancePair(beta: 2).sample(signal: v, m: 2000, rng: &rng)
    for s in [10, 20] {
      let outcome = run(Rifle(sparsity: s, etaPrime: 0.2 * 3), [instance], projector: nil, iterations: 100)[0]
      XCTAssertNil(outcome.failure)
      XCTAssertGreaterThan(outcome.cosine, 0.95, "s = \(s)")
      XCTAssertLessThanOrEqual(outcome.estimate.filter { $0 != 0 }.count, s)
    }
    // and too small an s cannot represent v*
    let starved = run(Rifle(sparsity: 3, etaPrime: 0.6), [instance], projector: nil, iterations: 100)[0]
    XCTAssertLessThan(starved.cosine, 0.9)
  }

  /// PPower is PRFM's step with B̂ = I and η = 1/ρ_t: u + (1/ρ)(Âu − ρu) = Âu/ρ, the same
  /// direction. And where B = I exactly (population, Eq. 24), both converge to the same vector.
  func testPPowerMatchesPRFMWhenBIsIdentity() throws {
    let (gen, basis) = try FeedForwardGenerator.linear(n: 200, k: 8, seed: 3)
    let (v, _) = Fixtures.signal(in: gen, seed: 7)
    let instance = SpikedCovariancePair(beta: 2).population(signal: v)
    var rng = RandomStream(seed: 1)
    let u = normalized(rng.normals(200))!
    let au = instance.a.apply(u), bu = instance.b.apply(u)
    let rho = dot(u, au) / dot(u, bu)
    let prfmTarget = try PRFM(eta: 1 / rho).target(u: u, au: au, bu: bu, rho: rho, instance: instance)
    let ppowerTarget = try PPower().target(u: u, au: au, bu: bu, rho: rho, instance: instance)
    for (a, b) in zip(prfmTarget, ppowerTarget) { XCTAssertEqual(a * rho, b, accuracy: 1e-12) }

    let projector = ExactLinearProjector(basis: basis)
    let prfm = run(PRFM(eta: 0.2), [instance], projector: projector, iterations: 80)[0]
    let ppower = run(PPower(), [instance], projector: projector, iterations: 80)[0]
    XCTAssertGreaterThan(Fixtures.cosine(prfm.estimate, ppower.estimate), 0.9999)
    XCTAssertGreaterThan(ppower.cosine, 0.999)
  }

  /// PPower ignores B̂, so with B = Σ ≠ I it converges to the leading eigenvector of A alone,
  /// not to v*; PRFM, which uses B̂, still finds v*.
  func testPPowerIsPulledAwayWhenBIsNotIdentity() throws {
    let (gen, basis) = try FeedForwardGenerator.linear(n: 200, k: 8, seed: 4)
    let (v, _) = Fixtures.signal(in: gen, seed: 8)
    let (w, _) = Fixtures.signal(in: gen, seed: 9)
    let instance = SpikedCovariancePair(beta: 2, covariance: .spike(direction: w, gamma: 5)).population(signal: v)
    let projector = ExactLinearProjector(basis: basis)
    let prfm = run(PRFM(eta: 0.1), [instance], projector: projector, iterations: 200)[0]
    let ppower = run(PPower(), [instance], projector: projector, iterations: 200)[0]
    XCTAssertGreaterThan(prfm.cosine, 0.999)
    XCTAssertLessThan(ppower.cosine, prfm.cosine - 0.01)
  }

  func testEarlyStoppingAndFailureReporting() throws {
    let (gen, basis) = try FeedForwardGenerator.linear(n: 100, k: 5, seed: 5)
    let (v, _) = Fixtures.signal(in: gen, seed: 1)
    let instance = SpikedCovariancePair(beta: 2).population(signal: v)
    let outcome = run(PRFM(eta: 0.2), [instance], projector: ExactLinearProjector(basis: basis), iterations: 500, tolerance: 1e-8)[0]
    XCTAssertTrue(outcome.converged)
    XCTAssertLessThan(outcome.iterations, 500)
    XCTAssertEqual(outcome.rhoHistory.count, outcome.iterations + 1)

    // An indefinite Â (ρ < 0) makes Rifle's step undefined: the job fails with the reason.
    var negative = Matrix<Double>.identity(100)
    for i in 0..<100 { negative[i, i] = -1 }
    let bad = ProblemInstance(a: DenseSymmetricOperator(negative), b: IdentityOperator(dimension: 100), signal: v, lambda1: 1, lambda2: 0)
    let failed = run(Rifle(sparsity: 10, etaPrime: 0.5), [bad, instance], projector: nil)
    XCTAssertNotNil(failed[0].failure)
    XCTAssertTrue(failed[0].failure!.contains("ρ_t"), failed[0].failure!)
    XCTAssertNil(failed[1].failure)  // its batchmate is unaffected
  }
}
