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

/// The `ggep` executable, run as a user would: exit codes, messages, and what happens to
/// results already on disk when a run is refused, interrupted or killed.
final class CLITests: GGEPTestCase {
  var fixture: ConfigFixture!

  override func setUpWithError() throws { fixture = try ConfigFixture() }
  override func tearDown() { fixture = nil }

  typealias Outcome = GGEPExecutable.Outcome

  func ggep(_ arguments: [String], in directory: String? = nil) throws -> Outcome {
    try GGEPExecutable.run(arguments, in: directory)
  }

  static let good = """
    name: cli
    seed: 3
    m: 60
    signal: {source: generator, count: 2}
    generator: {kind: linear, n: 48, k: 4}
    problem: {kind: spiked}
    algorithm: {kind: prfm}
    sweep:
      m: [40, 80]

    """

  /// Every documented kind of config error: its message names file, key and bad value (and
  /// line, for files), the exit status is non-zero, and results already written are untouched.
  func testConfigErrorsAreReportedAndLeaveResultsUntouched() throws {
    let config = try fixture.write("cli.yaml", Self.good)
    let out = fixture.directory.appendingPathComponent("out").path
    let first = try ggep(["run", config, "--out", out])
    XCTAssertEqual(first.status, 0, first.stderr)
    let results = out + "/results.h5"
    let before = try Data(contentsOf: URL(fileURLWithPath: results))
    let listing = try FileManager.default.contentsOfDirectory(atPath: out)

    let cases: [(text: String?, overrides: [String], fragments: [String])] = [
      (Self.good.replacingOccurrences(of: "algorithm: {kind: prfm}", with: "algorithm: {kind: prfm, etta: 0.1}"), [],
       ["bad.yaml:7", "algorithm.etta", "unknown key", "did you mean `eta`"]),
      (Self.good.replacingOccurrences(of: "m: [40, 80]", with: "m: [40, 0]"), [], ["bad.yaml:9", "m: must be >= 1, got 0", "sweep point 2"]),
      (Self.good.replacingOccurrences(of: "seed: 3", with: "seed: three"), [], ["bad.yaml:2", "seed", "three"]),
      (Self.good.replacingOccurrences(of: "algorithm: {kind: prfm}", with: "algorithm: {kind: prfm, eta: -0.1}"), [],
       ["bad.yaml:7", "algorithm.eta", "-0.1"]),
      (Self.good.replacingOccurrences(of: "algorithm: {kind: prfm}", with: "algorithm: {kind: rifle, s: 49}"), [],
       ["bad.yaml:7", "algorithm.s", "49"]),
      (Self.good.replacingOccurrences(of: "k: 4", with: "k: 64"), [], ["bad.yaml:5", "generator.k", "64"]),
      (Self.good.replacingOccurrences(of: "kind: spiked", with: "kind: spiky"), [], ["bad.yaml:6", "problem.kind", "spiky", "spiked"]),
      (Self.good.replacingOccurrences(of: "m: [40, 80]", with: "m: [40, 80"), [], ["bad.yaml"]),
      (nil, ["algorithm.eta=0"], ["--set", "algorithm.eta", "got 0"]),
      (nil, ["m"], ["--set", "m"]),
    ]
    for (text, overrides, fragments) in cases {
      let path = text == nil ? config : try fixture.write("bad.yaml", text!)
      let result = try ggep(["run", path, "--out", out] + overrides.flatMap { ["--set", $0] })
      XCTAssertEqual(result.status, 1, "\(fragments): \(result.stderr)")
      for fragment in fragments {
        XCTAssertTrue(result.stderr.contains(fragment), "stderr \"\(result.stderr)\" lacks \"\(fragment)\"")
      }
      XCTAssertFalse(result.stderr.contains("Fatal error"), result.stderr)
      XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: results)), before, "results changed by \(fragments)")
      XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: out).sorted(), listing.sorted())
    }
    let missing = try ggep(["plan", fixture.directory.appendingPathComponent("nope.yaml").path])
    XCTAssertEqual(missing.status, 1)
    XCTAssertTrue(missing.stderr.contains("nope.yaml"), missing.stderr)
    let notResults = try ggep(["summarize", config])
    XCTAssertEqual(notResults.status, 1)
    XCTAssertTrue(notResults.stderr.contains("cli.yaml"), notResults.stderr)
  }

  /// `ggep check-generator`'s documented example (run from the repository's root) passes
  /// against PyTorch's numbers; a wrong declaration (the fixture MLP's ReLU declared as a leaky
  /// ReLU) fails with exit status 1 naming the reference file; a reference of another
  /// generator's shape is refused naming the tensor.
  func testCheckGeneratorHoldsAConfigAgainstPyTorch() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    let fixtures = root + "/Tests/GGEPTests/Fixtures/pytorch"
    let good = try ggep(
      ["check-generator", "configs/examples/dcgan-appE.yaml", "--reference", "Tests/GGEPTests/Fixtures/pytorch/dcgan-reference.safetensors"], in: root)
    XCTAssertEqual(good.status, 0, good.stderr)
    XCTAssertTrue(good.stdout.contains("agrees with PyTorch"), good.stdout)
    let mlp = fixture.directory.appendingPathComponent("mlp.yaml").path
    try """
      m: 100
      signal: {source: generator, count: 1}
      generator:
        kind: pytorch
        file: \(fixtures)/mlp.safetensors
        modules: [{linear: [8, 32]}, {batchnorm1d: 32}, relu, {linear: [32, 48]}, leaky-relu(0.2), {linear: [48, 100]}, sigmoid]
      problem: {kind: spiked}
      algorithm: {kind: prfm}

      """.write(toFile: mlp, atomically: true, encoding: .utf8)
    let right = try ggep(["check-generator", mlp, "--reference", fixtures + "/mlp-reference.safetensors"])
    XCTAssertEqual(right.status, 0, right.stderr)
    let wrong = try ggep([
      "check-generator", mlp, "--reference", fixtures + "/mlp-reference.safetensors",
      "--set", "generator.modules=[{linear: [8, 32]}, {batchnorm1d: 32}, leaky-relu(0.01), {linear: [32, 48]}, leaky-relu(0.2), {linear: [48, 100]}, sigmoid]",
    ])
    XCTAssertEqual(wrong.status, 1)
    XCTAssertTrue(wrong.stdout.contains("DISAGREES"), wrong.stdout)
    XCTAssertTrue(wrong.stderr.contains("mlp-reference.safetensors") && wrong.stderr.contains("differs from PyTorch beyond 1e-05"), wrong.stderr)
    XCTAssertFalse(wrong.stderr.contains("Fatal error"), wrong.stderr)
    let shape = try ggep(["check-generator", mlp, "--reference", fixtures + "/dcgan-reference.safetensors"])
    XCTAssertEqual(shape.status, 1)
    XCTAssertTrue(shape.stderr.contains("dcgan-reference.safetensors") && shape.stderr.contains("tensor \"y\": has 24576 entries, but 4 rows of 100 were expected"), shape.stderr)
  }

  func testPlanSummarizeAndInspect() throws {
    let config = try fixture.write("cli.yaml", Self.good)
    let plan = try ggep(["plan", config])
    XCTAssertEqual(plan.status, 0)
    XCTAssertTrue(plan.stdout.contains("cli: 4 jobs in 2 batches"), plan.stdout)
    XCTAssertEqual(plan.stdout.components(separatedBy: "\n").filter { $0.contains("PRFM") }.count, 4)
    let out = fixture.directory.appendingPathComponent("out").path
    XCTAssertEqual(try ggep(["run", config, "--out", out, "--jobs", "2"]).status, 0)
    let summary = try ggep(["summarize", out + "/results.h5"])
    XCTAssertTrue(summary.stdout.contains("| problem | algorithm | m | jobs | cosine (mean ± std) |"), summary.stdout)
    XCTAssertEqual(summary.stdout.components(separatedBy: "\n").filter { $0.hasPrefix("| eq24 | PRFM |") }.count, 2)
    let inspect = try ggep(["inspect", out + "/results.h5"])
    XCTAssertTrue(inspect.stdout.contains("4 of 4 planned (4 ok, 0 failed)"), inspect.stdout)
    let verified = try ggep(["verify", out + "/results.h5"])
    XCTAssertEqual(verified.status, 0, verified.stderr)
    XCTAssertTrue(verified.stdout.contains("verified 4 job(s)"), verified.stdout)
    // An altered û makes verify fail, naming the job.
    let victim = try ResultsFile.read(out + "/results.h5").records[2]
    let file = try HDF5File.open(out + "/results.h5", writable: true)
    try file.root.openGroup("jobs/\(victim.key)").write("u_hat", victim.estimate.map { $0 * 1.000001 })
    try file.close()
    let failed = try ggep(["verify", out + "/results.h5"])
    XCTAssertEqual(failed.status, 1)
    XCTAssertTrue(failed.stderr.contains("job \(victim.key)"), failed.stderr)
  }

  /// A sweep long enough to interrupt: 40 batches of a few tenths of a second each, so that
  /// after the first has finished the rest take seconds, far longer than the signal takes to
  /// arrive however loaded the machine is.
  static let long = """
    name: long
    seed: 5
    m: 100
    signal: {source: generator, count: 2}
    generator: {kind: relu-random, n: 300, k: 8, hidden: 80}
    problem: {kind: spiked}
    algorithm: {kind: prfm, iterations: 10}
    projection: {steps: 60, restarts: 2}
    sweep:
      m: range(50, 1050, 50)
      algorithm.eta: [0.1, 0.2]

    """

  /// Ctrl-C finishes the batches in flight, saves, exits 130; SIGKILL loses only batches in
  /// flight. Either way the rerun completes the set, with the numbers of an uninterrupted run.
  func testInterruptedAndKilledRunsResumeToTheSameResults() throws {
    let config = try fixture.write("long.yaml", Self.long)
    let reference = fixture.directory.appendingPathComponent("reference").path
    XCTAssertEqual(try ggep(["run", config, "--out", reference, "--jobs", "2"]).status, 0)
    let expected = try ResultsFile.read(reference + "/results.h5").records

    for signal in [SIGINT, SIGKILL] {
      let out = fixture.directory.appendingPathComponent("run-\(signal)").path
      let process = Process()
      process.executableURL = try GGEPExecutable.url
      process.arguments = ["run", config, "--out", out, "--jobs", "1"]
      let pipe = Pipe()
      process.standardOutput = pipe
      process.standardError = FileHandle.nullDevice
      try process.run()
      // Wait for the first finished batch, then interrupt: 39 batches are still to run.
      var seen = ""
      while seen.components(separatedBy: "\n").filter({ $0.hasPrefix("[") }).count < 1 {
        let chunk = pipe.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        seen += String(decoding: chunk, as: UTF8.self)
      }
      kill(process.processIdentifier, signal)
      _ = pipe.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      if signal == SIGINT {
        XCTAssertEqual(process.terminationStatus, 130)
        let partial = try ResultsFile.read(out + "/results.h5").records
        XCTAssertGreaterThanOrEqual(partial.count, 2)
        XCTAssertLessThan(partial.count, expected.count)
      } else {
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
      }
      let rerun = try ggep(["run", config, "--out", out, "--jobs", "2"])
      XCTAssertEqual(rerun.status, 0, rerun.stderr)
      XCTAssertTrue(rerun.stdout.contains("already complete"), rerun.stdout)
      let records = try ResultsFile.read(out + "/results.h5").records
      XCTAssertEqual(records.map(\.key), expected.map(\.key))
      XCTAssertEqual(records.map(\.cosine), expected.map(\.cosine))
      XCTAssertEqual(records.map(\.estimate), expected.map(\.estimate))
      // `.lock` stays (an empty file: the folder's run lock, see RunLock).
      let leftovers = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0 != ".lock" }
      XCTAssertEqual(leftovers, ["results.h5"], "journal and temporary files are cleaned up")
    }
  }
}
