import Foundation
import XCTest

@testable import GGEP

/// `ggep verify`: a fresh file re-runs bit for bit; an altered one fails, naming the job.
final class VerifyTests: XCTestCase {
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
    XCTAssertTrue(report.mismatches[0].description.contains("û differs in 1 of 64"), report.mismatches[0].description)
  }
}
