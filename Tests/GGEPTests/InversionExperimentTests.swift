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

/// The experiment kind `inversion` (docs/mathematics.md §10) end to end: the committed smoke config, thread-count
/// independence, verify, the report, the per-layer metrics, and bad configs refused before any
/// job runs.
final class InversionExperimentTests: GGEPTestCase {
  var fixture: ConfigFixture!
  override func setUpWithError() throws { fixture = try ConfigFixture() }
  override func tearDown() { fixture = nil }

  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  func run(_ plan: ExperimentPlan, jobs: Int, _ name: String) throws -> ExperimentRunner.Summary {
    try ExperimentRunner(plan: plan, options: .init(jobs: jobs, out: fixture.directory.appendingPathComponent(name).path, progress: nil)).run()
  }

  /// `configs/examples/inversion-smoke.yaml` runs every method in both regimes; the regimes
  /// behave as Aberdam et al. say (layer-wise exact at n₁ = 100, layer-wise failing and Adam
  /// succeeding at n₁ = 1000 ≫ n₂); the results are bitwise equal at 1 and 2 workers, verify
  /// re-runs them, and the report has its table and figures.
  func testSmokeConfigRunsEveryMethodInBothRegimes() throws {
    let plan = try ExperimentPlan.load(path: Self.root.appendingPathComponent("configs/examples/inversion-smoke.yaml").path)
    XCTAssertEqual(plan.kind.name, "inversion")
    let two = try run(plan, jobs: 2, "two")
    XCTAssertEqual(two.failedJobs, 0)
    let records = try ResultsFile.read(two.resultsPath).records
    XCTAssertEqual(records.count, plan.jobs.count)
    let methods = Set(records.map { $0[InversionColumn.method] })
    let layerwise: Set = ["oracle", "lp", "layered-bp", "latent-pursuit", "latent-pursuit-debiased"]
    XCTAssertEqual(methods, layerwise.union(["adam", "hybrid"]))

    func snrs(_ method: String, _ n1: Int) -> [Double] {
      records.filter { $0[InversionColumn.method] == method && $0[InversionColumn.nHidden1] == n1 }.map { $0[InversionColumn.snrLatentDB] }
    }
    for method in methods {
      XCTAssertEqual(snrs(method, 100).count, 3)
      XCTAssertTrue(snrs(method, 100).allSatisfy { $0 > 60 }, "\(method) at n1 = 100: \(snrs(method, 100))")
    }
    for method in layerwise {
      XCTAssertTrue(snrs(method, 1000).allSatisfy { $0 < 20 }, "\(method) at n1 = 1000: \(snrs(method, 1000))")
    }
    XCTAssertTrue(snrs("adam", 1000).allSatisfy { $0 > 60 }, "adam at n1 = 1000: \(snrs("adam", 1000))")
    for r in records {
      // docs/mathematics.md §10's prediction: unique at 20-100-625, not at 20-1000-625 (the last layer's
      // ~312 active outputs cannot determine ~500 active inputs).
      XCTAssertEqual(r[InversionColumn.uniquePredicted], r[InversionColumn.nHidden1] == 100, r[InversionColumn.uniqueness])
      XCTAssertEqual(r[InversionColumn.success], r[InversionColumn.snrLatentDB] >= 40)
      XCTAssertEqual(r[InversionColumn.zHat].count, 20)
      XCTAssertEqual(r[InversionColumn.xHat].count, 625)
      XCTAssertEqual(r[InversionColumn.widths], "20-\(r[InversionColumn.nHidden1])-625")
      XCTAssertTrue(r[InversionColumn.snrLayer[1]].isNaN)
    }
    // The same z* meets every method: paired comparisons.
    let zStars = Dictionary(grouping: records.filter { $0[InversionColumn.nHidden1] == 100 }, by: \.signal).mapValues { Set($0.map { $0[InversionColumn.zStar] }) }
    XCTAssertTrue(zStars.values.allSatisfy { $0.count == 1 })

    // Bitwise equal at one worker, every method (the LP included), wall time aside.
    let one = try run(plan, jobs: 1, "one")
    let again = try ResultsFile.read(one.resultsPath).records
    XCTAssertEqual(again.count, records.count)
    for (a, b) in zip(records, again) {
      var b = b
      b.wallTime = a.wallTime
      XCTAssertEqual(a, b, "job \(a.key) (\(a[InversionColumn.method]))")
    }

    // verify re-runs a sample.
    let audit = try ResultsVerifier.verify(two.resultsPath, sample: 6)
    XCTAssertTrue(audit.passed, "\(audit.mismatches)")

    let report = fixture.directory.appendingPathComponent("report").path
    let written = try InversionKind().report(two.resultsPath, to: report, options: ReportOptions())
    let names = Set(written.map { ($0 as NSString).lastPathComponent })
    XCTAssertTrue(names.isSuperset(of: ["table.md", "summary.md", "figure_snr.svg", "figure_snr.png", "figure_success.svg"]), "\(names)")
    let table = try String(contentsOfFile: report + "/table.md", encoding: .utf8)
    XCTAssertTrue(table.contains("| 100 | lp | 3 | 100.0 [100.0, 100.0, 100.0, 100.0] | 100% | 100% |"), table)
    XCTAssertTrue(table.contains("| 1000 | adam | 3 |"), table)
    let svg = try String(contentsOfFile: report + "/figure_snr.svg", encoding: .utf8)
    XCTAssertTrue(svg.contains("whisker"), "percentile whiskers drawn")
  }

  /// Noise at a given SNR has that SNR; a mask hides the stated fraction (nested across
  /// fractions); hidden rows hide the top of the image; the LP on the observed entries still
  /// recovers the good regime exactly.
  func testCorruptions() throws {
    let text = """
      experiment: inversion
      signals: 2
      generator: {kind: relu-mlp, widths: [10, 60, 400]}
      method: {kind: lp}
      sweep:
        mask_fraction: [0, 0.25, 0.5]

      """
    let plan = try fixture.plan(text)
    let masked = try ResultsFile.read(try run(plan, jobs: 2, "mask").resultsPath).records
    for r in masked {
      XCTAssertEqual(r[InversionColumn.observed], 400 - Int((r[InversionColumn.maskFraction] * 400).rounded()))
      XCTAssertEqual(r[InversionColumn.x].filter { $0 != 0 }.count <= r[InversionColumn.observed], true)
      XCTAssertGreaterThan(r[InversionColumn.snrLatentDB], 60, "mask \(r[InversionColumn.maskFraction])")
    }
    // Nested masks: every entry hidden at 25% is hidden at 50% (same signal).
    let quarter = masked.first { $0.signal == 0 && $0[InversionColumn.maskFraction] == 0.25 }![InversionColumn.x]
    let half = masked.first { $0.signal == 0 && $0[InversionColumn.maskFraction] == 0.5 }![InversionColumn.x]
    let clean = masked.first { $0.signal == 0 && $0[InversionColumn.maskFraction] == 0 }![InversionColumn.x]
    for j in clean.indices where quarter[j] == 0 && clean[j] != 0 { XCTAssertEqual(half[j], 0) }

    // Noise at 20 dB: ‖x − G(z*)‖ / ‖G(z*)‖ ≈ 0.1 (over 400 entries, within 15%).
    let noisy = try fixture.plan(text.replacingOccurrences(of: "mask_fraction: [0, 0.25, 0.5]", with: "noise_snr_db: [20]"), name: "noise.yaml")
    let records = try ResultsFile.read(try run(noisy, jobs: 1, "noise").resultsPath).records
    let net = InversionNetwork(try XCTUnwrap(try GeneratorFactory.shared.build((noisy.points[0].kindSpec as! InversionSpec).generator).generator as? FeedForwardGenerator))
    for r in records {
      let x = net.forward(r[InversionColumn.zStar]).last!
      XCTAssertEqual(signalToNoiseDB(x, r[InversionColumn.x]), 20, accuracy: 1.5)
      // With noise, the ℓ∞ LP no longer recovers exactly, but does not fail either.
      XCTAssertEqual(r.status, .ok)
      XCTAssertLessThan(r[InversionColumn.snrLatentDB], 60)
    }

    // Hidden rows: the top 3 rows of the 20 × 20 output are not observed.
    let rows = try fixture.plan(text.replacingOccurrences(of: "mask_fraction: [0, 0.25, 0.5]", with: "hidden_rows: [3]"), name: "rows.yaml")
    let hidden = try ResultsFile.read(try run(rows, jobs: 1, "rows").resultsPath).records
    for r in hidden {
      XCTAssertEqual(r[InversionColumn.observed], 400 - 60)
      XCTAssertTrue(r[InversionColumn.x].prefix(60).allSatisfy { $0 == 0 })
    }
  }

  /// The uniqueness prediction on a hand-made net: known supports give known verdicts.
  func testUniquenessPredictionAndPerLayerSNR() throws {
    // Layer 1: 2 → 6 with every output active for z = (1, 1) (W = 1): |S₁| = 6 ≥ 2k = 4 → yes.
    // Layer 2: 6 → 8, W = 1, b = −5 on half the outputs: 4 active < 2·6 → no. A sigmoid output exempt.
    func network(_ output: Activation) -> InversionNetwork {
      let g1 = DenseLayer(weights: Matrix(rows: 2, cols: 6, storage: [Float](repeating: 1, count: 12)), bias: [], activation: .relu)
      let g2 = DenseLayer(
        weights: Matrix(rows: 6, cols: 8, storage: [Float](repeating: 1, count: 48)), bias: [0, 0, 0, 0, -100, -100, -100, -100], activation: output)
      return InversionNetwork(FeedForwardGenerator(layers: [g1, g2], summary: "hand-made"))
    }
    XCTAssertEqual(InversionBatch.uniqueness(network: network(.relu), zStar: [1, 1], observed: nil), ["yes", "no"])
    XCTAssertEqual(InversionBatch.uniqueness(network: network(.sigmoid), zStar: [1, 1], observed: nil), ["yes", "exempt"])
    // Per-layer SNR on known vectors: ‖a‖ = 5, ‖â − a‖ = 0.05 → 40 dB; equal → the 100 dB cap.
    XCTAssertEqual(signalToNoiseDB([3, 4], [3.05, 4]), 40, accuracy: 1e-9)
    XCTAssertEqual(signalToNoiseDB([3, 4], [3, 4]), 100)
    XCTAssertEqual(signalToNoiseDB([3, 4], [-3, -4]), 20 * log10(0.5), accuracy: 1e-12)
    XCTAssertEqual(InversionReport.percentile([1, 2, 3, 4], 0.25), 1.75)
    XCTAssertEqual(InversionReport.percentile([-.infinity, 2], 0.25), -.infinity)
  }

  /// A trained image generator (the committed VAE's decoder, 20-500-500-784, softplus hidden
  /// layers: Adam only) inverted with the top 13 of 28 rows hidden and with half the pixels
  /// hidden: the report draws an image grid per corruption, the observed x has the hidden rows
  /// at 0, and the layer-wise methods are refused on the softplus layers.
  func testATrainedImageModelGetsImageGrids() throws {
    let model = MNISTLocation.packageRoot + "/models/mnist-vae.h5"
    let text = """
      experiment: inversion
      signals: 3
      generator: {kind: vae-mnist, model: \(model)}
      method: {kind: adam, steps: 40, restarts: 1}
      sweep:
        hidden_rows: [0, 13]

      """
    let plan = try fixture.plan(text)
    let summary = try run(plan, jobs: 2, "vae")
    XCTAssertEqual(summary.failedJobs, 0)
    let records = try ResultsFile.read(summary.resultsPath).records
    for r in records {
      XCTAssertFalse(r[InversionColumn.generatorChecksum].isEmpty)
      XCTAssertEqual(r[InversionColumn.observed], 784 - 28 * r[InversionColumn.hiddenRows])
      XCTAssertTrue(r[InversionColumn.x].prefix(28 * r[InversionColumn.hiddenRows]).allSatisfy { $0 == 0 })
      XCTAssertTrue(r[InversionColumn.snrOutputDB].isFinite)
    }
    let written = try InversionKind().report(summary.resultsPath, to: fixture.directory.appendingPathComponent("report").path, options: ReportOptions())
    let grids = written.filter { ($0 as NSString).lastPathComponent.hasPrefix("grid") }.map { ($0 as NSString).lastPathComponent }
    XCTAssertEqual(grids.sorted(), ["grid-hidden_rows=0.png", "grid-hidden_rows=13.png"])
    let png = try Data(contentsOf: URL(fileURLWithPath: written.first { $0.hasSuffix("grid-hidden_rows=13.png") }!))
    XCTAssertEqual(Array(png.prefix(4)), [0x89, 0x50, 0x4E, 0x47])
    assertConfigError(["method lp cannot invert this generator", "has activation softplus"]) {
      _ = try fixture.plan(text.replacingOccurrences(of: "{kind: adam, steps: 40, restarts: 1}", with: "{kind: lp}"), name: "lp.yaml")
    }
  }

  /// Bad configs are refused at plan time with the file, the key and the value.
  /// The kinds share one vocabulary for signals: `signal: {source: generator, count: N}` plans
  /// the same jobs, with the same keys, as the older `signals: N`; both at once, another source
  /// or another key under `signal` are refused by name.
  func testSignalsAreWrittenAsInTheGEPKind() throws {
    let base = """
      experiment: inversion
      seed: 7
      generator: {kind: relu-mlp, widths: [10, 40, 80], seed: 1}
      method: {kind: lp}

      """
    let old = try fixture.plan(base + "signals: 3\n")
    let shared = try fixture.plan(base + "signal: {source: generator, count: 3}\n")
    XCTAssertEqual(shared.jobs.map(\.key), old.jobs.map(\.key))
    XCTAssertEqual(shared.jobs.count, 3)
    XCTAssertEqual(try fixture.plan(base + "signal: {count: 3}\n").jobs.map(\.key), old.jobs.map(\.key))
    for (text, expected) in [
      ("signals: 3\nsignal: {count: 3}\n", "not both"),
      ("signal: {source: mnist, count: 3}\n", "source must be generator"),
      ("signal: {count: 3, seed: 2}\n", "signal.seed"),
      ("signal: {count: 0}\n", "signal.count"),
    ] {
      XCTAssertThrowsError(try fixture.plan(base + text), text) { error in
        XCTAssertTrue("\(error)".contains(expected), "\(text): \(error)")
      }
    }
  }

  func testBadConfigsAreRefusedBeforeAnyJobRuns() throws {
    let good = """
      experiment: inversion
      generator: {kind: relu-mlp, widths: [10, 60, 400]}
      method: {kind: lp}
      mask_fraction: 0.2

      """
    XCTAssertNoThrow(try fixture.plan(good))
    func refused(_ from: String, _ to: String, _ fragments: [String]) {
      assertConfigError(fragments) { _ = try fixture.plan(good.replacingOccurrences(of: from, with: to), name: "bad.yaml") }
    }
    refused("{kind: lp}", "{kind: gradient}", ["bad.yaml:3", "method.kind", "unknown inversion method \"gradient\""])
    refused("mask_fraction: 0.2", "mask_fraction: 1", ["bad.yaml:4", "mask_fraction", "must be in [0, 1)", "got 1"])
    refused("mask_fraction: 0.2", "mask_fraction: -0.1", ["mask_fraction", "got -0.1"])
    refused("mask_fraction: 0.2", "noise_sigma: -0.5", ["bad.yaml:4", "noise_sigma", "≥ 0, got -0.5"])
    refused("mask_fraction: 0.2", "noise_snr_db: -50", ["noise_snr_db", "≥ −20", "got -50"])
    refused("{kind: lp}", "{kind: lp, steps: 10}", ["method.steps", "for method lp"])
    refused("mask_fraction: 0.2", "hidden_rows: 25", ["hidden_rows", "fewer than side rows", "got 25"])
    // A layer-wise method on a generator with a hidden activation it cannot invert: the layer
    // and the activation are named; Adam takes the same generator.
    let softplus = good.replacingOccurrences(of: "widths: [10, 60, 400]}", with: "widths: [10, 60, 400], activations: [softplus, relu]}")
    assertConfigError(["method.kind", "method lp cannot invert this generator", "layer 1 (10 → 60) has activation softplus"]) {
      _ = try fixture.plan(softplus, name: "softplus.yaml")
    }
    XCTAssertNoThrow(try fixture.plan(softplus.replacingOccurrences(of: "{kind: lp}", with: "{kind: adam}"), name: "adam.yaml"))
    assertConfigError(["generator", "needs one generator, not a product"]) {
      _ = try fixture.plan(
        good.replacingOccurrences(of: "{kind: relu-mlp, widths: [10, 60, 400]}", with: "{product: [{kind: linear, n: 10, k: 2}, {kind: linear, n: 10, k: 2}]}"),
        name: "product.yaml")
    }
  }
}
