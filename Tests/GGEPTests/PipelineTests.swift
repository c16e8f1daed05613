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

/// End to end through plan → batches → journal → results.h5, and the reports built from it.
final class PipelineTests: GGEPTestCase {
  var fixture: ConfigFixture!

  override func setUpWithError() throws { fixture = try ConfigFixture() }
  override func tearDown() { fixture = nil }

  /// A small sweep on the approximate (Adam) projection path, where batching matters most.
  static let adamSweep = """
    name: adam-sweep
    seed: 11
    trials: 2
    m: 60
    signal: {source: generator, count: 3}
    generator: {kind: relu-random, n: 64, k: 4, hidden: 24}
    problem: {kind: spiked}
    algorithm: {kind: prfm, iterations: 6}
    projection: {steps: 15, restarts: 2}
    sweep:
      algorithm: [{kind: prfm, iterations: 6}, {kind: ppower, iterations: 6}, {kind: rifle, s: 10, iterations: 6}]
      m: [40, 80]

    """

  func out(_ name: String) -> String { fixture.directory.appendingPathComponent(name).path }

  func run(_ plan: ExperimentPlan, jobs: Int, out: String, fresh: Bool = false) throws -> ExperimentRunner.Summary {
    try ExperimentRunner(plan: plan, options: .init(jobs: jobs, out: out, fresh: fresh, progress: nil)).run()
  }

  /// docs/mathematics.md §8: the same config and seed give identical numbers whatever the worker count.
  func testOneAndTwoWorkersGiveBitwiseIdenticalResults() throws {
    let plan = try fixture.plan(Self.adamSweep)
    XCTAssertEqual(plan.jobs.count, 36)
    _ = try run(plan, jobs: 1, out: out("one"))
    _ = try run(plan, jobs: 2, out: out("two"))
    let one = try ResultsFile.read(out("one") + "/results.h5").records
    let two = try ResultsFile.read(out("two") + "/results.h5").records
    XCTAssertEqual(one.count, 36)
    XCTAssertEqual(one.map(\.key), plan.jobs.map(\.key), "rows in plan order")
    for (a, b) in zip(one, two) {
      XCTAssertEqual(a.key, b.key)
      XCTAssertEqual(a.status, .ok, a.error)
      XCTAssertEqual(a.cosine.bitPattern, b.cosine.bitPattern, a.key)
      XCTAssertEqual(a.estimate.map(\.bitPattern), b.estimate.map(\.bitPattern), a.key)
      XCTAssertEqual(a.rhoHistory.map(\.bitPattern), b.rhoHistory.map(\.bitPattern), a.key)
      XCTAssertEqual(a.cosineHistory.map(\.bitPattern), b.cosineHistory.map(\.bitPattern), a.key)
    }
  }

  /// Every method meets the same data draws (a paired comparison): Â, B̂ depend on the
  /// problem, m, signal and trial, not on the algorithm.
  func testMethodsShareDataDrawsAndSignals() throws {
    let plan = try fixture.plan(Self.adamSweep)
    _ = try run(plan, jobs: 2, out: out("r"))
    let records = try ResultsFile.read(out("r") + "/results.h5").records
    let prfm = records.first { $0.algorithm == "PRFM" && $0.m == 40 && $0.signal == 1 && $0.trial == 1 }!
    let ppower = records.first { $0.algorithm == "PPower" && $0.m == 40 && $0.signal == 1 && $0.trial == 1 }!
    XCTAssertEqual(prfm.signalVector, ppower.signalVector)
    // ρ of the same u₀ under the same (Â, B̂) must agree.
    XCTAssertEqual(prfm.rhoHistory[0], ppower.rhoHistory[0])
    let otherTrial = records.first { $0.algorithm == "PRFM" && $0.m == 40 && $0.signal == 1 && $0.trial == 0 }!
    XCTAssertNotEqual(prfm.rhoHistory[0], otherTrial.rhoHistory[0])
  }

  func testRerunSkipsCompletedJobsAndFreshStartsOver() throws {
    let plan = try fixture.plan(Self.adamSweep)
    let first = try run(plan, jobs: 2, out: out("r"))
    XCTAssertEqual(first.ranJobs, 36)
    let before = try ResultsFile.read(out("r") + "/results.h5").records
    let second = try run(plan, jobs: 2, out: out("r"))
    XCTAssertEqual(second.ranJobs, 0)
    XCTAssertEqual(second.skippedJobs, 36)
    let after = try ResultsFile.read(out("r") + "/results.h5").records
    XCTAssertEqual(before.map(\.key), after.map(\.key))
    XCTAssertEqual(before.map(\.cosine), after.map(\.cosine))
    let fresh = try run(plan, jobs: 2, out: out("r"), fresh: true)
    XCTAssertEqual(fresh.ranJobs, 36)
  }

  func testResultsOfAnotherConfigAreNotMixedIn() throws {
    let plan = try fixture.plan(Self.adamSweep)
    _ = try run(plan, jobs: 2, out: out("r"))
    let original = try Data(contentsOf: URL(fileURLWithPath: out("r") + "/results.h5"))
    let changed = try fixture.plan(Self.adamSweep, overrides: ["seed=12"])
    XCTAssertThrowsError(try run(changed, jobs: 2, out: out("r"))) { error in
      XCTAssertTrue("\(error)".contains("different config"), "\(error)")
      XCTAssertTrue("\(error)".contains("--fresh"), "\(error)")
    }
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out("r") + "/results.h5")), original)
  }

  /// Resume follows the keys: a config with more trials and one more sweep point
  /// reuses every finished job, runs only the new ones, and ends bitwise equal to a fresh run.
  func testAddingTrialsAndSweepPointsResumesTheFinishedJobs() throws {
    let small = try fixture.plan(Self.adamSweep, overrides: ["trials=1", "sweep.m=[40]"])
    let first = try run(small, jobs: 2, out: out("r"))
    XCTAssertEqual(first.ranJobs, 9)
    try FileManager.default.copyItem(atPath: first.resultsPath, toPath: first.resultsPath + ".first")
    let grown = try fixture.plan(Self.adamSweep)  // trials 2, m 40 and 80
    let second = try run(grown, jobs: 2, out: out("r"))
    XCTAssertEqual(second.skippedJobs, 9)
    XCTAssertEqual(second.ranJobs, 27)
    let resumed = try ResultsFile.read(out("r") + "/results.h5")
    XCTAssertEqual(resumed.provenance.configHash, grown.configHash, "the file now belongs to the grown config")
    // The finished jobs are kept as they were, bit for bit.
    let earlier = try ResultsFile.read(first.resultsPath + ".first", withVectors: true).records
    for old in earlier {
      let kept = try XCTUnwrap(resumed.records.first { $0.key == old.key })
      XCTAssertEqual(kept.estimate.map(\.bitPattern), old.estimate.map(\.bitPattern), old.key)
      XCTAssertEqual(kept.batchKey, old.batchKey)
    }
    // The file holds exactly the grown plan's jobs, and re-runs bit for bit: each job in the
    // batch it ran in (the new m = 40 trials as a batch of their own).
    let fresh = try ResultsFile.read(try run(grown, jobs: 1, out: out("fresh")).resultsPath).records
    XCTAssertEqual(resumed.records.map(\.key), fresh.map(\.key))
    XCTAssertEqual(Set(resumed.records.map(\.batchKey)).count, 6 + 3, "3 first batches, their 3 new-trial batches, 3 new m = 80 batches")
    let audit = try ResultsVerifier.verify(out("r") + "/results.h5")
    XCTAssertTrue(audit.passed, "\(audit.mismatches)")
    // The grown m = 80 batches ran as the plan has them: bitwise a fresh run's.
    for (a, b) in zip(resumed.records, fresh) where a.m == 80 {
      XCTAssertEqual(a.estimate.map(\.bitPattern), b.estimate.map(\.bitPattern), a.key)
    }
  }

  /// A stored job whose key the plan has but whose stored settings differ (what a changed
  /// default would do) is refused, naming the setting; nothing is written.
  func testAChangedMeaningUnderTheSameKeyIsRefusedNamingTheSetting() throws {
    let plan = try fixture.plan(Self.adamSweep)
    _ = try run(plan, jobs: 2, out: out("r"))
    let path = out("r") + "/results.h5"
    let victim = try ResultsFile.read(path, withVectors: false).records[4]
    let file = try HDF5File.open(path, writable: true)
    let group = try file.root.openGroup("jobs/\(victim.key)")
    let params = try group.stringAttribute("params")
    XCTAssertTrue(params.contains("\"steps\":15"), params)
    try group.setAttribute("params", params.replacingOccurrences(of: "\"steps\":15", with: "\"steps\":25"))
    try file.close()
    let before = try Data(contentsOf: URL(fileURLWithPath: path))
    XCTAssertThrowsError(try run(plan, jobs: 2, out: out("r"))) { error in
      let text = "\(error)"
      XCTAssertTrue(text.contains("job \(victim.key) ran with other settings"), text)
      XCTAssertTrue(text.contains("projection.steps: 25 → 15"), text)
      XCTAssertTrue(text.contains("--fresh"), text)
    }
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), before)
  }

  /// Jobs the plan no longer has (a sweep point removed) are not silently dropped: refused.
  func testARemovedSweepPointIsRefusedNotDropped() throws {
    _ = try run(try fixture.plan(Self.adamSweep), jobs: 2, out: out("r"))
    let before = try Data(contentsOf: URL(fileURLWithPath: out("r") + "/results.h5"))
    XCTAssertThrowsError(try run(try fixture.plan(Self.adamSweep, overrides: ["sweep.m=[40]"]), jobs: 2, out: out("r"))) { error in
      XCTAssertTrue("\(error)".contains("holds 18 job(s) of this config that the current plan does not have"), "\(error)")
    }
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out("r") + "/results.h5")), before)
  }

  /// A batch that cannot start (here: an exact projection asked of a generator without one is
  /// caught by validation, so force a failure with an indefinite problem for Rifle) is recorded
  /// as failed with its reason, and does not stop the others.
  func testFailedJobsAreRecordedWithTheirReason() throws {
    let instance = ProblemInstance(
      a: DenseSymmetricOperator(Matrix(rows: 3, cols: 3, storage: [-1, 0, 0, 0, -1, 0, 0, 0, -1])),
      b: IdentityOperator(dimension: 3), signal: [1, 0, 0], lambda1: 1, lambda2: 0)
    let outcome = LockstepSolver(solver: Rifle(sparsity: 2, eta: 0.2), iterations: 5, tolerance: 0)
      .run([instance], initial: [[0.6, 0.8, 0]], projector: nil, slots: [ProjectionSlot(rng: RandomStream(seed: 0))])[0]
    XCTAssertNotNil(outcome.failure)
    let job = try fixture.plan(Self.adamSweep).jobs[0]
    let record = JobRecord.failed(job, reason: outcome.failure!)
    let path = out("failed.h5")
    let provenance = ExperimentRunner(plan: try fixture.plan(Self.adamSweep)).provenance()
    try ResultsFile.write([record], provenance: provenance, to: path)
    let back = try ResultsFile.read(path).records[0]
    XCTAssertEqual(back.status, .failed)
    XCTAssertTrue(back.error.contains("ρ_t"), back.error)
    XCTAssertTrue(back.cosine.isNaN)
  }

  /// Round trip: everything written comes back bit for bit, including NaN, empty vectors and
  /// non-ASCII text.
  func testResultsFileRoundTrip() throws {
    let plan = try fixture.plan(Self.adamSweep)
    let provenance = ExperimentRunner(plan: plan).provenance()
    var records = try BatchRunner().run(plan.groups[0])
    records.append(JobRecord.failed(plan.groups[1][0], batch: plan.groups[1], reason: "ρ_t ≤ 0 — ünïcode"))
    let path = out("roundtrip.h5")
    try ResultsFile.write(records, provenance: provenance, to: path)
    var (p, back) = try ResultsFile.read(path)
    // Reading adds what the file holds: its columns, each with a description attribute.
    let schema = GEPKind.schema
    XCTAssertTrue(p.columns.isSuperset(of: schema.allColumns.map(\.name)), "\(p.columns)")
    let file = try HDF5File.open(path)
    for column in schema.allColumns {
      XCTAssertEqual(try file.root.stringAttribute("description", on: "runs/\(column.name)"), column.description)
    }
    try file.close()
    p.columns = []
    XCTAssertEqual(p, provenance)
    XCTAssertEqual(back.count, records.count)
    for (a, b) in zip(records, back) {
      var (x, y) = (a, b)
      for r in [\JobRecord.eta, \.etaLambda1, \.cosine, \.distance, \.finalRho, \.lambda1, \.lambda2, \.projectionLoss, \.wallTime] {
        XCTAssertEqual(x[keyPath: r].bitPattern, y[keyPath: r].bitPattern)
        x[keyPath: r] = 0
        y[keyPath: r] = 0
      }
      XCTAssertEqual(x, y)
    }
  }

  /// N shards, each run into its own file and merged, equal one unsharded run; merging files
  /// of different configs is refused.
  func testShardsMergedEqualOneRun() throws {
    let plan = try fixture.plan(Self.adamSweep)
    _ = try run(plan, jobs: 2, out: out("whole"))
    var shardFiles: [String] = []
    var covered = 0
    for i in 0..<4 {
      let runner = ExperimentRunner(plan: plan, options: .init(jobs: 1, out: out("shard\(i)"), progress: nil, shard: Shard(index: i, count: 4)))
      let summary = try runner.run()
      covered += summary.ranJobs
      XCTAssertEqual(try ResultsFile.read(summary.resultsPath).provenance.shard, "\(i)/4")
      shardFiles.append(summary.resultsPath)
    }
    XCTAssertEqual(covered, plan.jobs.count, "shards partition the plan")
    let merged = out("merged.h5")
    let outcome = try ResultsMerger.merge(shardFiles.reversed(), into: merged)
    XCTAssertEqual(outcome.jobs, plan.jobs.count)
    let whole = try ResultsFile.read(out("whole") + "/results.h5")
    let combined = try ResultsFile.read(merged)
    XCTAssertEqual(combined.provenance.shard, "")
    XCTAssertEqual(combined.records.map(\.key), whole.records.map(\.key))
    XCTAssertEqual(combined.records.map(\.cosine), whole.records.map(\.cosine))
    XCTAssertEqual(combined.records.map(\.estimate), whole.records.map(\.estimate))

    let other = try fixture.plan(Self.adamSweep, name: "other.yaml", overrides: ["seed=99"])
    let otherResult = try ExperimentRunner(plan: other, options: .init(jobs: 2, out: out("other"), progress: nil, shard: Shard(index: 0, count: 4))).run()
    XCTAssertThrowsError(try ResultsMerger.merge([shardFiles[0], otherResult.resultsPath], into: out("bad.h5"))) { error in
      XCTAssertTrue("\(error)".contains("different config"), "\(error)")
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: out("bad.h5")))
    XCTAssertThrowsError(try Shard(parsing: "4/4"))
    XCTAssertThrowsError(try Shard(parsing: "1"))
  }

  /// `summarize` on a file whose numbers are known.
  func testSummaryOfAKnownFile() throws {
    let plan = try fixture.plan(Self.adamSweep)
    let job = plan.jobs[0]
    func record(_ algorithm: String, m: Int, cosine: Double, time: Double, failed: Bool = false) -> JobRecord {
      var r = JobRecord.failed(job, reason: failed ? "boom" : "")
      r.algorithm = algorithm
      r.m = m
      r.key = "\(algorithm)-\(m)-\(cosine)"
      r.status = failed ? .failed : .ok
      r.cosine = failed ? .nan : cosine
      r.wallTime = time
      r.sweepValues = ["m": String(m)]
      return r
    }
    let records = [
      record("PRFM", m: 50, cosine: 0.8, time: 1), record("PRFM", m: 50, cosine: 0.9, time: 3),
      record("PRFM", m: 50, cosine: 1.0, time: 2), record("PPower", m: 50, cosine: 0.5, time: 1),
      record("PPower", m: 50, cosine: 0.7, time: 1), record("PPower", m: 50, cosine: 0, time: 0, failed: true),
    ]
    var provenance = ExperimentRunner(plan: plan).provenance()
    provenance.sweepAxes = ["m"]
    let path = out("known.h5")
    try ResultsFile.write(records, provenance: provenance, to: path)
    let (p, back) = try ResultsFile.read(path, withVectors: false)
    let table = try SummaryTable(records: back, groupBy: SummaryTable.defaultGrouping(provenance: p, records: back), spec: GEPKind.summary)
    XCTAssertEqual(table.groupBy, ["problem", "algorithm", "m"])
    XCTAssertEqual(table.rows.count, 2)
    XCTAssertEqual(table.rows[0].metricMean, 0.9, accuracy: 1e-15)
    XCTAssertEqual(table.rows[0].metricStd, 0.1, accuracy: 1e-15)
    XCTAssertEqual(table.rows[0].timeMean, 2, accuracy: 1e-15)
    XCTAssertEqual(table.rows[1].jobs, 3)
    XCTAssertEqual(table.rows[1].failed, 1)
    XCTAssertEqual(table.rows[1].metricMean, 0.6, accuracy: 1e-15)
    XCTAssertEqual(table.rows[1].metricStd, (0.02).squareRoot(), accuracy: 1e-12)  // sample std of {0.5, 0.7}
    let markdown = table.markdown()
    XCTAssertTrue(markdown.contains("| eq24 | PRFM | 50 | 3 | 0.9000 ± 0.1000 | 2.000 |"), markdown)
    XCTAssertTrue(markdown.contains("| eq24 | PPower | 50 | 3 (1 failed) | 0.6000 ± 0.1414 | 1.000 |"), markdown)
    let csv = table.csv()
    XCTAssertTrue(csv.hasPrefix("problem,algorithm,m,jobs,failed,cosine_mean,cosine_std,time_mean\n"), csv)
    XCTAssertTrue(csv.contains("eq24,PRFM,50,3,0,0.9,0.1,2\n"), csv)
    XCTAssertThrowsError(try SummaryTable(records: back, groupBy: ["colour"], spec: GEPKind.summary)) { error in
      XCTAssertTrue("\(error)".contains("colour"))
    }
  }

  /// The families example runs end to end: on GPCA (B̂ = I exactly) PRFM and PPower agree, and
  /// every family reaches a high cosine at its largest m.
  func testFamiliesSmokeExampleRuns() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let plan = try ExperimentPlan.load(path: root.appendingPathComponent("configs/examples/families-smoke.yaml").path)
    let summary = try run(plan, jobs: 2, out: out("families"))
    XCTAssertEqual(summary.failedJobs, 0)
    let records = try ResultsFile.read(summary.resultsPath, withVectors: false).records
    let table = try SummaryTable(records: records, groupBy: ["problem", "algorithm", "m"], spec: GEPKind.summary)
    let largest = String(records.map(\.m).max()!)
    for problem in Set(records.map(\.problem)) {
      for algorithm in ["PRFM", "PPower"] {
        let row = table.rows.first { $0.keys == [problem, algorithm, largest] }!
        XCTAssertGreaterThan(row.metricMean, 0.95, "\(problem) \(algorithm)")
      }
    }
    let gpca = table.rows.filter { $0.keys[0] == "gpca" }
    for m in Set(gpca.map { $0.keys[2] }) {
      let pair = gpca.filter { $0.keys[2] == m }.map(\.metricMean)
      XCTAssertEqual(pair[0], pair[1], accuracy: 0.01, "gpca m = \(m)")
    }
  }

  /// The example config runs end to end and shows the expected ordering where theory is clear:
  /// the generative methods beat Rifle on a dense signal, and PRFM improves with m.
  func testLinearSmokeExampleRuns() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let plan = try ExperimentPlan.load(path: root.appendingPathComponent("configs/examples/linear-smoke.yaml").path)
    let summary = try run(plan, jobs: 2, out: out("smoke"))
    XCTAssertEqual(summary.failedJobs, 0)
    let records = try ResultsFile.read(summary.resultsPath, withVectors: false).records
    let table = try SummaryTable(records: records, groupBy: ["problem", "algorithm", "m"], spec: GEPKind.summary)
    XCTAssertEqual(Set(table.rows.map { $0.keys[1] }), ["PRFM", "PPower", "Rifle20"])
    func mean(_ problem: String, _ algorithm: String, _ m: String) -> Double {
      table.rows.first { $0.keys == [problem, algorithm, m] }!.metricMean
    }
    for problem in ["eq24", "eq25-square"] {
      XCTAssertGreaterThan(mean(problem, "PRFM", "800"), 0.95)
      XCTAssertGreaterThan(mean(problem, "PRFM", "800"), mean(problem, "PRFM", "50"))
      XCTAssertGreaterThan(mean(problem, "PRFM", "200"), mean(problem, "Rifle20", "200") + 0.5)
    }
  }
}
