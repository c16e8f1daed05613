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

/// `ggep verify`: a fresh file re-runs bit for bit; an altered one fails, naming the job.
final class VerifyTests: GGEPTestCase {
  var fixture: ConfigFixture!
  override func setUpWithError() throws { fixture = try ConfigFixture() }
  override func tearDown() { fixture = nil }

  func testFreshFilePassesAndAlteredEstimateIsNamed() throws {
    let plan = try fixture.plan(PipelineTests.adamSweep)
    let out = fixture.directory.appendingPathComponent("v").path
    let summary = try ExperimentRunner(plan: plan, options: .init(jobs: 2, out: out, progress: nil)).run()
    let all = try ResultsVerifier.verify(summary.resultsPath)
    XCTAssertTrue(all.passed, "\(all.mismatches)")
    XCTAssertEqual(all.checked.count, plan.jobs.count)
    let sampled = try ResultsVerifier.verify(summary.resultsPath, sample: 5, seed: 3)
    XCTAssertEqual(sampled.checked.count, 5)
    XCTAssertTrue(sampled.passed)

    // Alter one stored û in place (the last bit of one entry).
    let victim = try ResultsFile.read(summary.resultsPath).records[7]
    let file = try HDF5File.open(summary.resultsPath, writable: true)
    var u = victim.estimate
    u[3] = Double(bitPattern: u[3].bitPattern ^ 1)
    try file.root.openGroup("jobs/\(victim.key)").write("u_hat", u)
    try file.close()

    let report = try ResultsVerifier.verify(summary.resultsPath)
    XCTAssertFalse(report.passed)
    XCTAssertEqual(report.mismatches.map(\.key), [victim.key])
    XCTAssertTrue(
      report.mismatches[0].description.contains("/jobs/\(victim.key)/u_hat: differs in 1 of 64 entries"), report.mismatches[0].description)
  }

  /// Issue 12: a changed `/runs` value (the column every table and figure reads) was passed as
  /// "identical bit for bit". Every column is now recomputed and compared, and every row is
  /// checked against its job's own data, so the change is named even when its job is not in
  /// the sample.
  func testAlteredRunsColumnsAreNamedWithTheirJob() throws {
    let plan = try fixture.plan(PipelineTests.adamSweep)
    let out = fixture.directory.appendingPathComponent("v").path
    let summary = try ExperimentRunner(plan: plan, options: .init(jobs: 2, out: out, progress: nil)).run()
    let records = try ResultsFile.read(summary.resultsPath).records
    let provenance = try ResultsFile.read(summary.resultsPath, withVectors: false).provenance
    XCTAssertEqual(provenance.blasCore, MachineInfo.blasCore)
    XCTAssertFalse(provenance.cpuModel.isEmpty)

    // /runs/cosine of row 5 and /runs/m of row 2, as an h5py user could change them.
    let file = try HDF5File.open(summary.resultsPath, writable: true)
    let runs = try file.root.openGroup("runs")
    var cosines = records.map(\.cosine)
    cosines[5] = 0.1235
    try runs.write("cosine", cosines)
    var ms = records.map { Int64($0.m) }
    ms[2] += 1
    try runs.write("m", ms)
    try file.close()

    let full = try ResultsVerifier.verify(summary.resultsPath)
    XCTAssertFalse(full.passed)
    let text = full.mismatches.map(\.description)
    XCTAssertTrue(text.contains { $0.contains("job \(records[5].key)") && $0.contains("/runs/cosine") }, "\(text)")
    XCTAssertTrue(text.contains { $0.contains("job \(records[2].key)") && $0.contains("/runs/m: stored \(records[2].m + 1), recomputed \(records[2].m)") }, "\(text)")
    XCTAssertEqual(Set(full.mismatches.map(\.key)), [records[5].key, records[2].key])

    // A sample of one job that is neither: the row checks still name row 5's job.
    let seed = try XCTUnwrap((0..<UInt64(64)).first { seed in
      var rng = RandomStream(seed: seed, key: "verify", purpose: "sample")  // the verifier's draw
      return ![2, 5].contains(rng.sample(1, from: records.count)[0])
    })
    let sampled = try ResultsVerifier.verify(summary.resultsPath, sample: 1, seed: seed)
    XCTAssertFalse(sampled.checked.contains(records[5].key))
    XCTAssertTrue(
      sampled.mismatches.contains { $0.key == records[5].key && $0.what.contains("/runs/cosine is 0.1235, but cosine_history ends with") },
      "\(sampled.mismatches)")
  }
}
