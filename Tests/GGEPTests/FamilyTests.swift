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

/// The docs/mathematics.md §9 problem families GPCA (Eq. 26) and GFDA (Eq. 27): population pairs against
/// LAPACK, PRFM/PPower on them, sampled operators and the config schema.
final class FamilyTests: GGEPTestCase {
  let n = 40

  func run(
    _ solver: any EigenSolver, _ instances: [ProblemInstance], projector: any Projector, iterations: Int
  ) -> [SolverOutcome] {
    let n = instances[0].dimension
    var rng = RandomStream(seed: 0)
    return LockstepSolver(solver: solver, iterations: iterations, tolerance: 0).run(
      instances, initial: instances.map { _ in InitialVector.ones.vector(dimension: n, rng: &rng) }, projector: projector,
      slots: instances.map { _ in ProjectionSlot(rng: RandomStream(seed: 1)) })
  }

  func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(xs.count) }

  // MARK: Population pairs by dsygvd

  func testGPCAPopulationByDsygvd() throws {
    let v = Fixtures.sparseSignal(n: n, support: 12, seed: 1)
    let population = GPCAPair(beta: 2).population(signal: v)
    XCTAssertTrue(population.b is IdentityOperator)
    let (values, vectors) = try LAPACK.generalizedEigen(population.a.dense(), population.b.dense())
    XCTAssertEqual(values[0], 3, accuracy: 1e-10)
    XCTAssertEqual(values[1], 1, accuracy: 1e-10)
    XCTAssertEqual(values[n - 1], 1, accuracy: 1e-10)
    XCTAssertEqual(Fixtures.cosine((0..<n).map { vectors[$0, 0] }, v), 1, accuracy: 1e-10)
    XCTAssertEqual(population.lambda1, 3)
    XCTAssertEqual(population.lambda2, 1)
  }

  func testGFDAPopulationByDsygvd() throws {
    let v = Fixtures.sparseSignal(n: n, support: 15, seed: 3)
    let w = Fixtures.sparseSignal(n: n, support: 15, seed: 4)
    let delta = 2.0.squareRoot()
    for sigma: Covariance in [.identity, .toeplitz(r: 0.5), .spike(direction: w, gamma: 5)] {
      let pair = GFDAPair(delta: delta, covariance: sigma)
      let population = pair.population(signal: v)
      XCTAssertTrue(population.a is RankOneOperator)
      let (values, vectors) = try LAPACK.generalizedEigen(population.a.dense(), population.b.dense())
      let expected = delta * delta * dot(v, sigma.multiply(v))
      XCTAssertEqual(values[0], expected, accuracy: 1e-9, "\(sigma)")
      XCTAssertEqual(values[1], 0, accuracy: 1e-9, "\(sigma)")
      XCTAssertEqual(values[n - 1], 0, accuracy: 1e-9, "\(sigma)")
      XCTAssertEqual(population.lambda1, expected, accuracy: 1e-12)
      XCTAssertEqual(population.lambda2, 0)
      XCTAssertEqual(Fixtures.cosine((0..<n).map { vectors[$0, 0] }, v), 1, accuracy: 1e-9, "\(sigma)")
    }
    // Σ = I and δ = √2: λ1 = 2.
    XCTAssertEqual(GFDAPair().populationEigenvalues(signal: v).lambda1, 2, accuracy: 1e-12)
  }

  // MARK: Operators

  func testRankOneAndScaledGramOperatorsMatchDense() {
    var rng = RandomStream(seed: 11)
    let d = rng.normals(n)
    let rankOne = RankOneOperator(vector: d, scale: 1.5)
    let x = Matrix(rows: 25, cols: n, storage: rng.normals(25 * n))
    let pooled = GramOperator(samples: x, divisor: 23)
    let plain = GramOperator(samples: x)
    XCTAssertLessThan(Fixtures.maxAbsDifference(rankOne.dense(), matmul(Matrix(rows: n, cols: 1, storage: d.map { 1.5 * $0 }), Matrix(rows: 1, cols: n, storage: d))), 1e-12)
    for m in [1, 3] {
      let block = Matrix(rows: m, cols: n, storage: rng.normals(m * n))
      for op in [rankOne as any SymmetricOperator, pooled] {
        XCTAssertLessThan(Fixtures.maxAbsDifference(op.apply(block), matmul(block, op.dense())), 1e-12, "\(op) p=\(m)")
      }
    }
    // 1/(m − 2) instead of 1/m: the pooled operator is the plain one times m/(m − 2).
    let ratio = 25.0 / 23.0
    XCTAssertLessThan(Fixtures.maxAbsDifference(pooled.dense(), Matrix(rows: n, cols: n, storage: plain.dense().storage.map { $0 * ratio })), 1e-12)
  }

  /// The sampled GFDA pair concentrates on the population: B̂ → Σ, and d̂'s direction → Σv*
  /// (E[Â] = A + (4/m)Σ, so Â itself is compared through its direction).
  func testSampledGFDAConcentratesOnPopulation() {
    let v = Fixtures.sparseSignal(n: n, support: 12, seed: 7)
    for sigma: Covariance in [.identity, .toeplitz(r: 0.5)] {
      let pair = GFDAPair(covariance: sigma)
      let sigmaDense = sigma.dense(dimension: n)
      let sv = sigma.multiply(v)
      var bErrors: [Double] = []
      var aCosines: [Double] = []
      for m in [200, 20_000] {
        var rng = RandomStream(seed: 8, key: "gfda m\(m)")
        let sampled = pair.sample(signal: v, m: m, rng: &rng)
        let diff = zip(sampled.b.dense().storage, sigmaDense.storage).map { $0 - $1 }
        bErrors.append(norm(diff) / norm(sigmaDense.storage))
        let d = (sampled.a as! RankOneOperator).vector
        aCosines.append(Fixtures.cosine(d, sv))
        // Â u = d̂ (d̂ᵀu)
        let au = sampled.a.apply(v)
        XCTAssertLessThan(norm(zip(au, d.map { $0 * dot(d, v) }).map { $0 - $1 }), 1e-12)
      }
      XCTAssertLessThan(bErrors[1], bErrors[0] / 4, "\(sigma): \(bErrors)")  // ~10× smaller
      XCTAssertLessThan(bErrors[1], 0.2, "\(sigma): \(bErrors)")
      XCTAssertGreaterThan(aCosines[1], aCosines[0], "\(sigma)")
      XCTAssertGreaterThan(aCosines[1], 0.97, "\(sigma): \(aCosines)")
    }
  }

  /// E[d̂] = δΣv* and E[B̂] = Σ exactly (unbiased pooled covariance): averaged over many small
  /// draws the mean of B̂'s diagonal is ≈ Σ's (1 for identity), not (m − 2)/m of it.
  func testPooledCovarianceIsUnbiased() {
    let v = Fixtures.sparseSignal(n: n, support: 12, seed: 9)
    let pair = GFDAPair()
    var total = 0.0
    let draws = 400
    for t in 0..<draws {
      var rng = RandomStream(seed: 10, key: "draw \(t)")
      let b = pair.sample(signal: v, m: 6, rng: &rng).b.dense()
      total += (0..<n).map { b[$0, $0] }.reduce(0, +) / Double(n)
    }
    // Mean of 400 × 40 diagonal entries, each ~ χ²₄/4 (variance 1/2): standard error ≈ 0.006.
    XCTAssertEqual(total / Double(draws), 1, accuracy: 0.03)
  }

  // MARK: Algorithms

  /// Population GFDA with an exact projection: PRFM converges to v*.
  ///
  /// η from λ1: near v*, PRFM's update u + η(A − ρB)u with ρ ≈ λ1 multiplies an error e in
  /// the generator's range (where A e ≈ 0, since A is rank one along Σv*) by I − ηλ1Σ. With
  /// η = 1/(2λ1‖Σ‖) the factors 1 − ηλ1 b, b in Σ's spectrum, lie in [1/2, 1): a contraction
  /// without sign flips; in particular η(λ1 − λ2) = ηλ1 = 1/(2‖Σ‖) < 1 (λ2 = 0). A fixed
  /// η = 0.2 would not do: λ1 = δ²v*ᵀΣv* varies with Σ, and for the spike Σ (‖Σ‖ = 6, λ1 up
  /// to 12) η λ1 ‖Σ‖ > 2 overshoots and diverges.
  func testPRFMConvergesOnPopulationGFDA() throws {
    let (gen, basis) = try FeedForwardGenerator.linear(n: 200, k: 10, seed: 1)
    let projector = ExactLinearProjector(basis: basis)
    let (v, _) = Fixtures.signal(in: gen, seed: 3)
    let (w, _) = Fixtures.signal(in: gen, seed: 4)
    let choices: [(Covariance, Double)] = [(.identity, 1), (.toeplitz(r: 0.5), 3), (.spike(direction: w, gamma: 5), 6)]
    for (sigma, sigmaNorm) in choices {
      let pair = GFDAPair(covariance: sigma)
      let instance = pair.population(signal: v)
      let eta = 1 / (2 * instance.lambda1 * sigmaNorm)
      XCTAssertLessThan(eta * (instance.lambda1 - instance.lambda2), 1)
      let outcome = run(PRFM(eta: eta), [instance], projector: projector, iterations: 300)[0]
      XCTAssertNil(outcome.failure)
      XCTAssertGreaterThan(outcome.cosine, 0.999, "\(sigma), η = \(eta)")
      XCTAssertEqual(outcome.finalRho, instance.lambda1, accuracy: 1e-3 * instance.lambda1, "\(sigma)")
    }
  }

  /// Sampled GFDA (Σ = I, λ1 = 2): the mean cosine over signals rises with m and exceeds 0.9
  /// at m = 20n. η = 1/(2λ1) = 0.25, as above with ‖Σ‖ = 1.
  func testPRFMCosineRisesWithSamplesOnGFDA() throws {
    let n = 200
    let (gen, basis) = try FeedForwardGenerator.linear(n: n, k: 10, seed: 2)
    let projector = ExactLinearProjector(basis: basis)
    let signals = (0..<4).map { Fixtures.signal(in: gen, seed: UInt64(10 + $0)).signal }
    let pair = GFDAPair()
    var means: [Double] = []
    for m in [20, 200, 20 * n] {
      let instances = signals.enumerated().map { i, v in
        var rng = RandomStream(seed: 5, key: "gfda m=\(m) signal=\(i)")
        return pair.sample(signal: v, m: m, rng: &rng)
      }
      let eta = 1 / (2 * instances[0].lambda1)
      let outcomes = run(PRFM(eta: eta), instances, projector: projector, iterations: 60)
      XCTAssertTrue(outcomes.allSatisfy { $0.failure == nil })
      means.append(mean(outcomes.map(\.cosine)))
    }
    XCTAssertLessThan(means[0], means[1], "means \(means)")
    XCTAssertLessThan(means[1], means[2], "means \(means)")
    XCTAssertGreaterThan(means[2], 0.9, "means \(means)")
  }

  /// GPCA is PPower's home ground (B̂ = I exactly): on the same sampled data PRFM and PPower
  /// reach nearly the same estimate, and both find v* at large m.
  func testPRFMAndPPowerAgreeOnSampledGPCA() throws {
    let n = 200
    let (gen, basis) = try FeedForwardGenerator.linear(n: n, k: 8, seed: 3)
    let projector = ExactLinearProjector(basis: basis)
    let signals = (0..<3).map { Fixtures.signal(in: gen, seed: UInt64(20 + $0)).signal }
    let instances = signals.enumerated().map { i, v in
      var rng = RandomStream(seed: 6, key: "gpca signal=\(i)")
      return GPCAPair(beta: 2).sample(signal: v, m: 20 * n, rng: &rng)
    }
    XCTAssertTrue(instances.allSatisfy { $0.b is IdentityOperator })
    let prfm = run(PRFM(eta: 0.2), instances, projector: projector, iterations: 80)
    let ppower = run(PPower(), instances, projector: projector, iterations: 80)
    for (a, b) in zip(prfm, ppower) {
      XCTAssertGreaterThan(Fixtures.cosine(a.estimate, b.estimate), 0.99)
      XCTAssertGreaterThan(a.cosine, 0.95)
      XCTAssertGreaterThan(b.cosine, 0.95)
    }
  }

  /// GPCA's Â uses the same draws as Eq. (24)'s Â with Σ = I (z, then W).
  func testGPCASharesSpikedDrawsForA() {
    let v = Fixtures.sparseSignal(n: n, support: 10, seed: 12)
    var r1 = RandomStream(seed: 3, key: "same")
    var r2 = RandomStream(seed: 3, key: "same")
    let gpca = GPCAPair(beta: 2).sample(signal: v, m: 50, rng: &r1)
    let spiked = SpikedCovariancePair(beta: 2).sample(signal: v, m: 50, rng: &r2)
    XCTAssertEqual(gpca.a.dense().storage, spiked.a.dense().storage)
  }

  // MARK: Config

  func testFamilyConfigsParseWithDefaultsAndLabels() throws {
    let fixture = try ConfigFixture()
    let plan = try fixture.plan(
      ConfigFixture.minimal + """
        sweep:
          problem:
            - {kind: gpca}
            - {kind: gfda}
            - {kind: gfda, delta: 3, covariance: {kind: toeplitz, r: 0.5}}
            - {kind: gpca, beta: 4, population: true}
            - {kind: gfda, covariance: {kind: spike}, population: true}

        """)
    let problems = plan.points.map(\.spec.problem)
    XCTAssertEqual(problems[0], .gpca(.init(beta: 2)))
    XCTAssertEqual(problems[1], .gfda(.init(delta: 2.0.squareRoot())))
    XCTAssertEqual(problems[2], .gfda(.init(delta: 3, covariance: .toeplitz(r: 0.5))))
    XCTAssertEqual(problems.map(\.label), ["gpca", "gfda", "gfda-toeplitz(r=0.5)", "gpca-pop", "gfda-spike(gamma=5)-pop"])
    for point in plan.points {
      let decoded = try JSONDecoder().decode(ExperimentSpec.self, from: Data(point.spec.canonicalJSON.utf8))
      XCTAssertEqual(decoded, point.spec)
    }
  }

  func testGFDAOddMIsAnError() throws {
    let fixture = try ConfigFixture()
    let gfda = ConfigFixture.minimal.replacingOccurrences(of: "kind: spiked", with: "kind: gfda")
    assertConfigError(["m", "even", "gfda", "got 101"]) {
      _ = try fixture.plan(gfda.replacingOccurrences(of: "m: 100", with: "m: 101"))
    }
    // also when m comes from a sweep point (the error names the swept value)
    let error = assertConfigError(["m", "even", "got 51"]) {
      _ = try fixture.plan(gfda + "sweep:\n  m: [50, 51, 52]\n")
    }
    XCTAssertNotNil(error)
    // and when the problem comes from the sweep while m is the base value
    assertConfigError(["m", "even", "got 101"]) {
      _ = try fixture.plan(
        ConfigFixture.minimal.replacingOccurrences(of: "m: 100", with: "m: 101")
          + "sweep:\n  problem:\n    - {kind: gpca}\n    - {kind: gfda}\n")
    }
    // even m is fine; GPCA has no parity constraint
    XCTAssertEqual(try fixture.plan(gfda + "sweep:\n  m: [50, 52]\n").points.count, 2)
    XCTAssertEqual(
      try fixture.plan(ConfigFixture.minimal.replacingOccurrences(of: "m: 100", with: "m: 101").replacingOccurrences(of: "kind: spiked", with: "kind: gpca")).points.count, 1)
  }

  func testUnknownKeysPerFamilyAreRejected() throws {
    let fixture = try ConfigFixture()
    let gfda = ConfigFixture.minimal.replacingOccurrences(of: "kind: spiked", with: "kind: gfda")
    let gpca = ConfigFixture.minimal.replacingOccurrences(of: "kind: spiked", with: "kind: gpca")
    assertConfigError(["problem.beta", "unknown key for kind gfda"]) {
      _ = try fixture.plan(gfda.replacingOccurrences(of: "kind: gfda", with: "kind: gfda\n  beta: 2"))
    }
    assertConfigError(["problem.delta", "unknown key for kind gpca"]) {
      _ = try fixture.plan(gpca.replacingOccurrences(of: "kind: gpca", with: "kind: gpca\n  delta: 1"))
    }
    assertConfigError(["problem.covariance", "unknown key for kind gpca"]) {
      _ = try fixture.plan(gpca.replacingOccurrences(of: "kind: gpca", with: "kind: gpca\n  covariance: {kind: identity}"))
    }
    assertConfigError(["problem.delta", "must be > 0", "got 0"]) {
      _ = try fixture.plan(gfda.replacingOccurrences(of: "kind: gfda", with: "kind: gfda\n  delta: 0"))
    }
  }

  /// The runtime maps the specs to the pairs, with Σ built as for `spiked`.
  func testBatchRunnerBuildsFamilyPairs() throws {
    let fixture = try ConfigFixture()
    let plan = try fixture.plan(
      ConfigFixture.minimal + """
        sweep:
          problem:
            - {kind: gpca, beta: 3}
            - {kind: gfda, delta: 2, covariance: {kind: toeplitz, r: 0.25}}

        """)
    let gen = try FeedForwardGenerator.linear(n: 32, k: 4, seed: 1).0
    let source = try SignalSource(spec: plan.points[0].spec.signal, generator: gen)
    let runner = BatchRunner()
    let gpca = try runner.problemPair(plan.points[0].spec.problem, source: source, signalIndex: 0, dataKey: "k", seed: 0, n: 32)
    XCTAssertEqual((gpca as? GPCAPair)?.beta, 3)
    let gfda = try runner.problemPair(plan.points[1].spec.problem, source: source, signalIndex: 0, dataKey: "k", seed: 0, n: 32)
    XCTAssertEqual((gfda as? GFDAPair)?.delta, 2)
    guard case .toeplitz(let r)? = (gfda as? GFDAPair)?.covariance else { return XCTFail("\(gfda)") }
    XCTAssertEqual(r, 0.25)
  }
}
