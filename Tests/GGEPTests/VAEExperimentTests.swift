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

/// The VAE prior in experiments: the committed model and real MNIST test images, end to end.
/// `make test` fetches MNIST first (`make data`); without it these tests fail, not skip.
final class VAEExperimentTests: GGEPTestCase {
  var fixture: ConfigFixture!
  override func setUpWithError() throws { fixture = try ConfigFixture() }
  override func tearDown() { fixture = nil }

  func mnistDirectory() throws -> String {
    guard let directory = MNISTLocation.directory else {
      throw CLIDataMissing(message: "MNIST not found in $MNIST_DIR, data/mnist or ../shared/datasets/mnist: run `make data`")
    }
    return directory
  }

  struct CLIDataMissing: Error { let message: String }

  var modelPath: String { MNISTLocation.packageRoot + "/models/mnist-vae.h5" }

  /// The example config runs, and shows the paper's ordering where it is clear: PRFM (and
  /// PPower) with the generative prior well above Rifle20 at m = 300.
  func testVAESmokeExampleRuns() throws {
    let config = MNISTLocation.packageRoot + "/configs/examples/vae-smoke.yaml"
    let plan = try ExperimentPlan.load(path: config, overrides: ["generator.model=\(modelPath)", "signal.data=\(try mnistDirectory())"])
    let out = fixture.directory.appendingPathComponent("vae").path
    let summary = try ExperimentRunner(plan: plan, options: .init(jobs: 2, out: out, progress: nil)).run()
    XCTAssertEqual(summary.failedJobs, 0)
    let records = try ResultsFile.read(summary.resultsPath).records
    func mean(_ algorithm: String) -> Double {
      let c = records.filter { $0.algorithm == algorithm }.map(\.cosine)
      return c.reduce(0, +) / Double(c.count)
    }
    XCTAssertGreaterThan(mean("PRFM"), mean("Rifle20") + 0.3)
    XCTAssertGreaterThan(mean("PPower"), mean("Rifle20") + 0.3)
    XCTAssertTrue(records.allSatisfy { $0.signalID.hasPrefix("mnist-test[") }, "\(records.map(\.signalID))")
    XCTAssertTrue(records[0].generator.hasPrefix("vae-mnist(sha256:"), records[0].generator)
    let files = try ResultReport.write(results: summary.resultsPath, to: out)
    XCTAssertTrue(files.contains { $0.hasSuffix("figure1.png") })
    let grid = try PNG.decode(Array(try Data(contentsOf: URL(fileURLWithPath: out + "/figure1.png"))))
    XCTAssertGreaterThan(grid.width, 4 * 28 * 3)
  }

  /// A reduced paper config (2 images, 2 values of m, fewer Adam steps) runs; its summary has
  /// every method, and its report has Figure 2 with one line per method and Figure 1.
  func testReducedPaperConfigRuns() throws {
    let config = MNISTLocation.packageRoot + "/configs/paper/fig2-eq25.yaml"
    let plan = try ExperimentPlan.load(path: config, overrides: [
      "generator.model=\(modelPath)", "signal.data=\(try mnistDirectory())", "signal.count=2", "trials=1",
      "sweep.m=[100, 300]", "projection.steps=20",
    ])
    XCTAssertEqual(plan.jobs.count, 16)
    let out = fixture.directory.appendingPathComponent("paper").path
    let summary = try ExperimentRunner(plan: plan, options: .init(jobs: 2, out: out, progress: nil)).run()
    XCTAssertEqual(summary.failedJobs, 0)
    let (provenance, records) = try ResultsFile.read(summary.resultsPath, withVectors: false)
    XCTAssertTrue(records.allSatisfy { $0.projection == "none" || $0.projection.contains("oracle-norm") }, "paper configs use oracle-norm")
    let table = try SummaryTable(records: records, groupBy: SummaryTable.defaultGrouping(provenance: provenance, records: records), spec: GEPKind.summary)
    XCTAssertEqual(Set(table.rows.map { $0.keys[1] }), ["Rifle20", "Rifle100", "PPower", "PRFM"])
    XCTAssertEqual(table.rows.count, 8)
    try ResultReport.write(results: summary.resultsPath, to: out)
    let svg = try String(contentsOfFile: out + "/figure2.svg", encoding: .utf8)
    XCTAssertEqual(svg.components(separatedBy: "<polyline").count - 1, 4, "one line per method")
    XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/figure1.png"))
    let markdown = try String(contentsOfFile: out + "/table.md", encoding: .utf8)
    XCTAssertTrue(markdown.contains("| eq25-square | PRFM | "), markdown)
  }

  /// Projecting real test images onto the decoder's range (cosine mode, the paper's defaults): the
  /// representation error of the prior, which bounds every method's cosine.
  func testProjectingRealTestImages() throws {
    let model = try VAEModel.load(from: modelPath)
    let test = try MNIST.load(.test, directory: try mnistDirectory())
    let projector = AdamProjector(generator: model.decoderGenerator())
    let count = 20
    var targets = Matrix<Double>(rows: count, cols: 784)
    for i in 0..<count { targets.setRow(i, test.images.row(i * 397).map(Double.init)) }
    let out = try projector.project(targets, slots: (0..<count).map { ProjectionSlot(rng: RandomStream(seed: UInt64($0))) })
    let cosines = (0..<count).map { Fixtures.cosine(Array(targets.row($0)), Array(out.row($0))) }
    let mean = cosines.reduce(0, +) / Double(count)
    print(String(format: "projection of %d real MNIST test images: mean cosine %.4f (min %.4f)", count, mean, cosines.min()!))
    XCTAssertGreaterThan(mean, 0.85)
  }

  /// Config errors for the VAE prior name the key and the file.
  func testBadModelPathIsAConfigError() throws {
    let text = """
      m: 100
      generator: {kind: vae-mnist, model: /nonexistent/model.h5}
      signal: {source: mnist, count: 2}
      problem: {kind: spiked}
      algorithm: {kind: prfm}

      """
    assertConfigError(["exp.yaml:2", "generator.model", "/nonexistent/model.h5"]) { _ = try fixture.plan(text) }
    let mismatch = """
      m: 100
      generator: {kind: linear, n: 100, k: 5}
      signal: {source: mnist, count: 2}
      problem: {kind: spiked}
      algorithm: {kind: prfm}

      """
    assertConfigError(["signal.source", "784"]) { _ = try fixture.plan(mismatch) }
    let indices = """
      m: 100
      generator: {kind: vae-mnist, model: \(modelPath)}
      signal: {source: mnist, indices: [1, 2, 10000]}
      problem: {kind: spiked}
      algorithm: {kind: prfm}

      """
    assertConfigError(["signal.indices", "10000"]) { _ = try fixture.plan(indices) }
  }
}
