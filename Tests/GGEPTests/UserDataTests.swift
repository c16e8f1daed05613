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

/// docs/mathematics.md §9, user data: `problem: {kind: samples}` reads Â, B̂ (and an optional truth) from an
/// HDF5 file; every malformed file is a config error naming the file and dataset before any
/// job runs; without a truth the cosine is "n/a".
final class UserDataTests: GGEPTestCase {
  var fixture: ConfigFixture!
  let n = 60
  let k = 5

  override func setUpWithError() throws { fixture = try ConfigFixture() }
  override func tearDown() { fixture = nil }

  /// A unit truth in the range of `generator: {kind: linear, n: 60, k: 5, seed: 1}`.
  func truth() throws -> [Double] {
    let spec = GeneratorSpec(LinearGeneratorSpec(n: n, k: k, seed: 1))
    let basis = try XCTUnwrap(try GeneratorFactory.shared.build(spec).exactBasis)  // n × k
    let z: [Double] = [1, -0.5, 0.25, 2, 0.7]
    var v = (0..<n).map { i in (0..<k).reduce(0.0) { $0 + basis[i, $1] * z[$1] } }
    let length = norm(v)
    v = v.map { $0 / length }
    return v
  }

  /// Writes a spiked sample file: X = √β z vᵀ + W (m × n), Y = noise (m × n), truth 3·v.
  func writeFile(
    _ name: String, m: Int, beta: Double = 4, extra: (HDF5Group, [Double]) throws -> Void = { _, _ in }
  ) throws -> String {
    let v = try truth()
    var rng = RandomStream(seed: 7)
    let z = rng.normals(m)
    var x = rng.normals(m * n)
    for i in 0..<m { for j in 0..<n { x[i * n + j] += beta.squareRoot() * z[i] * v[j] } }
    let y = rng.normals(m * n)
    let path = fixture.directory.appendingPathComponent(name).path
    let file = try HDF5File.create(path)
    let root = file.root
    try root.write("X", x, shape: [m, n])
    try root.write("Y", y, shape: [m, n])
    try root.write("v", v.map { 3 * $0 })
    try root.write("w", [Double](repeating: 1, count: m))
    try extra(root, v)
    try file.close()
    return path
  }

  func config(file: String, problem: String, extra: String = "") -> String {
    """
    generator: {kind: linear, n: \(n), k: \(k), seed: 1}
    problem: {kind: samples, file: "\(file)", \(problem)}
    algorithm: {kind: prfm, eta: 0.5, iterations: 40}
    \(extra)
    """
  }

  func runPlan(_ plan: ExperimentPlan, name: String) throws -> [JobRecord] {
    let out = fixture.directory.appendingPathComponent("results-\(name)").path
    let summary = try ExperimentRunner(plan: plan, options: .init(jobs: 1, out: out, fresh: true, progress: nil)).run()
    return try ResultsFile.read(summary.resultsPath).records
  }

  func testTruthIsRecoveredFromSamples() throws {
    let path = try writeFile("data.h5", m: 4000)
    let plan = try fixture.plan(config(file: path, problem: "a: {samples: /X, weights: /w}, b: {samples: /Y}, truth: /v"))
    XCTAssertEqual(plan.jobs.count, 1)
    XCTAssertEqual(plan.jobs[0].spec.m, 4000)
    XCTAssertEqual(plan.jobs[0].spec.problem.label, "samples(data.h5)")
    let records = try runPlan(plan, name: "truth")
    XCTAssertEqual(records.count, 1)
    let record = records[0]
    XCTAssertEqual(record.status, .ok, record.error)
    XCTAssertTrue(record.hasTruth)
    XCTAssertGreaterThan(record.cosine, 0.95)
    XCTAssertTrue(record.lambda1.isNaN && record.lambda2.isNaN)
    XCTAssertTrue(record.finalRho.isFinite)
    XCTAssertEqual(record.signalID, "\(path):/v")
    XCTAssertEqual(norm(record.signalVector), 1, accuracy: 1e-12)
  }

  func testDenseMatricesAndIdentity() throws {
    let path = try writeFile("dense.h5", m: 10) { root, v in
      var a = Matrix<Double>.identity(self.n)
      for i in 0..<self.n { for j in 0..<self.n { a.storage[i * self.n + j] += 3 * v[i] * v[j] } }
      try root.write("A", a.storage, shape: [self.n, self.n])
    }
    let plan = try fixture.plan(config(file: path, problem: "a: {matrix: /A}, b: identity, truth: /v"))
    XCTAssertEqual(plan.jobs[0].spec.m, 0)
    let record = try runPlan(plan, name: "dense")[0]
    XCTAssertGreaterThan(record.cosine, 0.999)
    XCTAssertEqual(record.finalRho, 4, accuracy: 1e-3)
    // m may not be given for dense matrices.
    assertConfigError(["m", "dense matrices"]) {
      _ = try self.fixture.plan("m: 10\n" + self.config(file: path, problem: "a: {matrix: /A}, b: identity"))
    }
  }

  func testWithoutTruthCosineIsNotApplicable() throws {
    let path = try writeFile("notruth.h5", m: 500)
    let plan = try fixture.plan(config(file: path, problem: "a: {samples: /X}, b: identity"))
    let records = try runPlan(plan, name: "notruth")
    let record = records[0]
    XCTAssertEqual(record.status, .ok, record.error)
    XCTAssertFalse(record.hasTruth)
    XCTAssertTrue(record.cosine.isNaN && record.distance.isNaN)
    XCTAssertTrue(record.cosineHistory.isEmpty && record.signalVector.isEmpty)
    XCTAssertTrue(record.finalRho.isFinite && record.finalRho > 1)
    XCTAssertEqual(record.estimate.count, n)
    let table = try SummaryTable(records: records, groupBy: ["problem", "algorithm"], spec: GEPKind.summary)
    XCTAssertTrue(table.markdown().contains("n/a"), table.markdown())
    XCTAssertFalse(table.markdown().lowercased().contains("nan"), table.markdown())
    XCTAssertTrue(table.csv().contains("n/a"))
  }

  func testRootRules() throws {
    let path = try writeFile("rules.h5", m: 50)
    let base = "a: {samples: /X}, b: identity"
    assertConfigError(["m", "is 60", "has 50 samples", "rows of /X"]) {
      _ = try self.fixture.plan("m: 60\n" + self.config(file: path, problem: base))
    }
    XCTAssertNoThrow(try fixture.plan("m: 50\n" + config(file: path, problem: base)))
    assertConfigError(["signal", "not allowed"]) {
      _ = try self.fixture.plan(self.config(file: path, problem: base, extra: "signal: {source: generator}"))
    }
    assertConfigError(["trials", "must be 1"]) {
      _ = try self.fixture.plan("trials: 2\n" + self.config(file: path, problem: base))
    }
    assertConfigError(["algorithm.eta_prime", "rifle on kind samples needs algorithm.eta_prime"]) {
      _ = try self.fixture.plan(
        self.config(file: path, problem: base).replacingOccurrences(of: "{kind: prfm, eta: 0.5, iterations: 40}", with: "{kind: rifle, s: 10}"))
    }
    XCTAssertNoThrow(
      try fixture.plan(
        config(file: path, problem: base).replacingOccurrences(
          of: "{kind: prfm, eta: 0.5, iterations: 40}", with: "{kind: rifle, s: 10, eta_prime: 0.1}")))
    assertConfigError(["projection.mode", "oracle-norm", "problem.truth"]) {
      _ = try self.fixture.plan(self.config(file: path, problem: base, extra: "projection: {method: adam, mode: oracle-norm}"))
    }
    // The file's checksum is part of the job key: changed data never resumes old results.
    let before = try fixture.plan(config(file: path, problem: base)).jobs[0].key
    _ = try writeFile("rules.h5", m: 50, beta: 5)
    let after = try fixture.plan(config(file: path, problem: base)).jobs[0].key
    XCTAssertNotEqual(before, after)
  }

  func testMalformedFilesAreConfigErrorsNamingFileAndDataset() throws {
    let path = try writeFile("bad.h5", m: 40) { root, v in
      try root.write("X_short", [Double](repeating: 1, count: 40 * 59), shape: [40, 59])
      try root.write("w_long", [Double](repeating: 1, count: 41))
      var nonSymmetric = Matrix<Double>.identity(self.n)
      nonSymmetric[2, 5] = 0.5
      try root.write("A_nonsym", nonSymmetric.storage, shape: [self.n, self.n])
      var withNaN = [Double](repeating: 0, count: 40 * self.n)
      withNaN[3 * self.n + 7] = .nan
      try root.write("X_nan", withNaN, shape: [40, self.n])
      var indefinite = Matrix<Double>.identity(self.n)
      indefinite[4, 4] = -1
      try root.write("B_indef", indefinite.storage, shape: [self.n, self.n])
      try root.write("v_short", Array(v.prefix(10)))
    }
    func check(_ problem: String, _ fragments: [String], file: String? = nil, line: UInt = #line) {
      let error = assertConfigError(fragments, line: line) {
        _ = try self.fixture.plan(self.config(file: file ?? path, problem: problem))
      }
      if let error { XCTAssertNotNil(error.line, "\(error)", line: line) }
    }
    check("a: {samples: /missing}, b: identity", ["problem.a.samples", path, "dataset /missing", "not found"])
    check("a: {samples: /X_short}, b: identity", ["problem.a.samples", "dataset /X_short", "shape 40×59", "m×60"])
    check("a: {samples: /X, weights: /w_long}, b: identity", ["problem.a.weights", "dataset /w_long", "40 entries"])
    check("a: {matrix: /A_nonsym}, b: identity", ["problem.a.matrix", "dataset /A_nonsym", "not symmetric", "(2, 5)"])
    check("a: {samples: /X_nan}, b: identity", ["problem.a.samples", "dataset /X_nan", "non-finite", "row 3, column 7"])
    check("a: {samples: /X}, b: {matrix: /B_indef}", ["problem.b.matrix", "dataset /B_indef", "not positive definite"])
    check("a: {samples: /X}, b: identity, truth: /v_short", ["problem.truth", "dataset /v_short", "60 entries"])
    check("a: {samples: /X}, b: {samples: /Y, weights: /w}", ["problem.b.weights", "unknown key"])
    check("a: {samples: /X}, b: idenity", ["problem.b", "identity"])
    let missing = fixture.directory.appendingPathComponent("nowhere.h5").path
    check("a: {samples: /X}, b: identity", ["problem.file", missing, "file not found"], file: missing)
    let text = try fixture.write("text.h5", "not an HDF5 file\n")
    check("a: {samples: /X}, b: identity", ["problem.file", text, "not a readable HDF5 file"], file: text)
  }
}
