import Foundation
import XCTest

@testable import GGEPCore
@testable import GGEPConfig
@testable import GGEPPipeline
@testable import GGEPKindGEP
@testable import GGEPKindInversion

/// Results files written by an earlier ggep (commit d93e45c, before the config hash became the
/// hash of the resolved config's canonical JSON) stay first-class: today's ggep resumes them
/// without re-running a job, verifies them, and merges their shards with each other and with a
/// shard it writes itself. The files are committed under `Fixtures/legacy-results/`, with their
/// configs, one GEP and one inversion. They were written under OpenBLAS core SkylakeX: on a
/// machine with other kernels the numbers a re-run gives differ in the last bits, so the bitwise
/// checks of re-run numbers apply there only; resume and merge of the stored numbers apply everywhere.
final class LegacyResultsTests: GGEPTestCase {
  static let folder = MNISTLocation.packageRoot + "/Tests/GGEPTests/Fixtures/legacy-results"

  private func scratch() throws -> String {
    let directory = NSTemporaryDirectory() + "ggep-legacy-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(atPath: directory) }
    return directory
  }

  /// Every stored value but the wall time (a re-run takes its own), bit for bit, in row order.
  private func numbers(_ records: [JobRecord]) -> [[String]] {
    records.map { r in
      var row = [r.key, r.batchKey, r.status.rawValue, String(r.planIndex)]
      row += r.values.filter { $0.key != "wall_time" }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
      row += r.vectors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value.map(\.bitPattern))" }
      return row
    }
  }

  func testLegacyFilesResumeVerifyAndMerge() throws {
    for name in ["linear-tiny", "inversion-tiny"] {
      let config = "Tests/GGEPTests/Fixtures/legacy-results/\(name).yaml"
      let legacy = try ResultsFile.read("\(Self.folder)/\(name).h5")
      XCTAssertEqual(legacy.records.count, legacy.provenance.plannedJobs, name)

      // The old file's identity, derived from the resolved config it stores, is today's hash.
      let document = try ConfigDocument.load(path: MNISTLocation.packageRoot + "/" + config)
      XCTAssertEqual(legacy.provenance.configHash, document.configHash, "\(name): legacy identity")
      let storedHash = try HDF5File.open("\(Self.folder)/\(name).h5").root.stringAttribute("config_hash")
      XCTAssertEqual(storedHash, SHA256.hexDigest(Array(legacy.provenance.resolvedConfig.utf8)), "the old scheme hashed the YAML text")
      XCTAssertNotEqual(storedHash, document.configHash)

      // Resume: every job is found by its key; nothing runs, and the file keeps every number.
      let out = try scratch()
      try FileManager.default.copyItem(atPath: "\(Self.folder)/\(name).h5", toPath: out + "/results.h5")
      let run = try GGEPExecutable.run(["run", config, "--out", out, "--jobs", "1"], in: MNISTLocation.packageRoot)
      XCTAssertEqual(run.status, 0, run.stderr)
      XCTAssertTrue(run.stdout.contains("all \(legacy.records.count) jobs already complete"), "\(name): \(run.stdout)")
      XCTAssertEqual(numbers(try ResultsFile.read(out + "/results.h5").records), numbers(legacy.records), name)

      // Verify re-runs sampled batches. Last bits are promised only under the OpenBLAS core that
      // wrote the file (docs/reproducibility.md); under another, verify must say so.
      let sameCore = legacy.provenance.blasCore == MachineInfo.blasCore
      let verify = try GGEPExecutable.run(["verify", out + "/results.h5"], in: MNISTLocation.packageRoot)
      if sameCore {
        XCTAssertEqual(verify.status, 0, "\(name): \(verify.stdout)\(verify.stderr)")
      } else {
        XCTAssertTrue(
          verify.status == 0 || (verify.stdout + verify.stderr).contains("OpenBLAS core \(legacy.provenance.blasCore)"),
          "\(name): \(verify.stdout)\(verify.stderr)")
      }

      // Merge: the two legacy shards, and legacy shard 0 with a shard 1 written today.
      let merged = out + "/merged.h5"
      let merge = try GGEPExecutable.run(
        ["merge", merged, "\(Self.folder)/\(name).shard0.h5", "\(Self.folder)/\(name).shard1.h5"], in: MNISTLocation.packageRoot)
      XCTAssertEqual(merge.status, 0, merge.stderr)
      let mergedFile = try ResultsFile.read(merged)
      XCTAssertEqual(numbers(mergedFile.records), numbers(legacy.records), "\(name): merged legacy shards")
      XCTAssertEqual(mergedFile.provenance.configHash, document.configHash)

      let today = out + "/today-shard1"
      let shard = try GGEPExecutable.run(["run", config, "--out", today, "--shard", "1/2", "--jobs", "1"], in: MNISTLocation.packageRoot)
      XCTAssertEqual(shard.status, 0, shard.stderr)
      let mixed = out + "/mixed.h5"
      let mix = try GGEPExecutable.run(
        ["merge", mixed, "\(Self.folder)/\(name).shard0.h5", today + "/results.h5"], in: MNISTLocation.packageRoot)
      XCTAssertEqual(mix.status, 0, mix.stderr)
      let mixedRecords = try ResultsFile.read(mixed).records
      XCTAssertEqual(mixedRecords.map(\.key), legacy.records.map(\.key), "\(name): today's shard has the old jobs")
      XCTAssertEqual(mixedRecords.map(\.batchKey), legacy.records.map(\.batchKey))
      if sameCore {
        XCTAssertEqual(numbers(mixedRecords), numbers(legacy.records), "\(name): today's shard has the old numbers")
      }
    }
  }

  /// The canonical encoding: style does not change identity, meaning does.
  func testConfigHashIgnoresStyleAndFollowsMeaning() throws {
    func hash(_ text: String) throws -> String { try ConfigDocument(text: text, file: "c.yaml").configHash }
    let block = try hash("name: a\nm: 300\nalgorithm:\n  kind: prfm\n  eta: 0.2\nsweep:\n  m: [50, 100]\n")
    XCTAssertEqual(block, try hash("# a comment\nsweep: {m: [50, 100]}\nalgorithm: {eta: 2e-1, kind: \"prfm\"}\nm: 3_00\nname: 'a'\n"))
    XCTAssertEqual(block, try hash("name: a\nm: +300\nalgorithm: {kind: prfm, eta: .2}\nsweep: {m: [5e1, 100.0]}\n"))
    XCTAssertNotEqual(block, try hash("name: a\nm: 300\nalgorithm: {kind: prfm, eta: 0.2}\nsweep: {m: [100, 50]}\n"), "list order is meaning")
    XCTAssertNotEqual(block, try hash("name: a\nm: \"300\"\nalgorithm: {kind: prfm, eta: 0.2}\nsweep: {m: [50, 100]}\n"), "a quoted number is a string")
    XCTAssertEqual(block, try hash("name: a\nm: 300\nalgorithm: {kind: prfm, eta: 0.20000000000000001}\nsweep: {m: [50, 100]}\n"), "one binary64")
    XCTAssertNotEqual(block, try hash("name: a\nm: 300\nalgorithm: {kind: prfm, eta: 0.2000001}\nsweep: {m: [50, 100]}\n"))
    let tree = try ConfigNode.parse(yaml: "b: [1.0, -0.0, 1e-5, 2.5E+20, .5, ~, true, 'true', x]\na: {d: 1, c: \"q\\\"\"}\n", file: "t.yaml")
    XCTAssertEqual(tree.canonicalJSON, #"{"a":{"c":"q\"","d":1},"b":[1,0,1e-5,2.5e20,0.5,null,true,"true","x"]}"#)
  }
}
