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

/// Temporary config files for one test, removed afterwards. Shared with `SweepTests`.
final class ConfigFixture {
  let directory: URL

  init() throws {
    directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("ggep-config-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(at: directory) }

  /// Writes `text` to `name` (relative to the fixture directory) and returns its path.
  @discardableResult
  func write(_ name: String, _ text: String) throws -> String {
    let url = directory.appendingPathComponent(name)
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
  }

  /// A minimal valid experiment; tests append or override what they are about.
  static let minimal = """
    m: 100
    signal:
      source: generator
    generator:
      kind: linear
      n: 32
      k: 4
    problem:
      kind: spiked
    algorithm:
      kind: prfm

    """

  func plan(_ text: String, name: String = "exp.yaml", overrides: [String] = []) throws -> ExperimentPlan {
    try ExperimentPlan.load(path: write(name, text), overrides: overrides)
  }
}

/// Asserts that `body` throws a `ConfigError` whose description contains every fragment, and
/// returns the error for further checks.
@discardableResult
func assertConfigError(
  _ fragments: [String], file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void
) -> ConfigError? {
  do {
    try body()
    XCTFail("expected a ConfigError containing \(fragments)", file: file, line: line)
  } catch let error as ConfigError {
    for fragment in fragments where !error.description.contains(fragment) {
      XCTFail("error \"\(error)\" does not contain \"\(fragment)\"", file: file, line: line)
    }
    return error
  } catch {
    XCTFail("expected a ConfigError, got \(error)", file: file, line: line)
  }
  return nil
}

final class ConfigTests: GGEPTestCase {
  var fixture: ConfigFixture!

  override func setUpWithError() throws {
    fixture = try ConfigFixture()
  }

  override func tearDown() {
    fixture = nil
  }

  // MARK: Loading and the typed schema

  func testLoadsValidConfigWithDefaultsFilled() throws {
    let plan = try fixture.plan(
      """
      description: a full example
      seed: 7
      trials: 2
      m: 100
      signal:
        source: sparse
        count: 3
        support: 10
      generator:
        kind: linear
        n: 64
        k: 8
      problem:
        kind: spiked
        beta: 3
        covariance: {kind: toeplitz, r: 0.3}
      algorithm:
        kind: rifle
        s: 20
        eta: 0.1
      projection:
        mode: oracle-norm

      """, name: "configs/fig-demo.yaml")
    XCTAssertEqual(plan.name, "fig-demo", "the name defaults to the file's stem")
    XCTAssertEqual(plan.points.count, 1)
    let spec = plan.points[0].spec
    XCTAssertEqual(spec.description, "a full example")
    XCTAssertEqual(spec.seed, 7)
    XCTAssertEqual(spec.trials, 2)
    XCTAssertEqual(spec.m, 100)
    XCTAssertEqual(spec.signal, SignalSpec(source: .sparse(support: 10), count: 3, seed: 7))
    XCTAssertEqual(spec.generator, GeneratorSpec(LinearGeneratorSpec(n: 64, k: 8, seed: 1)))
    XCTAssertEqual(spec.problem, .spiked(.init(beta: 3, covariance: .toeplitz(r: 0.3))))
    XCTAssertEqual(spec.algorithm, AlgorithmSpec(method: .rifle(eta: 0.1, s: 20, etaPrime: nil)))
    XCTAssertEqual(spec.projection, ProjectionSpec(ExactProjectorSpec(), mode: .oracleNorm))
    XCTAssertEqual(spec.algorithm.label, "Rifle20")
    XCTAssertEqual(spec.problem.label, "eq24-toeplitz(r=0.3)")
    XCTAssertEqual(plan.jobs.count, 6, "3 signals × 2 trials")
    XCTAssertTrue(plan.document.sourceText.hasPrefix("description: a full example"))
  }

  func testExplicitDefaultsEqualOmittedKeys() throws {
    let explicit = """
      name: exp
      description: null
      seed: 0
      trials: 1
      m: 100
      signal: {source: generator, count: 1, seed: 0}
      generator: {kind: relu-random, n: 32, k: 4, hidden: 16, seed: 1}
      problem:
        kind: spiked
        beta: 2
        covariance: {kind: identity}
        population: false
      algorithm: {kind: prfm, eta: 0.2, iterations: 30, tolerance: 1e-6, init: ones}
      projection:
        method: adam
        mode: cosine
        steps: 100
        learning_rate: 0.1
        restarts: 3
        lambda_z: 0.001
        warm_start: false

      """
    let omitted = ConfigFixture.minimal.replacingOccurrences(of: "kind: linear", with: "kind: relu-random")
    let a = try fixture.plan(explicit, name: "exp.yaml")
    let b = try fixture.plan(omitted, name: "other/exp.yaml")
    XCTAssertEqual(a.points[0].spec, b.points[0].spec)
    XCTAssertEqual(a.points[0].spec.canonicalJSON, b.points[0].spec.canonicalJSON)
    XCTAssertEqual(a.jobs.map(\.key), b.jobs.map(\.key))
  }

  func testLabels() {
    XCTAssertEqual(AlgorithmSpec(method: .prfm(eta: 0.2)).label, "PRFM")
    XCTAssertEqual(AlgorithmSpec(method: .ppower).label, "PPower")
    XCTAssertEqual(AlgorithmSpec(method: .rifle(eta: 0.2, s: 100, etaPrime: nil)).label, "Rifle100")
    XCTAssertEqual(ProblemSpec.spiked(.init()).label, "eq24")
    XCTAssertEqual(ProblemSpec.spiked(.init(covariance: .spike(gamma: 5))).label, "eq24-spike(gamma=5)")
    XCTAssertEqual(
      ProblemSpec.spiked(.init(covariance: .diagonal(low: 0.5, high: 2))).label, "eq24-diagonal(low=0.5,high=2)")
    XCTAssertEqual(ProblemSpec.phaseRetrieval(.init()).label, "eq25-square")
    XCTAssertEqual(ProblemSpec.phaseRetrieval(.init(link: .abs, population: true)).label, "eq25-abs-pop")
  }

  func testSpecJSONRoundTrips() throws {
    let plan = try fixture.plan(
      ConfigFixture.minimal + """
        sweep:
          problem:
            - {kind: spiked, covariance: {kind: diagonal, low: 1, high: 3}}
            - {kind: phase-retrieval, link: abs, population: true}
          algorithm:
            - {kind: rifle, s: 5, eta_prime: 0.5}
            - {kind: ppower}

        """)
    for point in plan.points {
      let data = Data(point.spec.canonicalJSON.utf8)
      let decoded = try JSONDecoder().decode(ExperimentSpec.self, from: data)
      XCTAssertEqual(decoded, point.spec)
    }
    XCTAssertTrue(plan.points[0].spec.canonicalJSON.contains(#""eta_prime":0.5"#))
  }

  // MARK: Includes

  func testIncludeMergesBeneathInOrderAndKeepsMarks() throws {
    try fixture.write(
      "configs/base.yaml",
      """
      m: 50
      signal: {source: generator}
      generator: {kind: linear, n: 32, k: 4}
      problem:
        kind: spiked
        beta: 3
      algorithm:
        kind: prfm
        eta: 0.5

      """)
    try fixture.write("configs/more.yaml", "include: base.yaml\nm: 60\nalgorithm:\n  iterations: 7\n")
    let top = try fixture.write(
      "configs/top.yaml",
      """
      include: [more.yaml, base.yaml]
      problem:
        beta: 4

      """)
    // `base.yaml` comes after `more.yaml`, so its m (50) wins over more's 60; the top file
    // wins over both; mappings merge key by key.
    var document = try ConfigDocument.load(path: top)
    XCTAssertEqual(document.root["m"]?.scalarText, "50")
    XCTAssertEqual(document.root["problem"]?["kind"]?.scalarText, "spiked")
    XCTAssertEqual(document.root["problem"]?["beta"]?.scalarText, "4")
    XCTAssertEqual(document.root["algorithm"]?["eta"]?.scalarText, "0.5")
    XCTAssertEqual(document.root["algorithm"]?["iterations"]?.scalarText, "7")
    XCTAssertNil(document.root["include"])
    XCTAssertTrue(document.root["problem"]!["kind"]!.mark.file.hasSuffix("configs/base.yaml"))
    XCTAssertEqual(document.root["problem"]!["kind"]!.mark.line, 5)
    XCTAssertTrue(document.root["problem"]!["beta"]!.mark.file.hasSuffix("configs/top.yaml"))
    XCTAssertEqual(document.includedFiles.count, 3)
    XCTAssertEqual(document.sourceText, try String(contentsOfFile: top, encoding: .utf8))

    // Overrides win over everything.
    try document.applyOverride("m=70")
    XCTAssertEqual(try ExperimentPlan(document: document).points[0].spec.m, 70)

    // An error in an included file names that file and line.
    try fixture.write("configs/bad-base.yaml", "algorithm:\n  kind: prfm\n  eta: -1\n")
    let bad = try fixture.write("configs/bad.yaml", ConfigFixture.minimal.replacingOccurrences(of: "algorithm:\n  kind: prfm\n", with: "") + "include: bad-base.yaml\n")
    assertConfigError(["bad-base.yaml:3: algorithm.eta: must be > 0, got -1"]) {
      _ = try ExperimentPlan.load(path: bad)
    }
  }

  func testIncludeCycleIsAnError() throws {
    try fixture.write("a.yaml", "include: b.yaml\nm: 1\n")
    try fixture.write("b.yaml", "m: 2\ninclude:\n  - c.yaml\n")
    try fixture.write("c.yaml", "include: a.yaml\n")
    let error = assertConfigError(["c.yaml:1: include: include cycle:", "a.yaml -> ", "b.yaml -> ", "c.yaml -> "]) {
      _ = try ConfigDocument.load(path: fixture.directory.appendingPathComponent("a.yaml").path)
    }
    XCTAssertEqual(error?.line, 1)
    assertConfigError(["self.yaml:1: include: include cycle"]) {
      _ = try ConfigDocument.load(path: fixture.write("self.yaml", "include: self.yaml\n"))
    }
  }

  func testMissingFilesAreErrors() throws {
    assertConfigError(["nowhere.yaml", "config file not found"]) {
      _ = try ConfigDocument.load(path: fixture.directory.appendingPathComponent("nowhere.yaml").path)
    }
    assertConfigError(["top.yaml:3: include[1]: included file", "missing.yaml' not found"]) {
      try fixture.write("ok.yaml", "m: 1\n")
      _ = try ConfigDocument.load(path: fixture.write("top.yaml", "include:\n  - ok.yaml\n  - missing.yaml\n"))
    }
  }

  // MARK: Errors: each names the file, key path, line and value

  /// Loads the minimal config with `original` replaced by `replacement`.
  private func assertMinimalError(
    replacing original: String, with replacement: String, _ fragments: [String],
    file: StaticString = #filePath, line: UInt = #line
  ) {
    let text = ConfigFixture.minimal.replacingOccurrences(of: original, with: replacement)
    XCTAssertNotEqual(text, ConfigFixture.minimal, "fixture text not found", file: file, line: line)
    assertConfigError(fragments, file: file, line: line) { _ = try fixture.plan(text) }
  }

  /// `experiment:` names the kind; `gep` is the default, so writing it changes no job key, and an
  /// unknown kind is an error at its line listing the known ones.
  func testExperimentKeyDefaultsToGEPAndKeepsTheKeys() throws {
    let implicit = try fixture.plan(ConfigFixture.minimal)
    let explicit = try fixture.plan("experiment: gep\n" + ConfigFixture.minimal, name: "explicit.yaml")
    XCTAssertEqual(implicit.kind.name, "gep")
    XCTAssertEqual(explicit.kind.name, "gep")
    XCTAssertEqual(implicit.jobs.map(\.key), explicit.jobs.map(\.key))
    XCTAssertThrowsError(try fixture.plan("experiment: inversions\n" + ConfigFixture.minimal, name: "kind.yaml")) { error in
      XCTAssertTrue("\(error)".contains("kind.yaml:1: experiment: unknown experiment kind \"inversions\"; one of: gep"), "\(error)")
    }
  }

  /// `relu-mlp` (docs/mathematics.md §10): any widths, per-layer activations (or hidden/output), optional
  /// biases, seeded N(0, 1/fan_in) weights; bad activations are errors at their key.
  func testReluMLPGenerator() throws {
    let text = """
      m: 60
      signal: {source: generator, count: 2}
      generator: {kind: relu-mlp, widths: [4, 40, 60], activations: [relu, plu], bias: true, seed: 3}
      problem: {kind: spiked}
      algorithm: {kind: prfm, iterations: 3}
      projection: {steps: 10, restarts: 2}

      """
    let plan = try fixture.plan(text)
    let g = plan.points[0].spec.generator
    XCTAssertEqual([g.k, g.n], [4, 60])
    let built = try GeneratorFactory().build(g)
    let layers = try XCTUnwrap(built.generator as? FeedForwardGenerator).layers
    XCTAssertEqual(layers.map(\.activation), [.relu, .plu(alpha: 0.1, c: 1)])
    XCTAssertEqual(layers.map(\.bias.count), [40, 60])
    // The weights' scale is 1/√fan_in.
    let w = layers[1].weights.storage.map(Double.init)
    let variance = w.map { $0 * $0 }.reduce(0, +) / Double(w.count)
    XCTAssertEqual(variance, 1.0 / 40, accuracy: 0.1 / 40)
    let out = fixture.directory.appendingPathComponent("mlp").path
    let summary = try ExperimentRunner(plan: plan, options: .init(jobs: 1, out: out, progress: nil)).run()
    XCTAssertEqual(summary.failedJobs, 0)
    let shorthand = try fixture.plan(text.replacingOccurrences(of: "activations: [relu, plu]", with: "hidden: relu, output: plu"), name: "b.yaml")
    XCTAssertEqual(shorthand.jobs.map(\.key), plan.jobs.map(\.key))
    XCTAssertThrowsError(try fixture.plan(text.replacingOccurrences(of: "[relu, plu]", with: "[relu, gelu]"), name: "c.yaml")) { error in
      XCTAssertTrue("\(error)".contains("c.yaml:3: generator.activations: unknown activation \"gelu\""), "\(error)")
    }
    XCTAssertThrowsError(try fixture.plan(text.replacingOccurrences(of: "[relu, plu]", with: "[relu]"), name: "d.yaml")) { error in
      XCTAssertTrue("\(error)".contains("has 1 entries, but widths [4, 40, 60] make 2 layer(s)"), "\(error)")
    }
  }

  func testUnknownKeySuggestsNearestKey() {
    assertMinimalError(
      replacing: "kind: prfm", with: "kind: prfm\n  etta: 0.1",
      ["exp.yaml:12: algorithm.etta: unknown key for kind prfm; did you mean `eta`?"])
    assertMinimalError(
      replacing: "m: 100", with: "m: 100\ntrails: 3", ["exp.yaml:2: trails: unknown key; did you mean `trials`?"])
    // Far from every allowed key: the allowed keys are listed instead.
    assertMinimalError(
      replacing: "m: 100", with: "m: 100\ncolour: red", ["exp.yaml:2: colour: unknown key (allowed: name,"])
    // A key valid for another kind is unknown for this one.
    assertMinimalError(
      replacing: "kind: prfm", with: "kind: ppower\n  eta: 0.3", ["exp.yaml:12: algorithm.eta: unknown key for kind ppower"])
    assertMinimalError(
      replacing: "kind: spiked", with: "kind: phase-retrieval\n  beta: 3",
      ["exp.yaml:10: problem.beta: unknown key for kind phase-retrieval"])
    assertMinimalError(
      replacing: "source: generator", with: "source: generator\n  support: 3",
      ["exp.yaml:4: signal.support: unknown key for source generator"])
    assertMinimalError(
      replacing: "k: 4", with: "k: 4\n  hidden: 3", ["exp.yaml:8: generator.hidden: unknown key for kind linear"])
  }

  func testWrongTypesAreErrors() {
    assertMinimalError(replacing: "m: 100", with: "m: 2.5", ["exp.yaml:1: m: expected an integer, got 2.5"])
    assertMinimalError(replacing: "m: 100", with: "m: \"100\"", ["exp.yaml:1: m: expected an integer, got \"100\" (a quoted string)"])
    assertMinimalError(replacing: "m: 100", with: "m: [1, 2]", ["exp.yaml:1: m: expected an integer, got a list [1, 2]"])
    assertMinimalError(replacing: "m: 100", with: "m: 1e3", ["exp.yaml:1: m: expected an integer, got 1e3"])
    assertMinimalError(
      replacing: "m: 100", with: "m: 100000000000000000000000", ["m: integer out of range, got 100000000000000000000000"])
    assertMinimalError(
      replacing: "kind: prfm", with: "kind: prfm\n  eta: fast", ["exp.yaml:12: algorithm.eta: expected a number, got fast"])
    assertMinimalError(
      replacing: "kind: spiked", with: "kind: spiked\n  population: yes",
      ["exp.yaml:10: problem.population: expected true or false, got yes"])
    assertMinimalError(
      replacing: "signal:\n  source: generator", with: "signal: generator",
      ["exp.yaml:2: signal: expected a mapping, got generator"])
  }

  func testRangeChecksAreErrors() {
    assertMinimalError(replacing: "m: 100", with: "m: 0", ["exp.yaml:1: m: must be >= 1, got 0"])
    assertMinimalError(replacing: "m: 100", with: "m: -4", ["exp.yaml:1: m: must be >= 1, got -4"])
    assertMinimalError(
      replacing: "kind: prfm", with: "kind: prfm\n  eta: -0.1", ["exp.yaml:12: algorithm.eta: must be > 0, got -0.1"])
    assertMinimalError(
      replacing: "kind: prfm", with: "kind: prfm\n  eta: 0", ["exp.yaml:12: algorithm.eta: must be > 0, got 0"])
    assertMinimalError(
      replacing: "kind: prfm", with: "kind: rifle\n  s: 40",
      ["exp.yaml:12: algorithm.s: must be in 1...32 (generator.n = 32), got 40"])
    assertMinimalError(replacing: "k: 4", with: "k: 33", ["exp.yaml:7: generator.k: must be in 1...32 (generator.n = 32), got 33"])
    assertMinimalError(
      replacing: "source: generator", with: "source: sparse\n  support: 64",
      ["exp.yaml:4: signal.support: must be in 1...32 (generator.n = 32), got 64"])
    assertMinimalError(
      replacing: "kind: spiked", with: "kind: spiked\n  covariance: {kind: toeplitz, r: 1}",
      ["exp.yaml:10: problem.covariance.r: must be in the open interval (-1, 1), got 1"])
    // A default that fails a check because of another key says so.
    assertMinimalError(
      replacing: "kind: spiked", with: "kind: spiked\n  covariance: {kind: diagonal, low: 3}",
      ["exp.yaml:10: problem.covariance.high: must be >= 3 (low = 3), got 2 (the default"])
    assertMinimalError(replacing: "m: 100", with: "m: 100\nseed: -1", ["exp.yaml:2: seed: must be >= 0, got -1"])
  }

  func testBadEnumValueListsAllowedValues() {
    assertMinimalError(
      replacing: "kind: spiked", with: "kind: spikd",
      ["exp.yaml:9: problem.kind: must be one of spiked, phase-retrieval, gpca, gfda, samples, gcca; got spikd (did you mean `spiked`?)"])
    assertMinimalError(
      replacing: "kind: prfm", with: "kind: lanczos", ["exp.yaml:11: algorithm.kind: must be one of prfm, ppower, rifle; got lanczos"])
    assertConfigError(["exp.yaml:13: projection.method: exact projection needs a linear generator", "got exact"]) {
      let relu = ConfigFixture.minimal.replacingOccurrences(of: "kind: linear", with: "kind: relu-random")
      _ = try fixture.plan(relu + "projection:\n  method: exact\n")
    }
  }

  func testMissingRequiredKeys() {
    assertMinimalError(replacing: "m: 100\n", with: "", ["exp.yaml:1: m: missing required key (an integer)"])
    assertMinimalError(
      replacing: "kind: prfm", with: "kind: rifle", ["exp.yaml:11: algorithm.s: missing required key (an integer)"])
    assertMinimalError(
      replacing: "problem:\n  kind: spiked\n", with: "",
      ["exp.yaml:1: problem.kind: missing required key (one of spiked, phase-retrieval, gpca, gfda, samples, gcca)"])
  }

  func testYAMLSyntaxErrorHasFileAndLine() throws {
    let text = ConfigFixture.minimal.replacingOccurrences(of: "k: 4", with: "k: [4, 5")
    assertConfigError(["exp.yaml:", "YAML syntax error"]) { _ = try fixture.plan(text) }
    let error = assertConfigError(["exp.yaml:3:", "YAML syntax error"]) {
      _ = try fixture.plan("m: 1\nsignal:\n\tsource: generator\n")
    }
    XCTAssertEqual(error?.line, 3)
    assertConfigError(["exp.yaml:2: m: duplicate key (first written at line 1)"]) { _ = try fixture.plan("m: 1\nm: 2\n") }
    assertConfigError(["exp.yaml:1: the top level of a config must be a mapping, got a list"]) {
      _ = try fixture.plan("- 1\n- 2\n")
    }
  }

  // MARK: Overrides

  func testOverridesSetScalarsListsMappingsAndSweepEntries() throws {
    let path = try fixture.write("exp.yaml", ConfigFixture.minimal + "sweep:\n  m: [10, 20]\n")
    let document = try ConfigDocument.load(
      path: path,
      overrides: [
        "algorithm={kind: prfm}", "problem={kind: spiked, beta: 3}", "signal.count=2", "sweep.algorithm.eta=[0.3, 0.4]",
        "sweep.m[1]=30", "projection.method=adam", "projection.steps=7",
      ])
    XCTAssertEqual(document.overrides.count, 7)
    XCTAssertEqual(document.root["algorithm"]?["kind"]?.mark, .commandLine)
    XCTAssertEqual(document.root["sweep"]?["algorithm.eta"]?.compactText, "[0.3, 0.4]")
    let plan = try ExperimentPlan(document: document)
    XCTAssertEqual(plan.points.map(\.spec.m), [10, 10, 30, 30])
    XCTAssertEqual(plan.points.map(\.spec.algorithm.method), [.prfm(eta: 0.3), .prfm(eta: 0.4), .prfm(eta: 0.3), .prfm(eta: 0.4)])
    XCTAssertEqual(plan.points[0].spec.problem, .spiked(.init(beta: 3)))
    XCTAssertEqual(plan.points[0].spec.projection.steps, 7)
    XCTAssertEqual(plan.jobs.count, 8)
    // Projection keys are per method: Adam's steps under the exact projection are an error.
    assertConfigError(["--set: projection.steps: unknown key for method exact (allowed: method, mode)"]) {
      _ = try ExperimentPlan.load(path: path, overrides: ["projection.steps=7"])
    }

    // A value the sweep replaces at every point cannot be overridden: it would be ignored.
    assertConfigError(["--set: algorithm.eta: algorithm.eta is a sweep axis (sweep.algorithm.eta, set with --set)", "would be ignored"]) {
      _ = try ExperimentPlan.load(path: path, overrides: ["sweep.algorithm.eta=[0.3, 0.4]", "algorithm.eta=0.1"])
    }

    // An override of a list value replaces the list.
    let lists = try ConfigDocument.load(path: path, overrides: ["sweep.m=[100,200,300]"])
    XCTAssertEqual(try ExperimentPlan(document: lists).points.map(\.spec.m), [100, 200, 300])
    // A quoted override value stays a string.
    assertConfigError(["--set: m: expected an integer, got \"5\" (a quoted string)"]) {
      _ = try ExperimentPlan.load(path: path, overrides: ["m=\"5\"", "sweep="])
    }
    // An empty value unsets: the sweep disappears.
    XCTAssertEqual(try ExperimentPlan.load(path: path, overrides: ["sweep="]).points.count, 1)
  }

  func testMalformedOverridesAreErrors() throws {
    let path = try fixture.write("exp.yaml", ConfigFixture.minimal)
    assertConfigError(["--set: malformed override 'algorithm.eta': expected key.path=value"]) {
      _ = try ConfigDocument.load(path: path, overrides: ["algorithm.eta"])
    }
    assertConfigError(["--set: malformed override '=3': the key before '=' is empty"]) {
      _ = try ConfigDocument.load(path: path, overrides: ["=3"])
    }
    assertConfigError(["--set: a..b: malformed override 'a..b=1'"]) {
      _ = try ConfigDocument.load(path: path, overrides: ["a..b=1"])
    }
    assertConfigError(["--set: m.x: m is a scalar (100), not a mapping"]) {
      _ = try ConfigDocument.load(path: path, overrides: ["m.x=1"])
    }
    assertConfigError(["--set: m: cannot parse the value '[1, 2' as YAML"]) {
      _ = try ConfigDocument.load(path: path, overrides: ["m=[1, 2"])
    }
    // Bad values from --set are reported against --set, after validation.
    assertConfigError(["--set: algorithm.eta: must be > 0, got -0.1"]) {
      _ = try ExperimentPlan.load(path: path, overrides: ["algorithm.eta=-0.1"])
    }
  }

  func testOverridePathKeepsSweepAxisNamesWhole() throws {
    XCTAssertEqual(try ConfigDocument.overridePath("sweep.algorithm.eta"), ConfigPath([.key("sweep"), .key("algorithm.eta")]))
    XCTAssertEqual(
      try ConfigDocument.overridePath("sweep.zip.problem.beta"), ConfigPath([.key("sweep"), .key("zip"), .key("problem.beta")]))
    XCTAssertEqual(
      try ConfigDocument.overridePath("sweep.zip[1].m[0]"),
      ConfigPath([.key("sweep"), .key("zip"), .index(1), .key("m"), .index(0)]))
    XCTAssertEqual(try ConfigDocument.overridePath("a.b[2].c"), ConfigPath([.key("a"), .key("b"), .index(2), .key("c")]))
    XCTAssertEqual(ConfigPath([.key("sweep"), .key("m"), .index(2)]).description, "sweep.m[2]")
  }

  // MARK: Rendering

  func testResolvedYAMLRoundTrips() throws {
    let text = """
      name: "2024"
      description: "yes"
      m: 100
      tags: ["3", "true", plain, "a: b", "", "~", '-x', "multi\\nline"]
      nested:
        - {kind: spiked, beta: 3}
        - [1, 2]
        - empty: {}
          list: []
      eta: 1e-3
      nothing:

      """
    let node = try ConfigNode.parse(yaml: text, file: "x.yaml")
    let rendered = node.yamlText()
    let reparsed = try ConfigNode.parse(yaml: rendered, file: "rendered.yaml")
    XCTAssertEqual(reparsed, node, rendered)
    XCTAssertTrue(rendered.contains("name: \"2024\""), rendered)
    XCTAssertTrue(rendered.contains("description: \"yes\""), rendered)
    XCTAssertTrue(rendered.contains("eta: 1e-3"), rendered)
    XCTAssertTrue(rendered.contains("nothing: null"), rendered)
    XCTAssertEqual(node["nested"]?.compactText, "[{kind: spiked, beta: 3}, [1, 2], {empty: {}, list: []}]")
    XCTAssertEqual(try ConfigNode.parse(yaml: node["nested"]!.compactText, file: "c"), node["nested"])

    // A whole experiment renders to a config that loads to the same plan.
    let plan = try fixture.plan(ConfigFixture.minimal + "sweep:\n  m: [50, range(100, 300, 100)]\n")
    let again = try fixture.plan(plan.document.resolvedYAML, name: "exp.yaml")
    XCTAssertEqual(again.jobs.map(\.key), plan.jobs.map(\.key))
  }

  func testEditDistanceSuggestions() {
    XCTAssertEqual(editDistance("etta", "eta"), 1)
    XCTAssertEqual(editDistance("kitten", "sitting"), 3)
    XCTAssertEqual(closestMatch(to: "learning_rat", among: ProjectionSpec.keys), "learning_rate")
    XCTAssertNil(closestMatch(to: "zzzzzz", among: ProjectionSpec.keys))
  }
}
