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

/// `ModelReport` (`ggep model-report`): each number against a direct computation or a case whose
/// answer is known, determinism across thread counts, and the report stored in a model file
/// without touching its weights. Small synthetic images keep the tests fast; the committed VAE is
/// used where a real prior matters.
final class ModelReportTests: GGEPTestCase {
  static let committedModel = MNISTLocation.packageRoot + "/models/mnist-vae.h5"

  private func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ggep-model-report-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir.appendingPathComponent(name).path
  }

  private func assertThrows(
    _ expression: @autoclosure () throws -> some Any, containing parts: [String], file: StaticString = #filePath, line: UInt = #line
  ) {
    XCTAssertThrowsError(try expression(), file: file, line: line) { error in
      let text = "\(error)"
      for part in parts { XCTAssertTrue(text.contains(part), "'\(text)' does not mention '\(part)'", file: file, line: line) }
    }
  }

  /// Sparse "images" with MNIST's scale: about a fifth of the pixels lit in [0.3, 1], so that
  /// norms (≈ 7 for n = 784) and distances (≈ 9) are like MNIST's and every kernel bandwidth
  /// matters.
  static func images(_ count: Int, pixels: Int, seed: UInt64) -> Matrix<Float> {
    var rng = RandomStream(seed: seed, key: "model-report-test", purpose: "images")
    return Matrix(rows: count, cols: pixels, storage: (0..<(count * pixels)).map { _ in
      rng.uniform() < 0.2 ? Float(0.3 + 0.7 * rng.uniform()) : 0
    })
  }

  /// A linear generator G(z) = Qz whose range is the span of `rows` of `images` (Q their
  /// orthonormal basis): those images are in the range exactly.
  static func linearGenerator(spanning rows: Range<Int>, of images: Matrix<Float>) throws -> FeedForwardGenerator {
    var columns = Matrix<Double>(rows: images.cols, cols: rows.count)
    for (j, i) in rows.enumerated() {
      for p in 0..<images.cols { columns[p, j] = Double(images[i, p]) }
    }
    let q = try LAPACK.orthonormalColumns(columns)  // n × k
    return FeedForwardGenerator(
      layers: [DenseLayer(weights: q.transposed.asFloat, activation: .identity)], summary: "linear(span of test images)")
  }

  static func identity(_ generator: any Generator, file: String = "", checksum: String = "") -> ModelReport.Model {
    ModelReport.Model(
      file: file, kind: "test", checksum: checksum, generator: generator.summary, latentDimension: generator.latentDimension,
      outputDimension: generator.outputDimension)
  }

  /// Unbiased MMD² straight from its definition: exact distances in Double, every pair.
  static func directMMD2(_ x: Matrix<Float>, _ y: Matrix<Float>, bandwidths: [Double]) -> Double {
    func kernel(_ a: Matrix<Float>, _ i: Int, _ b: Matrix<Float>, _ j: Int) -> Double {
      var d2 = 0.0
      for p in 0..<a.cols {
        let d = Double(a[i, p]) - Double(b[j, p])
        d2 += d * d
      }
      return bandwidths.reduce(0) { $0 + exp(-d2 / ($1 * $1)) }
    }
    let (n, m) = (x.rows, y.rows)
    var (xx, yy, xy) = (0.0, 0.0, 0.0)
    for i in 0..<n { for j in 0..<n where i != j { xx += kernel(x, i, x, j) } }
    for i in 0..<m { for j in 0..<m where i != j { yy += kernel(y, i, y, j) } }
    for i in 0..<n { for j in 0..<m { xy += kernel(x, i, y, j) } }
    return xx / Double(n * (n - 1)) + yy / Double(m * (m - 1)) - 2 * xy / Double(n * m)
  }

  // MARK: - The numbers

  /// Test images in the generator's range are represented exactly: cos ≈ 1 for each (Adam at
  /// the docs/mathematics.md §4 defaults). A generator spanning other images does visibly worse, so the
  /// measurement is not simply always 1.
  func testImagesInTheRangeHaveCosineOne() throws {
    let n = 64
    let settings = ModelReport.Settings(images: 12, samples: 6, nearest: 3, projectionBatch: 5)
    let test = Self.images(2 * settings.samples + settings.images, pixels: n, seed: 1)
    let train = Self.images(30, pixels: n, seed: 2)
    let held = (test.rows - settings.images)..<test.rows

    let spanning = try Self.linearGenerator(spanning: held, of: test)
    let report = try ModelReport.compute(
      generator: spanning, model: Self.identity(spanning), train: train, test: test, settings: settings, threads: 2
    ).report
    let r = report.representation
    print("images in the range: cosines \(r.cosines.map { String(format: "%.6f", $0) })")
    XCTAssertEqual(r.firstTestImage, held.lowerBound)
    XCTAssertEqual(r.cosines.count, settings.images)
    XCTAssertEqual(r.failures, 0)
    XCTAssertGreaterThan(r.cosine.min, 0.9999)
    XCTAssertEqual(r.cosine.mean, r.cosines.reduce(0, +) / Double(r.cosines.count))
    // The cosine mode leaves G(ẑ)'s norm free: the relative error is at least the sine.
    for (cosine, error) in zip(r.cosines, r.relativeErrors) {
      XCTAssertGreaterThanOrEqual(error, (max(0, 1 - cosine * cosine)).squareRoot() - 1e-6)
    }

    let other = try Self.linearGenerator(spanning: 0..<settings.images, of: test)
    let worse = try ModelReport.compute(
      generator: other, model: Self.identity(other), train: train, test: test, settings: settings, threads: 2
    ).report.representation
    print("images outside the range: mean cosine \(worse.cosine.mean)")
    XCTAssertLessThan(worse.cosine.mean, 0.99)
  }

  /// The report's MMD² path is the unbiased estimator: the test set against itself, and the
  /// report's two values (samples vs test[0..<N], test[0..<N] vs test[N..<2N]) equal a direct
  /// O(n²) computation.
  func testMMDMatchesADirectComputation() throws {
    let n = 784
    let bandwidths = ModelReport.bandwidths
    let x = Self.images(40, pixels: n, seed: 3)
    let itself = ModelReport.mmd2(x, x, bandwidths: bandwidths)
    let direct = Self.directMMD2(x, x, bandwidths: bandwidths)
    print("MMD² of a set against itself: \(itself) (direct \(direct))")
    // Against itself the unbiased estimate is (2 s̄ − Σ_h 1)/n < 0 (s̄ the mean off-diagonal kernel).
    XCTAssertLessThan(direct, 0)
    XCTAssertEqual(itself, direct, accuracy: 1e-6 * Swift.abs(direct) + 1e-9)

    let generator = FeedForwardGenerator.reluMLP(widths: [4, 32, n], bias: true, activations: [.relu, .sigmoid], seed: 5)
    let settings = ModelReport.Settings(images: 2, samples: 15, nearest: 2, projection: AdamProjector.Settings(steps: 2, restarts: 1))
    let test = Self.images(2 * settings.samples + settings.images, pixels: n, seed: 4)
    let report = try ModelReport.compute(
      generator: generator, model: Self.identity(generator), train: x, test: test, settings: settings, threads: 1
    ).report
    let halves = (ModelReport.rows(test, 0..<15), ModelReport.rows(test, 15..<30))
    let reference = Self.directMMD2(halves.0, halves.1, bandwidths: bandwidths)
    XCTAssertEqual(report.mmd.referenceMMD2, reference, accuracy: 1e-6 * Swift.abs(reference) + 1e-9)
    // The samples are G(z) with z drawn row by row from the documented stream.
    var rng = RandomStream(seed: settings.seed, key: "model-report", purpose: "samples")
    let z = Matrix(rows: 15, cols: 4, storage: (0..<60).map { _ in Float(rng.normal()) })
    let model = Self.directMMD2(halves.0, generator.evaluate(z), bandwidths: bandwidths)
    XCTAssertEqual(report.mmd.mmd2, model, accuracy: 1e-6 * Swift.abs(model) + 1e-9)
    XCTAssertGreaterThan(report.mmd.mmd2, 10 * Swift.abs(report.mmd.referenceMMD2), "an untrained generator is far from the data")
  }

  /// A training image's nearest training image is itself, at distance exactly 0, in every chunk
  /// of the GEMM (chunks of 64 rows here, so that 300 rows make five); other queries get the
  /// same neighbour and distance as a brute-force search.
  func testNearestTrainingImageMatchesBruteForce() throws {
    let n = 784
    let chunk = 64
    let train = Self.images(300, pixels: n, seed: 6)
    let members = [0, 17, chunk - 1, chunk, 299]
    let outsiders = Self.images(4, pixels: n, seed: 7)
    var storage = members.flatMap { Array(train.row($0)) } + outsiders.storage
    // A training image moved a little: its nearest is still that image, at the distance moved.
    storage += train.row(200).enumerated().map { $0.offset < 3 ? $0.element + 0.5 : $0.element }
    let queries = Matrix(rows: members.count + 5, cols: n, storage: storage)

    for threads in [1, 2] {
      let matches = try NearestNeighbors.nearest(queries: queries, in: train, threads: threads, chunkRows: chunk)
      XCTAssertEqual(matches, try NearestNeighbors.nearest(queries: queries, in: train, threads: threads))
      for (q, member) in members.enumerated() {
        XCTAssertEqual(matches[q], NearestNeighbors.Match(index: member, distance: 0), "training image \(member)")
      }
      XCTAssertEqual(matches.last!.index, 200)
      XCTAssertEqual(matches.last!.distance, (3 * 0.25).squareRoot(), accuracy: 1e-6)
      for q in members.count..<(members.count + 4) {
        var best = (index: -1, distance: Double.infinity)
        for j in 0..<train.rows {
          var d2 = 0.0
          for p in 0..<n {
            let d = Double(queries[q, p]) - Double(train[j, p])
            d2 += d * d
          }
          if d2.squareRoot() < best.distance { best = (j, d2.squareRoot()) }
        }
        XCTAssertEqual(matches[q].index, best.index, "query \(q)")
        XCTAssertEqual(matches[q].distance, best.distance, accuracy: 1e-12)
      }
    }
  }

  func testSummaryStatisticsAreNumpyPercentiles() {
    // numpy.percentile([4, 1, 3, 2, 10], [10, 25, 50, 75, 90]) = [1.4, 2, 3, 4, 7.6]
    let s = SummaryStatistics([4, 1, 3, 2, 10, .nan])
    XCTAssertEqual(s.count, 5)
    XCTAssertEqual(s.mean, 4)
    XCTAssertEqual(s.min, 1)
    XCTAssertEqual(s.p10, 1.4, accuracy: 1e-12)
    XCTAssertEqual(s.p25, 2)
    XCTAssertEqual(s.median, 3)
    XCTAssertEqual(s.p75, 4)
    XCTAssertEqual(s.p90, 7.6, accuracy: 1e-12)
    XCTAssertEqual(s.max, 10)
  }

  // MARK: - Determinism

  /// Threads change the speed, never a bit of the report: every part (projection batches,
  /// sample chunks, training-image chunks) is fixed by the settings. The network has the VAE
  /// decoder's shapes and activations (20-500-500-784, softplus, sigmoid).
  func testReportIsIdenticalForOneAndTwoThreads() throws {
    let generator = Benchmark.decoderShapedGenerator(seed: 2)
    let settings = ModelReport.Settings(images: 20, samples: 250, nearest: 12, seed: 3, projectionBatch: 7)
    let test = Self.images(2 * settings.samples + settings.images, pixels: 784, seed: 8)
    let train = Self.images(NearestNeighbors.chunkRows + 500, pixels: 784, seed: 9)
    let model = Self.identity(generator)
    let one = try ModelReport.compute(generator: generator, model: model, train: train, test: test, settings: settings, threads: 1)
    let two = try ModelReport.compute(generator: generator, model: model, train: train, test: test, settings: settings, threads: 2)
    XCTAssertEqual(try one.report.json(), try two.report.json())
    XCTAssertEqual(one.report, two.report)
    XCTAssertEqual(one.figures.samples, two.figures.samples)
    XCTAssertEqual(one.figures.projections, two.figures.projections)
    // The parts really are several: 3 projection batches, 3 sample chunks, 2 GEMM chunks.
    XCTAssertEqual(one.report.representation.cosines.count, 20)
    XCTAssertEqual(one.report.nearestTraining.sampleMatches.count, 12)
    XCTAssertEqual(one.figures.samples.count, 64)
    XCTAssertEqual(one.figures.targets.count, 16)
    print(one.report.text)

    // The figures: an 8 × 8 grid of samples and 2 rows of 16 (test images over projections).
    let directory = temporaryPath("figures")
    let paths = try one.figures.write(to: directory, name: "decoder-shaped")
    let samples = try PNG.decode(Array(try Data(contentsOf: URL(fileURLWithPath: paths[0]))))
    let pairs = try PNG.decode(Array(try Data(contentsOf: URL(fileURLWithPath: paths[1]))))
    XCTAssertGreaterThanOrEqual(samples.width, 8 * 56)
    XCTAssertGreaterThanOrEqual(samples.height, 8 * 56)
    XCTAssertGreaterThanOrEqual(pairs.width, 16 * 56)
    XCTAssertLessThan(pairs.height, 3 * 56 + 60)
  }

  // MARK: - The model file

  /// A small VAE with seeded weights, saved as a model file (n = 64).
  func smallVAEFile(_ name: String) throws -> String {
    let architecture = VAEArchitecture(input: 64, encoderHidden: [16], latent: 3, decoderHidden: [16])
    var rng = RandomStream(seed: 20, key: "model-report-test", purpose: "vae")
    var tensors: [String: [Float]] = [:]
    for t in architecture.tensors { tensors[t.path] = (0..<t.count).map { _ in Float(rng.normal() * 0.3) } }
    let path = temporaryPath(name)
    try VAEModel(architecture: architecture, tensors: tensors).save(to: path)
    return path
  }

  /// A report of the model file at `path` on synthetic images, with as little work as possible.
  func cheapReport(of path: String, loaded: ModelFile.Loaded? = nil, seed: UInt64 = 0) throws -> ModelReport {
    let loaded = try loaded ?? ModelFile.load(path)
    let generator = loaded.generator
    let settings = ModelReport.Settings(
      images: 3, samples: 4, nearest: 2, seed: seed, projection: AdamProjector.Settings(steps: 3, restarts: 1))
    let n = generator.outputDimension
    return try ModelReport.compute(
      generator: generator, model: Self.identity(generator, file: path, checksum: loaded.checksum),
      train: Self.images(20, pixels: n, seed: 11), test: Self.images(11, pixels: n, seed: 10), settings: settings, threads: 1
    ).report
  }

  /// The report goes into a copy of the committed VAE as its /report group: the checksum and
  /// every weight are unchanged, the file loads as before, and the report reads back equal.
  func testWritingTheReportKeepsTheChecksumAndTheModelLoads() throws {
    let path = temporaryPath("vae.h5")
    try FileManager.default.copyItem(atPath: Self.committedModel, toPath: path)
    let before = try ModelFile.load(path)
    let report = try cheapReport(of: path, loaded: before)

    try report.write(into: path)
    let after = try ModelFile.load(path)
    XCTAssertEqual(after.checksum, before.checksum)
    guard case .vae(let a) = before, case .vae(let b) = after else { return XCTFail("not a VAE") }
    for (name, values) in a.tensors { XCTAssertEqual(b.tensors[name]!, values, name) }
    XCTAssertEqual(b.training, a.training)
    let file = try HDF5File.open(path)
    XCTAssertEqual(try file.root.stringAttribute("checksum"), before.checksum)
    XCTAssertEqual(try file.root.stringAttribute("format", on: "report"), ModelReport.format)
    XCTAssertEqual(try file.root.stringAttribute("model_checksum", on: "report"), before.checksum)
    XCTAssertEqual(try file.root.doubleAttribute("cosine_mean", on: "report"), report.representation.cosine.mean)
    XCTAssertEqual(try file.root.doubleAttribute("mmd2", on: "report"), report.mmd.mmd2)
    XCTAssertEqual(try file.root.doubleAttribute("nearest_train_samples_median", on: "report"), report.nearestTraining.samples.median)
    XCTAssertEqual(try file.root.readDoubles("report/cosines").values, report.representation.cosines)
    try file.close()
    XCTAssertEqual(try ModelReport.read(from: path), report)
  }

  /// A second report replaces the first; a legacy (ggep-vae/1) file and a dense-generator file
  /// take one the same way; a report of another model is refused with the file left byte for
  /// byte as it was.
  func testReportsAreReplacedAndRefusedForAnotherModel() throws {
    let path = try smallVAEFile("small.h5")
    let checksum = try ModelFile.load(path).checksum
    XCTAssertNil(try ModelReport.read(from: path))
    let first = try cheapReport(of: path)
    try first.write(into: path)
    let second = try cheapReport(of: path, seed: 1)
    XCTAssertNotEqual(second, first)
    try second.write(into: path)
    XCTAssertEqual(try ModelReport.read(from: path), second)
    XCTAssertEqual(try ModelFile.load(path).checksum, checksum)

    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    var foreign = second
    foreign.model.checksum = String(repeating: "0", count: 64)
    assertThrows(try foreign.write(into: path), containing: [path, "checksum", "not written"])
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), bytes)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent), ["small.h5"])

    let legacy = try smallVAEFile("legacy.h5")
    try updateHDF5Atomically(legacy) { try $0.root.setAttribute("format", ModelFile.legacyVAEFormat) }
    let report = try cheapReport(of: legacy)
    try report.write(into: legacy)
    XCTAssertEqual(try ModelFile.load(legacy).checksum, checksum)
    XCTAssertEqual(try ModelReport.read(from: legacy), report)

    let dense = temporaryPath("dense.h5")
    let network = FeedForwardGenerator.reluMLP(widths: [3, 16, 64], bias: true, activations: [.relu, .sigmoid], seed: 12)
    try DenseGeneratorModel(layers: network.layers, provenance: ["source": "test"]).save(to: dense)
    let denseChecksum = try ModelFile.load(dense).checksum
    let denseReport = try cheapReport(of: dense)
    try denseReport.write(into: dense)
    guard case .denseGenerator(let model) = try ModelFile.load(dense) else { return XCTFail("not a dense generator") }
    XCTAssertEqual(model.checksum, denseChecksum)
    XCTAssertEqual(model.provenance, ["source": "test"])
    XCTAssertEqual(try ModelReport.read(from: dense), denseReport)
  }

  /// An edit that fails half-way (here: after removing a weight) leaves the model file as it was,
  /// and no temporary file behind.
  func testAnInterruptedUpdateLeavesTheModelFileIntact() throws {
    let path = try smallVAEFile("vae.h5")
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    struct Interrupted: Error {}
    XCTAssertThrowsError(try updateHDF5Atomically(path) { file in
      try file.root.remove("decoder/w1")
      _ = try file.root.createGroup("report")
      throw Interrupted()
    })
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)), bytes)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: (path as NSString).deletingLastPathComponent), ["vae.h5"])
    XCTAssertNoThrow(try ModelFile.load(path))
  }

  // MARK: - Errors

  /// A truncated, missing or foreign model file, and a generator that does not make MNIST
  /// images, are refused with a message naming the file (before MNIST is read).
  func testBadModelFilesAreRefusedNamingTheFile() throws {
    let truncated = temporaryPath("truncated.h5")
    let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.committedModel))
    try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
    let noData = temporaryPath("no-mnist-here")
    assertThrows(try ModelReport.compute(modelFile: truncated, data: noData, settings: .init(), threads: 1), containing: [truncated])

    let missing = temporaryPath("absent.h5")
    assertThrows(try ModelReport.compute(modelFile: missing, data: noData, settings: .init(), threads: 1), containing: [missing, "not found"])

    let narrow = temporaryPath("narrow.h5")
    let network = FeedForwardGenerator.reluMLP(widths: [3, 64], bias: false, activations: [.identity], seed: 1)
    try DenseGeneratorModel(layers: network.layers).save(to: narrow)
    assertThrows(
      try ModelReport.compute(modelFile: narrow, data: noData, settings: .init(), threads: 1),
      containing: [narrow, "n = 64", "MNIST needs n = 784"])
  }

  /// The command line: a truncated model file is one line naming the file, exit status 1, no
  /// stack trace; the model file is not touched by --no-write.
  func testCommandLineRefusesATruncatedModelFile() throws {
    let truncated = temporaryPath("truncated.h5")
    let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.committedModel))
    try bytes.prefix(bytes.count / 3).write(to: URL(fileURLWithPath: truncated))
    let outcome = try runGGEP(["model-report", truncated, "--no-write", "--out", temporaryPath("out")])
    XCTAssertEqual(outcome.status, 1, outcome.stderr)
    XCTAssertTrue(outcome.stderr.hasPrefix("Error: \(truncated)"), outcome.stderr)
    XCTAssertEqual(outcome.stderr.split(separator: "\n").count, 1, outcome.stderr)
    XCTAssertFalse(outcome.stderr.contains("Stack dump") || outcome.stderr.contains("Fatal error"), outcome.stderr)
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: truncated)), bytes.prefix(bytes.count / 3))

    let usage = try runGGEP(["model-report", Self.committedModel, "--samples", "6000"])
    XCTAssertEqual(usage.status, 64, usage.stderr)
    XCTAssertTrue(usage.stderr.contains("exceeds the 10000 test images"), usage.stderr)
  }

  private func runGGEP(_ arguments: [String]) throws -> GGEPExecutable.Outcome {
    try GGEPExecutable.run(arguments)
  }
}
