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

final class SweepTests: GGEPTestCase {
  var fixture: ConfigFixture!

  override func setUpWithError() throws {
    fixture = try ConfigFixture()
  }

  override func tearDown() {
    fixture = nil
  }

  private func plan(sweep: String, extra: String = "", overrides: [String] = []) throws -> ExperimentPlan {
    try fixture.plan(ConfigFixture.minimal + extra + "sweep:\n" + sweep, overrides: overrides)
  }

  private func expand(_ sweep: String) throws -> [SweepPoint] {
    try SweepExpander.expand(ConfigNode.parse(yaml: "m: 1\nsweep:\n" + sweep, file: "s.yaml"))
  }

  /// The label values of each point, as text.
  private func labels(_ points: [SweepPoint]) -> [[String]] {
    points.map { $0.labels.map(\.description) }
  }

  // MARK: Grid

  func testGridCountAndOrderLastAxisFastest() throws {
    let plan = try plan(sweep: "  m: [100, 200, 300]\n  algorithm.eta: [0.1, 0.2]\n")
    XCTAssertEqual(plan.points.count, 6)
    XCTAssertEqual(plan.points.map(\.spec.m), [100, 100, 200, 200, 300, 300])
    XCTAssertEqual(
      plan.points.map(\.spec.algorithm.method), [0.1, 0.2, 0.1, 0.2, 0.1, 0.2].map { AlgorithmSpec.Method.prfm(eta: $0) })
    XCTAssertEqual(plan.points[3].sweepLabels, [SweepLabel(path: "m", value: "200"), SweepLabel(path: "algorithm.eta", value: "0.2")])
    XCTAssertEqual(plan.points.map(\.index), Array(0..<6))
    XCTAssertNil(plan.points[0].config["sweep"])
  }

  func testNoSweepIsOnePoint() throws {
    let points = try SweepExpander.expand(ConfigNode.parse(yaml: "m: 1\n", file: "s.yaml"))
    XCTAssertEqual(points.count, 1)
    XCTAssertEqual(points[0].labels, [])
    XCTAssertEqual(try expand("  m: null\n").count, 1, "a null axis is unset, e.g. by an including file")
  }

  func testWholeMappingValuesAndPathsIntoReplacedMappings() throws {
    let plan = try plan(
      sweep: """
          problem:
            - {kind: spiked}
            - {kind: spiked, covariance: {kind: spike}}
          problem.beta: [1, 4]
          algorithm: [{kind: ppower}, {kind: rifle, s: 8}]

        """)
    XCTAssertEqual(plan.points.count, 8)
    XCTAssertEqual(plan.points[0].spec.problem, .spiked(.init(beta: 1)))
    XCTAssertEqual(plan.points[7].spec.problem, .spiked(.init(beta: 4, covariance: .spike(gamma: 5))))
    XCTAssertEqual(plan.points.map(\.spec.algorithm.label), ["PPower", "Rifle8", "PPower", "Rifle8", "PPower", "Rifle8", "PPower", "Rifle8"])
    XCTAssertEqual(plan.points[1].sweepLabels[0], SweepLabel(path: "problem", value: "{kind: spiked}"))
    XCTAssertEqual(plan.points[1].sweepLabels[2], SweepLabel(path: "algorithm", value: "{kind: rifle, s: 8}"))
    // A path whose intermediate mappings do not exist yet creates them.
    let created = try expand("  a.b.c: [1]\n")
    XCTAssertEqual(created[0].root["a"]?["b"]?["c"]?.scalarText, "1")
  }

  // MARK: Zip

  func testZipStepsInLockStep() throws {
    let plan = try plan(
      sweep: """
          zip:
            m: [50, 100, 150]
            algorithm.eta: [0.3, 0.2, 0.1]
          problem.beta: [1, 2]

        """)
    XCTAssertEqual(plan.points.count, 6)
    XCTAssertEqual(plan.points.map(\.spec.m), [50, 50, 100, 100, 150, 150])
    XCTAssertEqual(
      plan.points.map(\.spec.algorithm.method), [0.3, 0.3, 0.2, 0.2, 0.1, 0.1].map { AlgorithmSpec.Method.prfm(eta: $0) })
    XCTAssertEqual(plan.points.map(\.spec.problem), [1, 2, 1, 2, 1, 2].map { ProblemSpec.spiked(.init(beta: $0)) })
    XCTAssertEqual(
      plan.points[2].sweepLabels.map(\.description), ["m=100", "algorithm.eta=0.2", "problem.beta=1"])
  }

  func testZipGroupsAndOrder() throws {
    let points = try expand(
      """
        a: [1, 2]
        zip:
          - {b: [x, y], c: [p, q]}
          - {d: [7, 8, 9]}

      """)
    XCTAssertEqual(points.count, 12)
    XCTAssertEqual(labels(points).prefix(4).map { $0 }, [
      ["a=1", "b=x", "c=p", "d=7"], ["a=1", "b=x", "c=p", "d=8"], ["a=1", "b=x", "c=p", "d=9"], ["a=1", "b=y", "c=q", "d=7"],
    ])
    XCTAssertEqual(labels(points).last, ["a=2", "b=y", "c=q", "d=9"])
  }

  func testZipLengthMismatchNamesBothKeysAndLengths() {
    assertConfigError(["s.yaml:6: sweep.zip.algorithm.eta: zip lists must have equal lengths: m has 3 values, algorithm.eta has 2"]) {
      _ = try expand("  a: [1]\n  zip:\n    m: [1, 2, 3]\n    algorithm.eta: [0.1, 0.2]\n")
    }
    assertConfigError(["s.yaml:5: sweep.zip[0].c: zip lists must have equal lengths: b has 1 values, c has 2"]) {
      _ = try expand("  zip:\n    - b: [1]\n      c: [1, 2]\n")
    }
  }

  // MARK: Ranges

  func testRangeSemantics() throws {
    func values(_ expression: String) throws -> [String] {
      try expand("  m: \(expression)\n").map { $0.labels[0].value }
    }
    XCTAssertEqual(try values("range(100, 600, 100)"), ["100", "200", "300", "400", "500"], "stop is excluded")
    XCTAssertEqual(try values("range(100, 601, 100)"), ["100", "200", "300", "400", "500", "600"])
    XCTAssertEqual(try values("range(5, 0, -2)"), ["5", "3", "1"])
    XCTAssertEqual(try values("range(3)"), ["0", "1", "2"])
    XCTAssertEqual(try values("range(2, 4)"), ["2", "3"])
    XCTAssertEqual(try values("range(0.1, 0.5, 0.1)"), ["0.1", "0.2", "0.3", "0.4"])
    XCTAssertEqual(try values("range(1, 2, 0.25)"), ["1.0", "1.25", "1.5", "1.75"])
    XCTAssertEqual(try values("range(1e-3, 4e-3, 1e-3)"), ["0.001", "0.002", "0.003"])
    XCTAssertEqual(try values("\"range(1, 3)\""), ["1", "2"])
  }

  func testInlineRangeInLists() throws {
    // Flow style splits the expression at its commas; the pieces are glued back together.
    let flow = try plan(sweep: "  m: [50, range(100, 400, 100), 1000]\n")
    XCTAssertEqual(flow.points.map(\.spec.m), [50, 100, 200, 300, 1000])
    let block = try plan(sweep: "  m:\n    - 50\n    - range(100, 400, 100)\n")
    XCTAssertEqual(block.points.map(\.spec.m), [50, 100, 200, 300])
    let quoted = try plan(sweep: "  m: [\"range(10, 30, 10)\", 5]\n")
    XCTAssertEqual(quoted.points.map(\.spec.m), [10, 20, 5])
  }

  func testBadRangesAreErrors() {
    assertConfigError(["s.yaml:3: sweep.m: range step must not be 0, got range(1, 5, 0)"]) { _ = try expand("  m: range(1, 5, 0)\n") }
    assertConfigError(["s.yaml:3: sweep.m: range(5, 1, 1) is empty"]) { _ = try expand("  m: range(5, 1, 1)\n") }
    assertConfigError(["s.yaml:3: sweep.m[1]: malformed range", "got range(1, x)"]) { _ = try expand("  m: [1, range(1, x)]\n") }
    assertConfigError(["s.yaml:3: sweep.m: malformed range", "got range(1, 2, 3, 4)"]) {
      _ = try expand("  m: range(1, 2, 3, 4)\n")
    }
    assertConfigError(["sweep.m: range(0, 1000000000) has more than 100000 values"]) { _ = try expand("  m: range(0, 1000000000)\n") }
  }

  // MARK: Sweep errors

  func testSweepShapeErrors() {
    assertConfigError(["s.yaml:3: sweep.m: empty list: a sweep axis needs at least one value"]) { _ = try expand("  m: []\n") }
    assertConfigError(["s.yaml:3: sweep.m: expected a list of values or range(start, stop, step), got 100"]) {
      _ = try expand("  m: 100\n")
    }
    assertConfigError(["s.yaml:3: sweep.m.x: cannot set m.x: m is a scalar (1), not a mapping"]) { _ = try expand("  m.x: [1, 2]\n") }
    assertConfigError(["s.yaml:4: sweep.zip.m: duplicate sweep path m (already an axis as m at line 3)"]) {
      _ = try expand("  m: [1]\n  zip: {m: [2]}\n")
    }
    assertConfigError(["s.yaml:2: sweep: expected a mapping from config paths to lists of values, got a list [1, 2]"]) {
      _ = try SweepExpander.expand(ConfigNode.parse(yaml: "m: 1\nsweep: [1, 2]\n", file: "s.yaml"))
    }
    assertConfigError(["s.yaml:3: sweep.a..b: malformed key path 'a..b'"]) { _ = try expand("  a..b: [1]\n") }
  }

  func testInvalidSweptValueNamesThePoint() {
    let error = assertConfigError([
      "exp.yaml:13: m: must be >= 1, got -5", "(sweep point 3 of 4: m=-5, algorithm.iterations=10)",
    ]) {
      _ = try plan(sweep: "  m: [100, -5]\n  algorithm.iterations: [10, 20]\n")
    }
    XCTAssertEqual(error?.keyPath, "m")
    // A value that is only wrong in combination: s = 20 exceeds the swept n = 16.
    assertConfigError(["algorithm.s: must be in 1...16 (generator.n = 16), got 20", "sweep point 1 of 2: generator.n=16"]) {
      _ = try plan(
        sweep: "  generator.n: [16, 64]\n",
        overrides: ["algorithm={kind: rifle, s: 20}"])
    }
  }

  func testSweepOverrides() throws {
    let plan = try plan(
      sweep: "  m: [10, 20]\n", overrides: ["sweep.m=range(1, 4)", "sweep.zip={algorithm.eta: [0.5, 0.6]}", "signal.count=2"])
    XCTAssertEqual(plan.points.map(\.spec.m), [1, 1, 2, 2, 3, 3])
    XCTAssertEqual(plan.points[1].spec.algorithm.method, .prfm(eta: 0.6))
    // A swept value cannot be overridden (the sweep would replace it): the axis names the fix.
    assertConfigError(["--set: m: m is a sweep axis (sweep.m", "--set 'sweep.m=[7]'"]) {
      _ = try self.plan(sweep: "  m: [10, 20]\n", overrides: ["m=7"])
    }
    assertConfigError(["--set: algorithm.eta: algorithm.eta is a sweep axis (sweep.algorithm.eta, set with --set)", "edit sweep.zip"]) {
      _ = try self.plan(sweep: "  m: [10, 20]\n", overrides: ["sweep.zip={algorithm.eta: [0.5, 0.6], problem.beta: [1, 2]}", "algorithm.eta=0.1"])
    }
    assertConfigError(["--set: sweep.m: expected a list of values or range(start, stop, step), got 5"]) {
      _ = try self.plan(sweep: "  m: [10, 20]\n", overrides: ["sweep.m=5"])
    }
  }

  // MARK: Jobs

  func testJobsOrderAndCount() throws {
    let plan = try plan(sweep: "  m: [10, 20]\n", extra: "trials: 2\n", overrides: ["signal.count=3"])
    XCTAssertEqual(plan.jobs.count, 12)
    XCTAssertEqual(plan.jobs.prefix(4).map { [$0.pointIndex, $0.signalIndex, $0.trial] }, [[0, 0, 0], [0, 0, 1], [0, 1, 0], [0, 1, 1]])
    XCTAssertEqual(plan.jobs[6].pointIndex, 1)
    XCTAssertEqual(Set(plan.jobs.map(\.key)).count, 12, "every job has its own key")
    XCTAssertTrue(plan.jobs.allSatisfy { $0.key.count == 16 && $0.key.allSatisfy(\.isHexDigit) })
    XCTAssertEqual(plan.groups.count, 2)
    XCTAssertEqual(plan.groups.map(\.count), [6, 6])
    XCTAssertEqual(plan.jobs[0].sweepLabels, [SweepLabel(path: "m", value: "10")])
  }

  func testJobKeysAreStableAndDistinct() throws {
    let text = ConfigFixture.minimal + "trials: 2\nsweep:\n  m: [10, 20]\n"
    let first = try fixture.plan(text, name: "a.yaml")
    let second = try fixture.plan(text, name: "a.yaml")
    XCTAssertEqual(first.jobs.map(\.key), second.jobs.map(\.key), "stable across loads")
    XCTAssertEqual(first.jobs.map(\.groupKey), second.jobs.map(\.groupKey))
    // Same point, different trials: different keys, shared group key.
    XCTAssertNotEqual(first.jobs[0].key, first.jobs[1].key)
    XCTAssertEqual(first.jobs[0].groupKey, first.jobs[1].groupKey)
    XCTAssertNotEqual(first.jobs[0].groupKey, first.jobs[2].groupKey)
    // A changed parameter changes the keys.
    let changed = try fixture.plan(text, name: "a.yaml", overrides: ["generator.seed=2"])
    XCTAssertNotEqual(changed.jobs[0].key, first.jobs[0].key)
    // Labels that do not change the computation leave keys alone: name, description, and the
    // number of trials (trial 0 is the same job whether 2 or 5 trials run).
    let relabelled = try fixture.plan(text, name: "b.yaml", overrides: ["description=renamed", "trials=5"])
    XCTAssertEqual(relabelled.jobs[0].key, first.jobs[0].key)
    XCTAssertEqual(relabelled.jobs[1].key, first.jobs[1].key)
    XCTAssertEqual(relabelled.name, "b")
    // The key is a hash of the identity, signal and trial, which other code can recompute.
    let spec = first.jobs[1].spec
    XCTAssertEqual(first.jobs[1].key, JobSpec.key(for: spec, signalIndex: 0, trial: 1))
    XCTAssertEqual(
      first.jobs[1].key, String(SHA256.hexDigest((spec.identityJSON + "\nsignal=0\ntrial=1").utf8).prefix(16)))
  }

  func testIdenticalPointsAreAnError() {
    assertConfigError(["exp.yaml:12: sweep: sweep points 1 (algorithm.tolerance=1e-6) and 2 (algorithm.tolerance=0.000001) are the same experiment"]) {
      _ = try plan(sweep: "  algorithm.tolerance: [1e-6, 0.000001]\n")
    }
    assertConfigError(["sweep points 1 (m=10) and 3 (m=10)"]) { _ = try plan(sweep: "  m: [10, 20, 10]\n") }
    assertConfigError(["sweep: name must be the same for every sweep point"]) { _ = try plan(sweep: "  name: [a, b]\n") }
    // Trial counts do not enter the job identity, so points differing only in them coincide.
    assertConfigError(["sweep points 1 (trials=1) and 2 (trials=2) are the same experiment"]) {
      _ = try plan(sweep: "  trials: [1, 2]\n")
    }
  }

  // MARK: SHA-256

  func testSHA256StandardVectors() {
    XCTAssertEqual(SHA256.hexDigest([UInt8]()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    XCTAssertEqual(SHA256.hexDigest("abc".utf8), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    XCTAssertEqual(
      SHA256.hexDigest("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    XCTAssertEqual(
      SHA256.hexDigest(repeatElement(UInt8(ascii: "a"), count: 1_000_000)),
      "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    XCTAssertEqual(SHA256.hash(Array("abc".utf8)).count, 32)
    // Chunked updates agree with one-shot hashing, across block boundaries.
    let message = Array((0..<200).map { UInt8($0 % 251) })
    var hasher = SHA256.Hasher()
    hasher.update(message[0..<63])
    hasher.update(message[63..<130])
    hasher.update(message[130...])
    XCTAssertEqual(hasher.finalize(), SHA256.hash(message))
    XCTAssertEqual(hasher.finalize(), SHA256.hash(message), "finalize leaves the hasher unchanged")
  }
}
