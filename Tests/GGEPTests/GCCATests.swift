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

/// docs/mathematics.md §9 GCCA: the population pair against LAPACK, the product projection, PRFM on the
/// population and sampled pairs, and the config schema.
final class GCCATests: GGEPTestCase {
  let nv = 20

  func run(_ solver: any EigenSolver, _ instances: [ProblemInstance], projector: any Projector, iterations: Int) -> [SolverOutcome] {
    let n = instances[0].dimension
    var rng = RandomStream(seed: 0)
    return LockstepSolver(solver: solver, iterations: iterations, tolerance: 0).run(
      instances, initial: instances.map { _ in InitialVector.ones.vector(dimension: n, rng: &rng) }, projector: projector,
      slots: instances.map { _ in ProjectionSlot(rng: RandomStream(seed: 1)) })
  }

  func testPopulationByDsygvd() throws {
    let a = Fixtures.sparseSignal(n: nv, support: 8, seed: 1)
    let b = Fixtures.sparseSignal(n: nv, support: 8, seed: 2)
    for sigma: Covariance in [.identity, .toeplitz(r: 0.5)] {
      for (name, bStar) in [("same", a), ("pair", b)] {
        let pair = GCCAPair(alpha2: 2, covariance: sigma, a: a, b: bStar)
        let population = pair.population(signal: [])
        let (values, vectors) = try LAPACK.generalizedEigen(population.a.dense(), population.b.dense())
        let n = 2 * nv
        XCTAssertEqual(values[0], pair.lambda1, accuracy: 1e-9, "\(sigma) \(name)")
        XCTAssertEqual(values[1], 0, accuracy: 1e-9, "\(sigma) \(name)")
        XCTAssertEqual(values[n - 1], -pair.lambda1, accuracy: 1e-9, "\(sigma) \(name)")
        XCTAssertEqual(Fixtures.cosine((0..<n).map { vectors[$0, 0] }, pair.vStar), 1, accuracy: 1e-9, "\(sigma) \(name)")
        XCTAssertEqual(population.lambda2, 0)
        if case .identity = sigma, name == "same" {
          XCTAssertEqual(pair.lambda1, 2.0 / 3.0, accuracy: 1e-12)
          XCTAssertEqual(pair.c, 1, accuracy: 1e-12)
        }
      }
    }
  }

  func testSampledOperatorsMatchDenseAndConcentrate() {
    let a = Fixtures.sparseSignal(n: nv, support: 8, seed: 1)
    let b = Fixtures.sparseSignal(n: nv, support: 8, seed: 2)
    let pair = GCCAPair(alpha2: 2, covariance: .toeplitz(r: 0.5), a: a, b: b)
    var rng = RandomStream(seed: 5)
    let sampled = pair.sample(signal: [], m: 20_000, rng: &rng)
    var vr = RandomStream(seed: 6)
    let v = Matrix(rows: 3, cols: 2 * nv, storage: vr.normals(6 * nv))
    for op in [sampled.a, sampled.b] {
      XCTAssertLessThan(Fixtures.maxAbsDifference(op.apply(v), matmul(v, op.dense())), 1e-10)
      let single = op.apply(Array(v.row(1)))
      let dense = Array(matmul(v, op.dense()).row(1))
      for j in 0..<(2 * nv) { XCTAssertEqual(single[j], dense[j], accuracy: 1e-10) }
    }
    let population = pair.population(signal: [])
    XCTAssertLessThan(Fixtures.maxAbsDifference(sampled.a.dense(), population.a.dense()), 0.1)
    XCTAssertLessThan(Fixtures.maxAbsDifference(sampled.b.dense(), population.b.dense()), 0.1)
  }

  func testProductProjectionIsSeparable() throws {
    let (_, b1) = try FeedForwardGenerator.linear(n: 30, k: 4, seed: 1)
    let (_, b2) = try FeedForwardGenerator.linear(n: 30, k: 5, seed: 2)
    let p1 = ExactLinearProjector(basis: b1)
    let p2 = ExactLinearProjector(basis: b2)
    let product = ProductProjector(factors: [p1, p2])
    var rng = RandomStream(seed: 3)
    let targets = Matrix(rows: 4, cols: 60, storage: rng.normals(240))
    let slots = (0..<4).map { _ in ProjectionSlot(rng: RandomStream(seed: 1)) }
    let out = try product.project(targets, slots: slots)
    for i in 0..<4 {
      let x1 = Array(targets.row(i)[(i * 60)..<(i * 60 + 30)])
      let x2 = Array(targets.row(i)[(i * 60 + 30)...])
      let s1 = (0..<1).map { _ in ProjectionSlot(rng: RandomStream(seed: 1)) }
      let u1 = try p1.project(Matrix(rows: 1, cols: 30, storage: x1), slots: s1).storage
      let u2 = try p2.project(Matrix(rows: 1, cols: 30, storage: x2), slots: s1).storage
      let theta = atan2(max(dot(x2, u2), 0), max(dot(x1, u1), 0))
      let expected = u1.map { cos(theta) * $0 } + u2.map { sin(theta) * $0 }
      let got = Array(out.row(i))
      XCTAssertEqual(norm(got), 1, accuracy: 1e-12)
      for j in 0..<60 { XCTAssertEqual(got[j], expected[j], accuracy: 1e-12) }
    }
  }

  func population(nv: Int, k: Int, views: String) throws -> (GCCAPair, ProductProjector) {
    let (g1, b1) = try FeedForwardGenerator.linear(n: nv, k: k, seed: 1)
    // views same: b* = a*, so both factors must contain it (the same generator twice).
    let (g2, b2) = try FeedForwardGenerator.linear(n: nv, k: k, seed: views == "same" ? 1 : 2)
    let a = Fixtures.signal(in: g1, seed: 1).signal
    let b = views == "same" ? a : Fixtures.signal(in: g2, seed: 2).signal
    return (GCCAPair(alpha2: 2, a: a, b: b), ProductProjector(factors: [ExactLinearProjector(basis: b1), ExactLinearProjector(basis: b2)]))
  }

  func testPRFMConvergesOnPopulation() throws {
    for views in ["same", "pair"] {
      let (pair, projector) = try population(nv: 100, k: 8, views: views)
      let outcome = run(PRFM(eta: GCCADefaults.eta), [pair.population(signal: [])], projector: projector, iterations: 100)[0]
      XCTAssertNil(outcome.failure)
      XCTAssertGreaterThan(outcome.cosine, 0.999, views)
      let (c1, c2) = pair.viewCosines(outcome.estimate)
      XCTAssertGreaterThan(c1, 0.999)
      XCTAssertGreaterThan(c2, 0.999)
    }
  }

  /// The η sweep behind `GCCADefaults.eta` (printed; see its comment).
  /// PRFM's step on the exact population pair (linear product, n_view = 100, k = 8, views pair):
  /// η = 0.5 converges within 10 iterations, η = 0.2 within 30, and from η = 1 the iteration
  /// stalls far from v* (the step overshoots: cos 0.87, 0.82, 0.79 at 30 for η = 1, 1.5, 2).
  func testStepSizeSweepOnPopulation() throws {
    let (pair, projector) = try population(nv: 100, k: 8, views: "pair")
    var at10: [Double: Double] = [:], at30: [Double: Double] = [:]
    for eta in [0.2, 0.5, 1, 1.5, 2] {
      let outcome = run(PRFM(eta: eta), [pair.population(signal: [])], projector: projector, iterations: 30)[0]
      XCTAssertNil(outcome.failure)
      at10[eta] = outcome.cosineHistory.count > 10 ? outcome.cosineHistory[10] : .nan
      at30[eta] = outcome.cosine
    }
    XCTAssertGreaterThan(try XCTUnwrap(at10[0.5]), 0.99)
    XCTAssertGreaterThan(try XCTUnwrap(at10[0.5]), try XCTUnwrap(at10[0.2]))
    XCTAssertEqual(try XCTUnwrap(at30[0.5]), 1, accuracy: 1e-6)
    XCTAssertGreaterThan(try XCTUnwrap(at30[0.2]), 0.999)
    for eta in [1.0, 1.5, 2] { XCTAssertLessThan(try XCTUnwrap(at30[eta]), 0.9, "η = \(eta) should overshoot") }
  }

  func testSampledCosineRisesWithM() throws {
    let (pair, projector) = try population(nv: 100, k: 8, views: "pair")
    var means: [Double] = []
    for m in [50, 400, 3200] {
      var cosines: [Double] = []
      for trial in 0..<4 {
        var rng = RandomStream(seed: UInt64(trial), key: "gcca m \(m)", purpose: "data")
        let outcome = run(PRFM(eta: GCCADefaults.eta), [pair.sample(signal: [], m: m, rng: &rng)], projector: projector, iterations: 50)[0]
        XCTAssertNil(outcome.failure)
        cosines.append(outcome.cosine)
      }
      means.append(cosines.reduce(0, +) / 4)
    }
    XCTAssertLessThan(means[0], means[1])
    XCTAssertLessThan(means[1], means[2])
    XCTAssertGreaterThan(means[2], 0.98)
  }

  func testRiflePerViewTruncation() throws {
    let rifle = Rifle(sparsity: 2, perView: 4)
    let next = try rifle.finish([4, 3, 0.1, 0.2, 0.1, 0.3, 5, 0.2])
    XCTAssertEqual(next.map { $0 != 0 }, [true, true, false, false, false, true, true, false])
  }

  static let gccaConfig = """
    m: 100
    signal:
      source: generator
    generator:
      product:
        - {kind: linear, n: 32, k: 4}
        - {kind: linear, n: 32, k: 4, seed: 2}
    problem:
      kind: gcca
    algorithm:
      kind: prfm

    """

  func testConfigParsesAndRuns() throws {
    let fixture = try ConfigFixture()
    let plan = try fixture.plan(Self.gccaConfig + "sweep:\n  problem:\n    - {kind: gcca}\n    - {kind: gcca, views: pair, covariance: {kind: toeplitz, r: 0.5}, population: true}\n")
    let specs = plan.points.map(\.spec)
    XCTAssertEqual(specs[0].problem, .gcca(.init()))
    XCTAssertEqual(specs.map(\.problem.label), ["gcca", "gcca-pair-toeplitz(r=0.5)-pop"])
    XCTAssertEqual(specs[0].generator.n, 64)
    XCTAssertEqual(specs[0].projection.method, ExactProjectorSpec.method)
    for spec in specs {
      XCTAssertEqual(try JSONDecoder().decode(ExperimentSpec.self, from: Data(spec.canonicalJSON.utf8)), spec)
    }
    let groups = Dictionary(grouping: plan.jobs, by: \.groupKey).values
    let records = try groups.flatMap { try BatchRunner().run(Array($0)) }
    XCTAssertEqual(records.count, plan.jobs.count)
    for record in records {
      XCTAssertEqual(record.status, .ok, record.error)
      XCTAssertEqual(record.viewCosines.count, 2)
      XCTAssertEqual(record.estimate.count, 64)
      XCTAssertEqual(record.lambda2, 0)
    }
  }

  func testConfigErrors() throws {
    let fixture = try ConfigFixture()
    assertConfigError(["generator", "gcca needs a product generator"]) {
      _ = try fixture.plan(ConfigFixture.minimal.replacingOccurrences(of: "kind: spiked", with: "kind: gcca"))
    }
    assertConfigError(["generator.product", "equal dimension", "32 and 40"]) {
      _ = try fixture.plan(Self.gccaConfig.replacingOccurrences(of: "n: 32, k: 4, seed: 2", with: "n: 40, k: 4, seed: 2"))
    }
    assertConfigError(["generator.product", "exactly 2 factors", "got 3"]) {
      _ = try fixture.plan(Self.gccaConfig.replacingOccurrences(of: "    - {kind: linear, n: 32, k: 4}\n", with: "    - {kind: linear, n: 32, k: 4}\n    - {kind: linear, n: 32, k: 4}\n"))
    }
    assertConfigError(["generator", "only for problem kind gcca"]) {
      _ = try fixture.plan(Self.gccaConfig.replacingOccurrences(of: "kind: gcca", with: "kind: spiked"))
    }
    assertConfigError(["algorithm.s", "n_view = 32"]) {
      _ = try fixture.plan(Self.gccaConfig.replacingOccurrences(of: "kind: prfm", with: "kind: rifle\n  s: 40"))
    }
  }
}

/// The product generator's pullback against central differences (linear factors: G is smooth
/// in z and θ, so Float differences with h = 1e-2 are accurate to ~1e-4 relative).
final class ProductGeneratorTests: GGEPTestCase {
  func testPullbackMatchesFiniteDifferences() throws {
    let a = try FeedForwardGenerator.linear(n: 12, k: 3, seed: 1).generator
    let b = try FeedForwardGenerator.linear(n: 12, k: 2, seed: 2).generator
    let product = ProductGenerator(factors: [a, b])
    let (k, n, rows) = (product.latentDimension, product.outputDimension, 2)
    XCTAssertEqual(k, 6)
    XCTAssertEqual(n, 24)
    var rng = RandomStream(seed: 5)
    let z = rng.normals(rows * k).map(Float.init)
    let g = rng.normals(rows * n).map(Float.init)
    let ws = product.makeWorkspace(rows: rows)
    z.withUnsafeBufferPointer { product.forward($0.baseAddress!, workspace: ws) }
    var dz = [Float](repeating: 0, count: rows * k)
    g.withUnsafeBufferPointer { gp in dz.withUnsafeMutableBufferPointer { product.pullback(gp.baseAddress!, into: $0.baseAddress!, workspace: ws) } }
    func objective(_ zz: [Float], row: Int) -> Double {
      let out = product.evaluate(Matrix(rows: rows, cols: k, storage: zz)).storage
      return (0..<n).reduce(0.0) { $0 + Double(g[row * n + $1]) * Double(out[row * n + $1]) }
    }
    let h: Float = 1e-2
    for index in 0..<(rows * k) {
      var plus = z, minus = z
      plus[index] += h
      minus[index] -= h
      let row = index / k
      let numeric = (objective(plus, row: row) - objective(minus, row: row)) / Double(2 * h)
      XCTAssertEqual(Double(dz[index]), numeric, accuracy: 2e-3 * max(1, Swift.abs(numeric)), "dz[\(index)]")
    }
  }
}
