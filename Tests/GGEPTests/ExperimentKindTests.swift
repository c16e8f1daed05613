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

/// A second experiment kind, written here as a kind author would — new files only, one
/// `register` — runs through plan, run, journal and resume, shards and merge, results files,
/// summaries, verify and report without the generic code naming it.
///
/// The kind "norms": each job draws x ~ N(0, I_n) from its own stream and records ‖x‖ and x.
struct NormsKind: ExperimentKind {
  var name: String { "norms" }

  struct Spec: KindSpec, Encodable {
    var name: String
    var seed: Int
    var trials: Int
    var count: Int
    var n: Int
    var signalCount: Int { count }
    var identityJSON: String { json(["kind": "norms", "seed": "\(seed)", "n": "\(n)"]) }
    var canonicalJSON: String { json(["kind": "norms", "seed": "\(seed)", "n": "\(n)", "name": name, "trials": "\(trials)"]) }
    var namedFiles: [(path: String, checksum: String)] { [] }
    func memoryEstimate(jobs: Int) -> MemoryEstimate {
      MemoryEstimate(terms: [(Double(jobs * n * 8), "n", String(n), "the draws")], jobs: jobs)
    }
    func progressLabel(sweepLabels: [SweepLabel]) -> String { "norms n=\(n)" }
    func json(_ object: [String: String]) -> String {
      String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }
  }

  enum Columns {
    static let n = Column<Int>("n", "dimension")
    static let norm = Column<Double>("norm", "‖x‖")
    static let x = ResultVector("x", "the draw")
  }

  var schema: ResultSchema { ResultSchema(columns: [Columns.n, Columns.norm], vectors: [Columns.x]) }

  var summary: SummarySpec {
    SummarySpec(labels: [], axisColumns: ["n"], trailing: ["n"], refinements: [:], columns: ["n"], metric: "norm", metricTitle: "‖x‖")
  }

  func decode(point root: ConfigNode, defaultName: String) throws(ConfigError) -> any KindSpec {
    let table = try ConfigValue(root, path: .root).table()
    try table.checkKnownKeys(allowed: ["experiment", "name", "seed", "trials", "count", "n"])
    return Spec(
      name: try table.string("name", default: defaultName), seed: try table.int("seed", default: 0, .atLeast(0)),
      trials: try table.int("trials", default: 1, .atLeast(1)), count: try table.int("count", default: 1, .atLeast(1)),
      n: try table.int("n", .atLeast(1)))
  }

  func run(batch: [JobSpec]) throws -> [JobRecord] {
    batch.map { job in
      let spec = job.kindSpec as! Spec
      var rng = RandomStream(seed: UInt64(spec.seed), key: job.key, purpose: "data")
      let x = rng.normals(spec.n)
      var record = JobRecord(
        key: job.key, groupKey: job.groupKey, batchKey: JobSpec.batchKey(of: batch), planIndex: job.index, signal: job.signalIndex,
        trial: job.trial, sweepValues: Dictionary(job.sweepLabels.map { ($0.path, $0.value) }, uniquingKeysWith: { _, b in b }),
        parametersJSON: "{\"job_key\":\"\(job.key)\",\"group_key\":\"\(job.groupKey)\",\"signal\":\(job.signalIndex),\"trial\":\(job.trial),\"batch\":[\(batch.map { "\"\($0.key)\"" }.joined(separator: ","))],\"spec\":\(spec.canonicalJSON)}",
        status: .ok, wallTime: 0, batchSize: batch.count)
      record[Columns.n] = spec.n
      record[Columns.norm] = x.map { $0 * $0 }.reduce(0, +).squareRoot()
      record[Columns.x] = x
      return record
    }
  }

  func failedRecord(_ job: JobSpec, batch: [JobSpec], reason: String) -> JobRecord {
    JobRecord(
      key: job.key, groupKey: job.groupKey, planIndex: job.index, signal: job.signalIndex, trial: job.trial, sweepValues: [:],
      parametersJSON: "{}", status: .failed, error: reason, wallTime: 0, batchSize: batch.count)
  }

  func report(_ path: String, to directory: String, options: ReportOptions) throws -> [String] {
    let (provenance, records) = try ResultsFile.read(path, withVectors: false)
    let table = try SummaryTable(records: records, groupBy: SummaryTable.defaultGrouping(provenance: provenance, records: records), spec: summary)
    let file = directory + "/norms.md"
    try FileSystem.write(table.markdown(), to: file)
    return [file]
  }

  func report(combining paths: [String], to directory: String, options: ReportOptions) throws -> [String] {
    try report(paths[0], to: directory, options: options)
  }

  func describe(_ records: [JobRecord]) -> [String] { ["  n:         \(Set(records.map { $0[Columns.n] }).sorted())"] }
}

final class ExperimentKindTests: GGEPTestCase {
  var fixture: ConfigFixture!
  override func setUpWithError() throws {
    fixture = try ConfigFixture()
    ExperimentKinds.register(NormsKind())
  }
  override func tearDown() {
    fixture = nil
    // The kind exists for these tests only: no other test may see it.
    ExperimentKinds.unregister(NormsKind().name)
    XCTAssertNil(ExperimentKinds.named(NormsKind().name))
  }

  static let config = """
    experiment: norms
    name: norms
    seed: 3
    trials: 2
    count: 3
    n: 50
    sweep:
      n: [50, 100]

    """

  func testASecondKindRunsThroughTheGenericMachinery() throws {
    let plan = try fixture.plan(Self.config)
    XCTAssertEqual(plan.kind.name, "norms")
    XCTAssertEqual(plan.jobs.count, 12)
    XCTAssertEqual(plan.groups.count, 2)
    let out = fixture.directory.appendingPathComponent("n").path
    let summary = try ExperimentRunner(plan: plan, options: .init(jobs: 2, out: out, progress: nil)).run()
    XCTAssertEqual(summary.ranJobs, 12)

    // The file: the kind's columns and vector, with descriptions, and the kind recorded.
    let (provenance, records) = try ResultsFile.read(summary.resultsPath)
    XCTAssertEqual(provenance.experiment, "norms")
    XCTAssertTrue(provenance.columns.isSuperset(of: ["n", "norm", "job_key", "status"]))
    XCTAssertFalse(provenance.columns.contains("cosine"), "no GEP column in another kind's file")
    XCTAssertEqual(records.map(\.key), plan.jobs.map(\.key))
    for r in records {
      XCTAssertEqual(r[NormsKind.Columns.norm], r[NormsKind.Columns.x].map { $0 * $0 }.reduce(0, +).squareRoot())
      XCTAssertEqual(r[NormsKind.Columns.x].count, r[NormsKind.Columns.n])
    }

    // Resume: nothing to do; then two more trials resume the finished jobs.
    XCTAssertTrue(try ExperimentRunner(plan: plan, options: .init(jobs: 2, out: out, progress: nil)).run().upToDate)
    let grown = try fixture.plan(Self.config, overrides: ["trials=3"])
    let resumed = try ExperimentRunner(plan: grown, options: .init(jobs: 2, out: out, progress: nil)).run()
    XCTAssertEqual(resumed.skippedJobs, 12)
    XCTAssertEqual(resumed.ranJobs, 6)

    // Verify re-runs through the kind; an edited column is named.
    XCTAssertTrue(try ResultsVerifier.verify(summary.resultsPath).passed)
    let file = try HDF5File.open(summary.resultsPath, writable: true)
    var norms = try ResultsFile.read(summary.resultsPath, withVectors: false).records.map { $0[NormsKind.Columns.norm] }
    norms[4] += 1
    try file.root.openGroup("runs").write("norm", norms)
    try file.close()
    let audit = try ResultsVerifier.verify(summary.resultsPath)
    XCTAssertEqual(audit.mismatches.count, 1)
    XCTAssertTrue(audit.mismatches[0].what.hasPrefix("/runs/norm: stored"), "\(audit.mismatches)")

    // Shards merged equal one run; summaries and reports come from the kind.
    var shardFiles: [String] = []
    for i in 0..<2 {
      let shard = try ExperimentRunner(
        plan: plan, options: .init(jobs: 1, out: fixture.directory.appendingPathComponent("s\(i)").path, progress: nil, shard: Shard(index: i, count: 2))
      ).run()
      shardFiles.append(shard.resultsPath)
    }
    let merged = fixture.directory.appendingPathComponent("merged.h5").path
    try ResultsMerger.merge(shardFiles, into: merged)
    let single = try ExperimentRunner(plan: plan, options: .init(jobs: 1, out: fixture.directory.appendingPathComponent("one").path, progress: nil)).run()
    let a = try ResultsFile.read(merged).records, b = try ResultsFile.read(single.resultsPath).records
    XCTAssertEqual(a.map(\.key), b.map(\.key))
    XCTAssertEqual(a.map { $0[NormsKind.Columns.x].map(\.bitPattern) }, b.map { $0[NormsKind.Columns.x].map(\.bitPattern) })
    let table = try SummaryTable(
      records: b, groupBy: SummaryTable.defaultGrouping(provenance: try ResultsFile.read(single.resultsPath).provenance, records: b),
      spec: NormsKind().summary)
    XCTAssertEqual(table.groupBy, ["n"])
    XCTAssertEqual(table.rows.map(\.keys), [["50"], ["100"]])
    XCTAssertTrue(table.markdown().contains("‖x‖ (mean ± std)"))
    let written = try NormsKind().report(single.resultsPath, to: fixture.directory.path, options: ReportOptions())
    XCTAssertTrue(try String(contentsOfFile: written[0], encoding: .utf8).contains("| 100 | 6 |"))
    XCTAssertTrue(try Inspection.describe(single.resultsPath).contains("experiment norms"))
  }
}
