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

/// Files and configs written to break the tool: each is refused by name, never a crash, a hang,
/// or a file written through a link.
final class HostileInputTests: GGEPTestCase {
  // MARK: - The output folder's lock

  func testLockThroughASymbolicLinkIsRefusedAndTheTargetIsUntouched() throws {
    let fixture = try ConfigFixture()
    let victim = try fixture.write("victim.txt", "precious\n")
    let out = fixture.directory.appendingPathComponent("out").path
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    XCTAssertEqual(symlink(victim, out + "/.lock"), 0)
    XCTAssertThrowsError(try RunLock.acquire(directory: out, command: "test")) { error in
      XCTAssertTrue("\(error)".contains(".lock is a symbolic link"), "\(error)")
    }
    XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "precious\n")
  }

  func testLockThatIsAHardLinkOrNotAFileIsRefused() throws {
    let fixture = try ConfigFixture()
    let victim = try fixture.write("victim.txt", "precious\n")
    let out = fixture.directory.appendingPathComponent("out").path
    try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    XCTAssertEqual(link(victim, out + "/.lock"), 0)
    XCTAssertThrowsError(try RunLock.acquire(directory: out, command: "test")) { error in
      XCTAssertTrue("\(error)".contains("has 2 hard links"), "\(error)")
    }
    XCTAssertEqual(try String(contentsOfFile: victim, encoding: .utf8), "precious\n")

    let other = fixture.directory.appendingPathComponent("other").path
    try FileManager.default.createDirectory(atPath: other + "/.lock", withIntermediateDirectories: true)
    XCTAssertThrowsError(try RunLock.acquire(directory: other, command: "test"))
  }

  func testAnOrdinaryLockIsStillTakenAndReleased() throws {
    let fixture = try ConfigFixture()
    let out = fixture.directory.path
    let lock = try RunLock.acquire(directory: out, command: "first")
    XCTAssertThrowsError(try RunLock.acquire(directory: out, command: "second")) { error in
      XCTAssertTrue(error is RunLock.Busy, "\(error)")
    }
    lock.release()
    XCTAssertNoThrow(try RunLock.acquire(directory: out, command: "third").release())
  }

  // MARK: - Sizes from a file

  /// A safetensors file of one tensor whose header declares `shape` (data: 4 bytes).
  static func safetensors(shape: [UInt64], dtype: String = "F32") -> [UInt8] {
    let header = "{\"w\":{\"dtype\":\"\(dtype)\",\"shape\":[\(shape.map(String.init).joined(separator: ","))],\"data_offsets\":[0,4]}}"
    var bytes: [UInt8] = []
    let length = UInt64(header.utf8.count)
    for i in 0..<8 { bytes.append(UInt8(truncatingIfNeeded: length >> (8 * UInt64(i)))) }
    return bytes + Array(header.utf8) + [0, 0, 0, 0]
  }

  func testSafeTensorsShapesWhoseByteCountOverflowsAreRefusedByName() {
    for shape: [UInt64] in [[1 << 62], [4_294_967_296, 4_294_967_296, 4_294_967_296], [1 << 61, 2]] {
      XCTAssertThrowsError(try SafeTensorsFile(bytes: Self.safetensors(shape: shape), path: "evil.safetensors")) { error in
        XCTAssertTrue("\(error)".contains("evil.safetensors: tensor \"w\": shape"), "\(error)")
        XCTAssertTrue("\(error)".contains("too large"), "\(shape): \(error)")
      }
    }
    // The honest file of the same layout reads.
    XCTAssertEqual(try SafeTensorsFile(bytes: Self.safetensors(shape: [1]), path: "ok").floats("w"), [0])
  }

  func testCheckedSizeReportsOverflowInsteadOfTrapping() {
    XCTAssertEqual(CheckedSize.product([3, 4, 5]), 60)
    XCTAssertEqual(CheckedSize.product([]), 1)
    XCTAssertNil(CheckedSize.product([Int.max, 2]))
    XCTAssertNil(CheckedSize.product([1 << 32, 1 << 32]))
    XCTAssertNil(CheckedSize.product([-1, 5]))
    XCTAssertEqual(CheckedSize.sum([1, 2, 3]), 6)
    XCTAssertNil(CheckedSize.sum([Int.max, 1]))
  }

  // MARK: - Generators that give no usable output

  /// A 4 → 16 → 32 ReLU network; `lastBias` is added before the final ReLU.
  static func network(lastBias: Float, poison: Float? = nil) -> FeedForwardGenerator {
    var rng = RandomStream(seed: 5, key: "hostile network")
    var w1 = rng.normals(16 * 4).map(Float.init)
    if let poison { w1[13] = poison }
    let w2 = rng.normals(32 * 16).map(Float.init)
    return FeedForwardGenerator(
      layers: [
        DenseLayer(weights: Matrix(rows: 4, cols: 16, storage: w1), bias: [Float](repeating: 0, count: 16), activation: .relu),
        DenseLayer(weights: Matrix(rows: 16, cols: 32, storage: w2), bias: [Float](repeating: lastBias, count: 32), activation: .relu),
      ], summary: "hostile")
  }

  func testAGeneratorThatIsAlwaysZeroFailsTheSignalDrawAfterBoundedTries() throws {
    let source = try SignalSource(spec: SignalSpec(source: .generator, count: 1, seed: 3), generator: Self.network(lastBias: -1e4))
    XCTAssertThrowsError(try source.signal(0)) { error in
      XCTAssertTrue("\(error)".contains("no usable signal in \(SignalSource.maximumDraws) latent draws (\(SignalSource.maximumDraws) gave G(z) = 0"), "\(error)")
    }
    XCTAssertThrowsError(try source.companion(of: 0))
    let nan = try SignalSource(spec: SignalSpec(source: .generator, count: 1, seed: 3), generator: Self.network(lastBias: 0, poison: .nan))
    XCTAssertThrowsError(try nan.signal(0)) { error in
      XCTAssertTrue("\(error)".contains("a NaN or infinite G(z)"), "\(error)")
    }
    // A healthy network of the same shape gives a unit signal.
    let healthy = try SignalSource(spec: SignalSpec(source: .generator, count: 1, seed: 3), generator: Self.network(lastBias: 0))
    XCTAssertEqual(norm(try healthy.signal(0).unit), 1, accuracy: 1e-12)
  }

  func testNonFiniteWeightsAreNamedWhenAModelIsRead() throws {
    XCTAssertNil(FiniteWeights.problem([1, 2, -3]))
    let problem = try XCTUnwrap(FiniteWeights.problem([1, .nan, .infinity, 2]))
    XCTAssertTrue(problem.contains("2 non-finite value(s), the first NaN at index 1 of 4"), problem)

    // A dense-generator model file with one NaN weight is refused naming the dataset.
    let fixture = try ConfigFixture()
    let path = fixture.directory.appendingPathComponent("nan.h5").path
    let model = DenseGeneratorModel(layers: Self.network(lastBias: 0, poison: .nan).layers)
    try model.save(to: path)
    XCTAssertThrowsError(try ModelFile.load(path)) { error in
      XCTAssertTrue("\(error)".contains("generator/w1"), "\(error)")
      XCTAssertTrue("\(error)".contains("non-finite"), "\(error)")
    }
  }

  func testANaNEstimateIsNeverAPerfectRecovery() {
    XCTAssertTrue(signalToNoiseDB([1, 2], [.nan, 2]).isNaN)
    XCTAssertTrue(signalToNoiseDB([.nan, 2], [1, 2]).isNaN)
    XCTAssertEqual(signalToNoiseDB([1, 2], [1, 2]), 100)
  }

  // MARK: - Configs

  /// Flow collections nested thousands deep are refused with the line, before the YAML composer
  /// recurses into them (it overflowed the stack: a crash); brackets in quotes and comments do
  /// not count, and a normal config's nesting reads.
  func testDeepNestingIsRefusedNotACrash() throws {
    let deep = "name: x\nm: " + String(repeating: "[", count: 20_000) + String(repeating: "]", count: 20_000) + "\n"
    XCTAssertThrowsError(try ConfigNode.parse(yaml: deep, file: "deep.yaml")) { error in
      XCTAssertTrue("\(error)".hasPrefix("deep.yaml:2: "), "\(error)")
      XCTAssertTrue("\(error)".contains("nested more than \(ConfigNode.maximumNesting) levels"), "\(error)")
    }
    // Block nesting: a wider indent per level, or `- - - …` entries on one line.
    let block = "name: x\n" + (0..<3000).map { String(repeating: " ", count: $0) + "a:" }.joined(separator: "\n") + "\n"
    XCTAssertThrowsError(try ConfigNode.parse(yaml: block, file: "block.yaml")) { error in
      XCTAssertTrue("\(error)".contains("nested more than"), "\(error)")
    }
    XCTAssertThrowsError(try ConfigNode.parse(yaml: "m:\n" + String(repeating: "- ", count: 5000) + "1\n", file: "dashes.yaml")) { error in
      XCTAssertTrue("\(error)".contains("nested more than"), "\(error)")
    }
    let quoted = "a: '" + String(repeating: "[", count: 300) + "'\nb: \"[[[\\\"[[\" # " + String(repeating: "{", count: 300) + "\nc: [[1, 2], {d: [3]}]\n"
    let node = try ConfigNode.parse(yaml: quoted, file: "ok.yaml")
    XCTAssertEqual(node["c"]?.items?.count, 2)
  }

  func testAnAliasBombIsRefusedBeforeItExpands() throws {
    var lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for level in 1...9 { lines.append("a\(level): &a\(level) [" + Array(repeating: "*a\(level - 1)", count: 10).joined(separator: ", ") + "]") }
    XCTAssertThrowsError(try ConfigNode.parse(yaml: lines.joined(separator: "\n"), file: "bomb.yaml")) { error in
      XCTAssertTrue("\(error)".contains("bomb.yaml:"), "\(error)")
      XCTAssertTrue("\(error)".contains("expands to more than \(ConfigNode.maximumValues) values"), "\(error)")
    }
    // Aliases within the bound are YAML as usual.
    let small = try ConfigNode.parse(yaml: "a: &a [1, 2]\nb: *a", file: "ok.yaml")
    XCTAssertEqual(small["b"]?.items?.count, 2)
  }

  func testAnIncludeOfADeviceOrAHugeFileIsRefusedWithTheReason() throws {
    let fixture = try ConfigFixture()
    let device = try fixture.write("device.yaml", "include: /dev/zero\n" + ConfigFixture.minimal)
    XCTAssertThrowsError(try ConfigDocument.load(path: device)) { error in
      XCTAssertTrue("\(error)".contains("/dev/zero: is a device, not a file to read"), "\(error)")
    }
    let huge = try fixture.write("huge.yaml", "# " + String(repeating: "x", count: 17 << 20) + "\n")
    XCTAssertThrowsError(try ConfigDocument.load(path: huge)) { error in
      XCTAssertTrue("\(error)".contains("at most \(16 << 20) are read"), "\(error)")
    }
  }

  func testAPlanOfTooManyJobsIsRefusedBeforeAnyIsMade() throws {
    let fixture = try ConfigFixture()
    let path = try fixture.write("many.yaml", Self.sweptConfig)
    for (override, count) in [("signal.count=1000000000", "4000000000 jobs"), ("trials=9223372036854775807", "more than 2⁶³ jobs")] {
      XCTAssertThrowsError(try ExperimentPlan.load(path: path, overrides: [override])) { error in
        XCTAssertTrue("\(error)".contains("the plan has \(count)"), "\(override): \(error)")
        XCTAssertTrue("\(error)".contains("more than \(ExperimentPlan.maximumJobs)"), "\(error)")
      }
    }
    XCTAssertEqual(try ExperimentPlan.load(path: path, overrides: ["signal.count=3"]).jobs.count, 12)
  }

  func testAModelFileWithAnOverflowingArchitectureIsRefused() {
    let architecture = VAEArchitecture(input: 1 << 40, encoderHidden: [1 << 40], latent: 2, decoderHidden: [4])
    XCTAssertTrue(architecture.problem?.contains("too large") == true, "\(architecture.problem ?? "nil")")
  }

  static let sweptConfig = """
    m: 100
    signal: {source: generator, count: 2}
    generator: {kind: linear, n: 32, k: 4}
    problem: {kind: spiked}
    algorithm: {kind: prfm, eta: 0.2}
    sweep:
      algorithm: [{kind: prfm, eta: 0.2}, {kind: ppower}]
      m: [50, 100]
    """

  func testAnOverrideOfASweptKeyIsRefusedNamingTheAxis() throws {
    let fixture = try ConfigFixture()
    let path = try fixture.write("swept.yaml", Self.sweptConfig)
    for (override, axis) in [("m=300000000", "sweep.m"), ("algorithm.eta=0.5", "sweep.algorithm")] {
      XCTAssertThrowsError(try ExperimentPlan.load(path: path, overrides: [override])) { error in
        XCTAssertTrue("\(error)".contains("--set"), "\(error)")
        XCTAssertTrue("\(error)".contains(axis), "\(override): \(error)")
        XCTAssertTrue("\(error)".contains("would be ignored"), "\(error)")
      }
    }
    // Setting the axis itself, or a key no axis replaces, works.
    XCTAssertEqual(try ExperimentPlan.load(path: path, overrides: ["sweep.m=[300]"]).points.count, 2)
    XCTAssertEqual(try ExperimentPlan.load(path: path, overrides: ["problem.beta=3"]).points.count, 4)
    XCTAssertEqual(try ExperimentPlan.load(path: path, overrides: ["sweep.m=null", "m=70"]).points.count, 2)
  }

  func testBaseValuesThatTheSweepReplacesAreStillChecked() throws {
    let fixture = try ConfigFixture()
    for (bad, expected) in [
      ("m: -5", "m: must be >= 1, got -5"),
      ("algorithm: {kind: nosuch_algorithm}", "nosuch_algorithm"),
      ("algorithm: {kind: prfm, eta: 0.2, iteratons: 3}", "iteratons"),
    ] {
      let text = Self.sweptConfig.replacingOccurrences(of: bad.hasPrefix("m:") ? "m: 100" : "algorithm: {kind: prfm, eta: 0.2}\nsweep", with: bad.hasPrefix("m:") ? bad : bad + "\nsweep")
      XCTAssertNotEqual(text, Self.sweptConfig)
      let path = try fixture.write("base.yaml", text)
      XCTAssertThrowsError(try ExperimentPlan.load(path: path)) { error in
        XCTAssertTrue("\(error)".contains(expected), "\(bad): \(error)")
        XCTAssertTrue("\(error)".contains("replaces at every point"), "\(bad): \(error)")
      }
    }
  }
}

/// The hybrid is Adam with one more start, so it can never end worse than Adam alone.
final class HybridInversionTests: GGEPTestCase {
  func testTheHybridNeverEndsWorseThanAdamWithTheSameBudget() throws {
    let fixture = try ConfigFixture()
    // Widths where Latent-Pursuit's start is poor (n₁ ≥ n₂'s active count) and where it is exact.
    let path = try fixture.write(
      "hybrid.yaml",
      """
      experiment: inversion
      name: hybrid
      seed: 7
      signals: 6
      generator: {kind: relu-mlp, widths: [10, 60, 200], seed: 2}
      method: {kind: adam}
      sweep:
        generator.widths: [[10, 60, 200], [10, 300, 200]]
        method: [{kind: adam, steps: 150}, {kind: hybrid, steps: 150}]

      """)
    let out = fixture.directory.appendingPathComponent("out").path
    let summary = try ExperimentRunner(plan: try ExperimentPlan.load(path: path), options: .init(jobs: 2, out: out, progress: nil)).run()
    XCTAssertEqual(summary.failedJobs, 0)
    let records = try ResultsFile.read(summary.resultsPath).records
    let adam = records.filter { $0[InversionColumn.method] == "adam" }
    let hybrid = records.filter { $0[InversionColumn.method] == "hybrid" }
    XCTAssertEqual(adam.count, 12)
    XCTAssertEqual(hybrid.count, 12)
    var strictlyBetter = 0
    for a in adam {
      let h = try XCTUnwrap(hybrid.first { $0[InversionColumn.widths] == a[InversionColumn.widths] && $0.signal == a.signal })
      XCTAssertEqual(h[InversionColumn.zStar], a[InversionColumn.zStar], "paired draws")
      XCTAssertLessThanOrEqual(h[InversionColumn.residual], a[InversionColumn.residual], "\(a[InversionColumn.widths]) signal \(a.signal)")
      if h[InversionColumn.residual] < a[InversionColumn.residual] { strictlyBetter += 1 }
    }
    // The layer-wise start is exact on the 10-60-200 nets, where Adam's 150 steps are not.
    XCTAssertGreaterThan(strictlyBetter, 0)

    // The file says what each job's vectors are, once, on /jobs.
    let file = try HDF5File.open(summary.resultsPath)
    defer { try? file.close() }
    let jobs = try file.root.openGroup("jobs")
    XCTAssertEqual(try jobs.stringAttribute("description.z_hat"), "the recovered ẑ (k)")
    XCTAssertEqual(try jobs.stringAttribute("description.x"), "the observed x (n; hidden entries 0)")
  }
}

/// Ctrl-C must reach ggep whatever the method: CLP installs its own SIGINT handler for the
/// length of a solve unless told not to, which swallowed Ctrl-C during `lp` inversions.
final class SignalHandlingTests: GGEPTestCase {
  func testACLPSolveLeavesTheSIGINTDispositionAlone() throws {
    // A sentinel disposition, restored afterwards.
    var sentinel = sigaction()
    sentinel.__sigaction_handler.sa_handler = { _ in }
    var previous = sigaction()
    XCTAssertEqual(sigaction(SIGINT, &sentinel, &previous), 0)
    defer { _ = sigaction(SIGINT, &previous, nil) }
    func current() -> OpaquePointer? {
      var now = sigaction()
      _ = sigaction(SIGINT, nil, &now)
      return unsafeBitCast(now.__sigaction_handler.sa_handler, to: OpaquePointer?.self)
    }
    let expected = current()

    // An LP inversion of a random 300 → 900 ReLU layer: long enough (a fraction of a second) to
    // be watched while it runs.
    var rng = RandomStream(seed: 11, key: "clp signal")
    let (fanIn, fanOut) = (300, 900)
    let w = Matrix(rows: fanIn, cols: fanOut, storage: rng.normals(fanIn * fanOut))
    let h = (0..<fanIn).map { _ in max(0, rng.normal()) }
    var y = [Double](repeating: 0, count: fanOut)
    for j in 0..<fanOut {
      var s = 0.0
      for i in 0..<fanIn { s += h[i] * w.storage[i * fanOut + j] }
      y[j] = max(0, s)
    }
    let target = y
    let done = DispatchSemaphore(value: 0)
    let solved = LockedFlag()
    Thread {
      let result = try? LPLayerInversion.invert(weights: w, bias: [], output: target, relu: true, nonnegativeInput: true, layer: 1)
      solved.set(result != nil)
      done.signal()
    }.start()
    var observations = 0
    var changed = 0
    while done.wait(timeout: .now()) == .timedOut {
      observations += 1
      if current() != expected { changed += 1 }
    }
    XCTAssertTrue(solved.value, "the LP did not solve")
    XCTAssertGreaterThan(observations, 100, "the solve was too short to watch")
    XCTAssertEqual(changed, 0, "the SIGINT disposition changed in \(changed) of \(observations) looks during the solve")
    XCTAssertEqual(current(), expected)
  }
}

/// A Bool shared between threads.
final class LockedFlag: @unchecked Sendable {
  private let lock = NSLock()
  private var flag = false
  func set(_ value: Bool) { lock.withLock { flag = value } }
  var value: Bool { lock.withLock { flag } }
}
