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

/// Layer-wise inverters as P_G inside PRFM/PPower (docs/mathematics.md §10 inside docs/mathematics.md §4): exact on targets in
/// the range, refused at plan time where they cannot work, the same bits at 1 and 2 workers.
final class LayerwiseProjectionTests: GGEPTestCase {
  var fixture: ConfigFixture!
  override func setUpWithError() throws { fixture = try ConfigFixture() }
  override func tearDown() { fixture = nil }

  /// A unit target in the range of a bias-free 20-100-625 ReLU net (a cone, so the scale the
  /// cosine mode picks does not matter) is its own projection, for every layer-wise method and
  /// the hybrid; the loss 2 − 2cos is 0 to round-off; a zero target fails its own row only.
  func testATargetInTheRangeIsItsOwnProjection() throws {
    let generator = FeedForwardGenerator.reluMLP(widths: [20, 100, 625], bias: false, activations: [.relu, .relu], seed: 4)
    let network = InversionNetwork(generator)
    var rng = RandomStream(seed: 9, key: "targets")
    var targets = Matrix<Double>(rows: 3, cols: 625)
    for i in 0..<2 {
      let x = network.forward(rng.normals(20)).last!
      let r = norm(x) * Double(i + 1) * 3  // any scale: the projection is of the direction
      for j in 0..<625 { targets.storage[i * 625 + j] = x[j] / r }
    }
    let methods: [(LayerwiseMethod, AdamProjector.Settings?)] = [
      (LayerwiseMethod(LPInverterSpec(settings: LPInverter.Settings())), nil),
      (LayerwiseMethod(LatentPursuitInverterSpec(settings: LatentPursuit.Settings())), nil),
      (LayerwiseMethod(LayeredBPInverterSpec(settings: LayeredBasisPursuit.Settings())), nil),
      (LayerwiseMethod(LatentPursuitInverterSpec(settings: LatentPursuit.Settings())), AdamProjector.Settings(steps: 10, learningRate: 0.01, restarts: 1, lambdaZ: 0)),
    ]
    for (method, refinement) in methods {
      let projector = LayerwiseProjector(generator: generator, inverter: method.inverter(network), mode: .cosine, refinement: refinement)
      let slots = (0..<3).map { ProjectionSlot(rng: RandomStream(seed: UInt64($0), key: "slot")) }
      let outcome = projector.projectRows(targets, slots: slots)
      XCTAssertEqual(Array(outcome.failures.keys), [2], "\(projector.summary)")
      XCTAssertEqual(outcome.failures[2]?.message, "the target is zero")
      for i in 0..<2 {
        let t = normalized(Array(targets.row(i)))!
        let error = zip(outcome.projected.row(i), t).map { Swift.abs($0 - $1) }.max()!
        // LP is exact to round-off; the pursuits to their λ = 1e-6 bias (the 100 dB cap is 1e-5);
        // the hybrid keeps its start or an iterate Float's Adam finds better.
        let exact = refinement == nil && method == LayerwiseMethod(LPInverterSpec(settings: LPInverter.Settings()))
        XCTAssertLessThan(error, exact ? 1e-9 : 1e-5, "\(projector.summary) row \(i)")
        XCTAssertLessThan(slots[i].lastLoss, exact ? 1e-12 : 1e-10, "\(projector.summary) row \(i)")
      }
    }
  }

  /// The hybrid's extra restarts are new draws in every call (every PRFM iteration): the job's
  /// stream moves past them, (restarts − 1)·k normals per target, as Adam's own projector's does.
  /// With one restart (the default) it draws nothing and the stream stays.
  func testTheHybridsRestartsAreNewDrawsInEveryIteration() throws {
    let generator = FeedForwardGenerator.reluMLP(widths: [6, 30, 80], bias: false, activations: [.relu, .relu], seed: 2)
    let network = InversionNetwork(generator)
    var draw = RandomStream(seed: 3, key: "target")
    let x = network.forward(draw.normals(6)).last!
    let targets = Matrix<Double>(rows: 1, cols: 80, storage: x)
    let start = LayerwiseMethod(LatentPursuitInverterSpec(settings: LatentPursuit.Settings()))
    for restarts in [1, 3] {
      let projector = LayerwiseProjector(
        generator: generator, inverter: start.inverter(network), mode: .cosine,
        refinement: AdamProjector.Settings(steps: 3, learningRate: 0.01, restarts: restarts, lambdaZ: 0))
      let slot = ProjectionSlot(rng: RandomStream(seed: 1, key: "job", purpose: "projection"))
      var expected = RandomStream(seed: 1, key: "job", purpose: "projection")
      for call in 0..<2 {
        _ = projector.projectRows(targets, slots: [slot])
        for _ in 0..<((restarts - 1) * 6) { _ = expected.normal() }
        var a = slot.rng, b = expected
        XCTAssertEqual(a.normal().bitPattern, b.normal().bitPattern, "restarts \(restarts), call \(call)")
      }
    }
  }

  static let config = """
    name: lw
    seed: 3
    m: 200
    signal: {source: generator, count: 2}
    generator: {kind: relu-mlp, widths: [10, 40, 160], seed: 1}
    problem: {kind: spiked, beta: 2}
    algorithm: {kind: prfm, eta: 0.2, iterations: 8}
    projection: {method: lp}
    sweep:
      projection:
        - {method: lp}
        - {method: latent-pursuit, debias: true}
        - {method: layered-bp}
        - {method: hybrid, start: lp, steps: 5}

    """

  /// PRFM with each layer-wise projector runs, and gives the same bits at 1 and 2 workers.
  func testPRFMWithLayerwiseProjectorsIsBitwiseReproducible() throws {
    let plan = try fixture.plan(Self.config)
    var files: [[JobRecord]] = []
    for workers in [1, 2] {
      let out = fixture.directory.appendingPathComponent("w\(workers)").path
      let summary = try ExperimentRunner(plan: plan, options: .init(jobs: workers, out: out, progress: nil)).run()
      XCTAssertEqual(summary.failedJobs, 0)
      files.append(try ResultsFile.read(summary.resultsPath).records)
    }
    XCTAssertEqual(files[0].count, 8)
    XCTAssertEqual(
      Set(files[0].map(\.projection).map { String($0.prefix(while: { $0 != "(" })) }), ["lp", "latent-pursuit-debiased", "layered-bp", "hybrid"])
    for (a, b) in zip(files[0], files[1]) {
      var b = b
      b.wallTime = a.wallTime
      XCTAssertEqual(a, b, "job \(a.key) (\(a.projection))")
      XCTAssertGreaterThan(a.cosine, 0.5, "\(a.projection)")
    }
  }

  /// A layer-wise projection on a generator it cannot invert, or with settings that do not fit,
  /// is refused at plan time naming the layer and the activation.
  func testUnsupportedGeneratorsAreRefusedAtPlanTime() throws {
    let softplus = Self.config.replacingOccurrences(of: "widths: [10, 40, 160], seed: 1}", with: "widths: [10, 40, 160], activations: [softplus, relu], seed: 1}")
    assertConfigError(["bad.yaml", "projection.method", "projection method lp cannot invert this generator", "layer 1 (10 → 40) has activation softplus"]) {
      _ = try fixture.plan(String(softplus[..<softplus.range(of: "sweep:")!.lowerBound]), name: "bad.yaml")
    }
    assertConfigError(["projection.method", "layered-bp takes one lambda or one per hidden layer (1 here), got 2"]) {
      _ = try fixture.plan(Self.config.replacingOccurrences(of: "{method: layered-bp}", with: "{method: layered-bp, lambda: [1e-6, 1e-6]}"), name: "l.yaml")
    }
    assertConfigError(["projection.steps", "for method lp"]) {
      _ = try fixture.plan(Self.config.replacingOccurrences(of: "- {method: lp}\n", with: "- {method: lp, steps: 5}\n"), name: "s.yaml")
    }
    assertConfigError(["projection.start", "one of lp, latent-pursuit, layered-bp", "got \"adam\""]) {
      _ = try fixture.plan(Self.config.replacingOccurrences(of: "start: lp", with: "start: adam"), name: "h.yaml")
    }
  }
}
