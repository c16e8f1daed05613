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

/// `ggep submit` without Slurm: the scripts it writes, the array spec, the resubmission rule and
/// `ggep status`. (scripts/test-slurm.sh runs the real thing on a one-node Slurm.)
final class SlurmScriptTests: GGEPTestCase {
  var fixture: ConfigFixture!

  override func setUpWithError() throws { fixture = try ConfigFixture() }
  override func tearDown() { fixture = nil }

  static let config = """
    name: slurm-unit
    seed: 3
    trials: 2
    m: 60
    signal: {source: generator, count: 2}
    generator: {kind: linear, n: 32, k: 4}
    problem: {kind: spiked}
    algorithm: {kind: prfm, iterations: 5}
    sweep:
      algorithm: [{kind: prfm, iterations: 5}, {kind: ppower, iterations: 5}]
      m: [40, 80]

    """

  func submission(shards: Int, overrides: [String] = [], extra: [String] = []) throws -> SlurmSubmission {
    let path = try fixture.write("slurm-unit.yaml", Self.config)
    let plan = try ExperimentPlan.load(path: path, overrides: overrides)
    return SlurmSubmission(
      plan: plan, configPath: path, overrides: overrides,
      settings: .init(shards: shards, partition: "short", time: "00:20:00", cpusPerTask: 2, extraArguments: extra),
      outputDirectory: fixture.directory.appendingPathComponent("out").path, executable: "/opt/my tools/ggep",
      workingDirectory: fixture.directory.path)
  }

  func testArraySpecCompressesRuns() {
    XCTAssertEqual(SlurmSubmission.arraySpec([0, 1, 2]), "0-2")
    XCTAssertEqual(SlurmSubmission.arraySpec([1, 3]), "1,3")
    XCTAssertEqual(SlurmSubmission.arraySpec([5, 0, 1, 2]), "0-2,5")
    XCTAssertEqual(SlurmSubmission.arraySpec([4]), "4")
  }

  func testShellQuoting() {
    XCTAssertEqual(SlurmSubmission.shellQuote("configs/a.yaml"), "configs/a.yaml")
    XCTAssertEqual(SlurmSubmission.shellQuote("sweep.m=[100, 200]"), "'sweep.m=[100, 200]'")
    XCTAssertEqual(SlurmSubmission.shellQuote("it's"), "'it'\\''s'")
  }

  func testArrayScriptRunsEachShardWithTheSameOverrides() throws {
    let s = try submission(shards: 3, overrides: ["sweep.m=[40, 80]"], extra: ["--account=abc"])
    let script = s.arrayScript()
    let lines = script.split(separator: "\n").map(String.init)
    XCTAssertEqual(lines.first, "#!/bin/bash")
    for expected in [
      "#SBATCH --job-name=ggep-slurm-unit", "#SBATCH --array=0-2", "#SBATCH --partition=short", "#SBATCH --time=00:20:00",
      "#SBATCH --cpus-per-task=2", "#SBATCH --account=abc", "export OPENBLAS_NUM_THREADS=1",
      "cd \(SlurmSubmission.shellQuote(fixture.directory.path))",
    ] {
      XCTAssertTrue(lines.contains(expected), "missing line \(expected) in\n\(script)")
    }
    // #SBATCH lines come before the first command (sbatch stops reading them there).
    let lastDirective = try XCTUnwrap(lines.lastIndex { $0.hasPrefix("#SBATCH") })
    let firstCommand = try XCTUnwrap(lines.firstIndex { !$0.hasPrefix("#") })
    XCTAssertLessThan(lastDirective, firstCommand)
    let run = try XCTUnwrap(lines.last)
    XCTAssertTrue(run.hasPrefix("exec '/opt/my tools/ggep' run \(s.configPath) --set 'sweep.m=[40, 80]' --shard \"$i/3\""), run)
    XCTAssertTrue(run.contains("--out \(s.outputDirectory)/shards/\"$i\"-of-3"), run)
    for i in 0..<3 { XCTAssertTrue(script.contains("# shard \(i)/3 -> \(s.shardDirectory(i))"), "shard \(i) not named") }
    XCTAssertTrue(s.arrayScript(tasks: [1, 2]).contains("#SBATCH --array=1-2\n"))

    let merge = s.mergeScript()
    XCTAssertTrue(merge.contains("#SBATCH --job-name=ggep-slurm-unit-merge"))
    XCTAssertTrue(merge.contains("'/opt/my tools/ggep' merge --force \(s.outputDirectory)/results.h5 \(s.outputDirectory)/shards/*/results.h5\n"))
    XCTAssertFalse(merge.contains("--array"))
  }

  /// Every shard incomplete at first; after shards 0 and 2 ran, only 1; a failed job makes its
  /// shard incomplete again; and `ggep status` counts the same.
  func testResubmissionRuleAndStatus() throws {
    let s = try submission(shards: 3)
    XCTAssertEqual(try s.incompleteShards(), [0, 1, 2])
    for i in [0, 2] { _ = try s.runner(shard: i).run() }
    XCTAssertEqual(try s.incompleteShards(), [1])

    var status = try ClusterStatus.read(directory: s.outputDirectory)
    XCTAssertEqual(status.plannedJobs, s.plan.jobs.count)
    XCTAssertEqual(status.rows.map(\.complete), [s.share(of: 0).jobs, 0, s.share(of: 2).jobs])
    XCTAssertEqual(status.rows[1].missing, s.share(of: 1).jobs)
    XCTAssertEqual(status.merged, .absent)

    _ = try s.runner(shard: 1).run()
    XCTAssertEqual(try s.incompleteShards(), [])
    let shardFiles = (0..<3).map { s.shardDirectory($0) + "/results.h5" }
    try ResultsMerger.merge(Array(shardFiles.prefix(2)), into: s.mergedPath)
    status = try ClusterStatus.read(directory: s.outputDirectory)
    guard case .stale = status.merged else { return XCTFail("a merge of 2 of 3 shards is stale, got \(status.merged)") }
    try ResultsMerger.merge(shardFiles, into: s.mergedPath, force: true)
    status = try ClusterStatus.read(directory: s.outputDirectory)
    XCTAssertEqual(status.merged, .current)
    XCTAssertTrue(status.isDone)

    // A failed job in shard 1 makes it incomplete (it is retried), the others stay complete.
    let runner = s.runner(shard: 1)
    let directory = RunDirectory(path: runner.outputDirectory)
    var (provenance, records) = try ResultsFile.read(directory.resultsPath)
    records[0].status = .failed
    records[0].error = "injected"
    provenance.created = BuildInfo.timestamp()
    try ResultsFile.write(records, provenance: provenance, to: directory.resultsPath)
    XCTAssertEqual(try s.incompleteShards(), [1])
    status = try ClusterStatus.read(directory: s.outputDirectory)
    XCTAssertEqual(status.rows[1].failed, 1)

    // Different overrides are another config: its shard folders are refused, not overwritten.
    let other = try submission(shards: 3, overrides: ["seed=4"])
    XCTAssertThrowsError(try other.incompleteShards()) { error in
      XCTAssertTrue("\(error)".contains("different config"), "\(error)")
    }
  }
}
