import Foundation
import GGEPCore
import GGEPPrior
import GGEPNumerics
import GGEPModels
import GGEPConfig
import GGEPPipeline

/// What a trained prior is worth (docs/mathematics.md §11, last paragraph), measured the same way for every
/// model file (a VAE, whose decoder is the generator G, or a dense generator): `ggep
/// model-report`.
///
/// The data are MNIST (pixels in [0, 1], n = 784); the training set is MNIST train, so the test
/// images are held out from every model trained here. With T = 10 000 test images, N `samples`
/// and M `nearest`, the parts of the test set are fixed and disjoint where it matters:
///
///     test[T − images ..< T]   representation error (the last `images`, default 200)
///     test[0 ..< N]            MMD² data set (default N = 1000); its first M: the test-to-train
///                              reference of the nearest-image distances (a different statistic,
///                              so sharing images with the MMD² is harmless)
///     test[N ..< 2N]           the second half of the MMD² reference (test against test)
///
/// (2N + images ≤ T is required, so the three are disjoint.)
///
/// 1. **Representation error.** x̂ = G(ẑ) with ẑ from `AdamProjector` at the GEP experiments'
///    projection defaults (docs/mathematics.md §4: cosine mode, 100 steps, learning rate 0.1, 3 restarts,
///    λ_z = 0.001, no warm start), restarts drawn from `RandomStream(seed, "model-report
///    mnist-test[i]", "projection")`, so image i's projection depends on the image and the seed
///    only. Reported: cos(x, P_G(x)) with P_G(x) = Ĝ(ẑ) the projector's unit output (what every
///    GEP result sees; it bounds their cosines), and the relative error ‖x − G(ẑ)‖/‖x‖ of the
///    generator's image itself. The cosine mode fits the direction, not the scale, so the
///    relative error is at least sin∠(x, G(ẑ)) = √(1 − cos²) and the excess is G(ẑ)'s norm
///    missing ‖x‖. A target the projector cannot project counts as x̂ = 0 (cos 0, relative
///    error 1) and is counted in `failures`.
/// 2. **MMD²** between N samples G(z), z ~ N(0, I_k) from `RandomStream(seed, "model-report",
///    "samples")` (row by row), and test[0 ..< N]: the unbiased estimate of `KernelCriteria.mmd2`
///    with the Gaussian mixture `bandwidths`. The reference, test[0 ..< N] against test[N ..< 2N],
///    is what a perfect model scores at the same N, within the estimate's noise (the unbiased
///    estimate can be negative).
/// 3. **Nearest training image.** For the first M samples and for test[0 ..< M], the Euclidean
///    distance to the nearest of the training images (`NearestNeighbors`). A model that memorises
///    has samples much closer to training images than test images are.
///
/// Deterministic: every random stream is keyed by the seed and a fixed name; the work is split
/// into parts fixed by the settings (`projectionBatch` images per batched projection, chunks of
/// samples and of training images), each part runs with one BLAS thread, and parts are combined
/// in their order, so the report is bitwise the same for any `threads`.
public struct ModelReport: Codable, Equatable, Sendable {
  /// The `format` of a report, in report.json and in the model file's `/report` group.
  public static let format = "ggep-model-report/1"

  /// The Gaussian kernel mixture of the MMD², h ∈ {1, 2, 4, 8, 16} × 2.5 on pixel space
  /// (K = Σ_h exp(−‖x − y‖²/h²), so K(x, x) = 5).
  ///
  /// Why these: MNIST test images are a median 9.9 apart (10th–90th percentile 8.1–11.6, over the
  /// pairs of 2000 test images) and 4.1 from their nearest training image (mean over 100). The
  /// middle bandwidth, 10, is the typical distance; the smallest, 2.5, is below the
  /// nearest-neighbour distance and sees stroke detail (a typical pair weighs e⁻¹⁶, a pair at
  /// distance 4 e^−2.6); the largest, 40, is 4× the typical distance, where the kernel is
  /// nearly quadratic and compares means and second moments. Fixed, not fitted to each run's
  /// data, so that numbers of different models and runs are comparable.
  public static let bandwidths: [Double] = [2.5, 5, 10, 20, 40]

  /// What the report is computed with; every value is recorded with the numbers.
  public struct Settings: Codable, Equatable, Sendable {
    /// Test images projected for the representation error (the last ones of the test set).
    public var images: Int
    /// N, the samples and test images of the MMD².
    public var samples: Int
    /// M, the samples and test images whose nearest training image is measured.
    public var nearest: Int
    public var seed: UInt64
    /// The projection's settings (docs/mathematics.md §4 defaults, as a GEP config's `projection: {method: adam}`).
    public var projection: AdamProjector.Settings
    /// Images per batched projection (× restarts rows of one GEMM batch). Part of the settings,
    /// not of the machine: the batches must not depend on the thread count.
    public var projectionBatch: Int
    /// The MMD²'s bandwidths (pixel units).
    public var bandwidths: [Double]

    public init(
      images: Int = 200, samples: Int = 1000, nearest: Int = 100, seed: UInt64 = 0,
      projection: AdamProjector.Settings = AdamProjector.Settings(), projectionBatch: Int = 25,
      bandwidths: [Double] = ModelReport.bandwidths
    ) {
      self.images = images
      self.samples = samples
      self.nearest = nearest
      self.seed = seed
      self.projection = projection
      self.projectionBatch = projectionBatch
      self.bandwidths = bandwidths
    }

    /// Why these settings cannot be used with `testImages` test images, or nil.
    public func problem(testImages: Int) -> String? {
      if images < 1 { return "--images must be at least 1, got \(images)" }
      if samples < 2 { return "--samples must be at least 2 (MMD² needs two of each), got \(samples)" }
      if nearest < 1 || nearest > samples { return "--nearest must be between 1 and --samples (\(samples)), got \(nearest)" }
      if projectionBatch < 1 { return "the projection batch must be at least 1, got \(projectionBatch)" }
      if projection.steps < 1 || projection.restarts < 1 { return "the projection needs at least one step and one restart" }
      if bandwidths.isEmpty || !bandwidths.allSatisfy({ $0 > 0 && $0.isFinite }) { return "bandwidths must be positive, got \(bandwidths)" }
      if 2 * samples + images > testImages {
        return "2 × --samples (\(samples)) + --images (\(images)) = \(2 * samples + images) exceeds the \(testImages) test images "
          + "(the MMD² halves and the representation images must not overlap)"
      }
      return nil
    }
  }

  /// Which model the numbers are of.
  public struct Model: Codable, Equatable, Sendable {
    /// The model file as given on the command line (empty for a generator built in code).
    public var file: String
    /// `vae` or `dense-generator` (`ModelFile`).
    public var kind: String
    /// SHA-256 of the weights (`ModelFile`): what job keys hold.
    public var checksum: String
    public var generator: String
    /// k and n of G: Rᵏ → Rⁿ.
    public var latentDimension: Int
    public var outputDimension: Int

    public init(file: String, kind: String, checksum: String, generator: String, latentDimension: Int, outputDimension: Int) {
      self.file = file
      self.kind = kind
      self.checksum = checksum
      self.generator = generator
      self.latentDimension = latentDimension
      self.outputDimension = outputDimension
    }
  }

  /// Item 1: how well G's range represents held-out images.
  public struct Representation: Codable, Equatable, Sendable {
    /// The images are test[firstTestImage ..< firstTestImage + images].
    public var firstTestImage: Int
    public var images: Int
    /// The projector, as results record it (`AdamProjector.summary`).
    public var projector: String
    /// cos(x, P_G(x)) over the images.
    public var cosine: SummaryStatistics
    /// ‖x − G(ẑ)‖/‖x‖ over the images.
    public var relativeError: SummaryStatistics
    /// Images the projector could not project (counted as cos 0, relative error 1).
    public var failures: Int
    /// Per image, in test-index order.
    public var cosines: [Double]
    public var relativeErrors: [Double]
  }

  /// Item 2: how far the samples' distribution is from the test set's.
  public struct SampleMMD: Codable, Equatable, Sendable {
    public var bandwidths: [Double]
    /// N: samples, and test images on each side.
    public var samples: Int
    /// MMD² of G(z₁ … z_N) against test[0 ..< N].
    public var mmd2: Double
    /// MMD² of test[0 ..< N] against test[N ..< 2N]: a perfect model's score, within noise.
    public var referenceMMD2: Double
  }

  /// Item 3: whether samples are copies of training images.
  public struct NearestTraining: Codable, Equatable, Sendable {
    /// How many training images were searched.
    public var trainImages: Int
    /// Distances of the first M samples to their nearest training image.
    public var samples: SummaryStatistics
    /// Distances of test[0 ..< M] to their nearest training image (the reference).
    public var test: SummaryStatistics
    /// Per sample and per test image: the nearest training image's index and distance.
    public var sampleMatches: [NearestNeighbors.Match]
    public var testMatches: [NearestNeighbors.Match]
  }

  public var format: String
  public var ggepVersion: String
  public var model: Model
  public var settings: Settings
  public var representation: Representation
  public var mmd: SampleMMD
  public var nearestTraining: NearestTraining

  /// The images of the report's figures (not part of the numbers).
  public struct Figures: Sendable {
    /// G(z) of the first samples (up to `sampleGrid`² of them).
    public var samples: [[Double]]
    /// The first representation images x and their G(ẑ) (up to `pairCount`).
    public var targets: [[Double]]
    public var projections: [[Double]]
  }

  // MARK: - Computing

  /// Samples per `Generator.evaluate` call (a fixed split, see the type's documentation).
  static let sampleChunk = 100

  /// The report of the model file at `path` on the MNIST files in `data`. Refuses, naming the
  /// file, a model that cannot be read and a generator whose output is not 784 wide.
  public static func compute(
    modelFile path: String, data: String, settings: Settings, threads: Int
  ) throws -> (report: ModelReport, figures: Figures) {
    let loaded = try ModelFile.load(path)
    let generator = loaded.generator
    let kind: String
    switch loaded {
    case .vae: kind = "vae"
    case .denseGenerator: kind = DenseGeneratorModel.kind
    }
    let pixels = 28 * 28
    guard generator.outputDimension == pixels else {
      throw UserError(
        "\(path): the generator's output is n = \(generator.outputDimension) wide; MNIST needs n = \(pixels) (28 × 28 images)")
    }
    let test = try MNIST.load(.test, directory: data)
    let train = try MNIST.load(.train, directory: data)
    let model = Model(
      file: path, kind: kind, checksum: loaded.checksum, generator: generator.summary,
      latentDimension: generator.latentDimension, outputDimension: generator.outputDimension)
    return try compute(generator: generator, model: model, train: train.images, test: test.images, settings: settings, threads: threads)
  }

  /// The report of `generator` with `train` and `test` images as rows (any n, for tests and
  /// other data; `model` says what the generator is). `threads` workers, each with one BLAS
  /// thread: speed only, never the numbers.
  public static func compute(
    generator: any Generator, model: Model, train: Matrix<Float>, test: Matrix<Float>, settings s: Settings, threads: Int
  ) throws -> (report: ModelReport, figures: Figures) {
    let n = generator.outputDimension
    guard test.cols == n, train.cols == n else {
      throw UserError(
        "\(model.file.isEmpty ? model.generator : model.file): the generator's output is n = \(n) wide, "
          + "the images have \(test.cols) (test) and \(train.cols) (train) pixels")
    }
    guard train.rows >= 1 else { throw UserError("model-report: no training images") }
    if let problem = s.problem(testImages: test.rows) { throw UserError("model-report: \(problem)") }

    let previousThreads = BLASThreads.current
    BLASThreads.set(1)
    defer { BLASThreads.set(previousThreads) }
    let scheduler = Scheduler(concurrency: max(1, threads))

    let (representation, targets, projections) = try representationError(generator: generator, test: test, settings: s, scheduler: scheduler)
    let samples = try generateSamples(generator: generator, settings: s, scheduler: scheduler)

    // 2. MMD², the model's and the reference, as two parts.
    let data = rows(test, 0..<s.samples)
    let other = rows(test, s.samples..<(2 * s.samples))
    let values = try scheduler.map(count: 2) { part in
      mmd2(data, part == 0 ? samples : other, bandwidths: s.bandwidths)
    }
    let mmd = SampleMMD(bandwidths: s.bandwidths, samples: s.samples, mmd2: values[0], referenceMMD2: values[1])

    // 3. Nearest training images: samples and test images in one query matrix.
    let m = s.nearest
    let queries = Matrix(rows: 2 * m, cols: n, storage: rows(samples, 0..<m).storage + rows(test, 0..<m).storage)
    let matches = try NearestNeighbors.nearest(queries: queries, in: train, threads: threads)
    let sampleMatches = Array(matches[0..<m]), testMatches = Array(matches[m...])
    let nearest = NearestTraining(
      trainImages: train.rows, samples: SummaryStatistics(sampleMatches.map(\.distance)),
      test: SummaryStatistics(testMatches.map(\.distance)), sampleMatches: sampleMatches, testMatches: testMatches)

    let report = ModelReport(
      format: format, ggepVersion: BuildInfo.gitDescribe, model: model, settings: s, representation: representation, mmd: mmd,
      nearestTraining: nearest)
    let shown = min(s.samples, Figures.sampleGrid * Figures.sampleGrid)
    let figures = Figures(
      samples: (0..<shown).map { samples.row($0).map(Double.init) }, targets: targets, projections: projections)
    return (report, figures)
  }

  /// The report's MMD² of rows `x` against rows `y`: `KernelCriteria.mmd2`'s unbiased estimate
  /// with the mixture `bandwidths`, no gradient.
  public static func mmd2(_ x: Matrix<Float>, _ y: Matrix<Float>, bandwidths: [Double]) -> Double {
    precondition(x.cols == y.cols)
    let criteria = KernelCriteria(bandwidths: bandwidths.map { Float($0) })
    let workspace = criteria.makeWorkspace(dataRows: x.rows, generatedRows: y.rows, dimension: x.cols)
    return x.storage.withUnsafeBufferPointer { xp in
      y.storage.withUnsafeBufferPointer { yp in
        criteria.mmd2(data: xp.baseAddress!, generated: yp.baseAddress!, workspace: workspace, gradient: nil)
      }
    }
  }

  /// Item 1, batch by batch; also the first images and their G(ẑ) for the figure.
  static func representationError(
    generator: any Generator, test: Matrix<Float>, settings s: Settings, scheduler: Scheduler
  ) throws -> (Representation, targets: [[Double]], projections: [[Double]]) {
    let (n, k) = (generator.outputDimension, generator.latentDimension)
    let first = test.rows - s.images
    let projector = AdamProjector(generator: generator, mode: .cosine, settings: s.projection)
    let batches = (s.images + s.projectionBatch - 1) / s.projectionBatch

    struct Projected: Sendable {
      var cosine: Double
      var relativeError: Double
      var failed: Bool
      /// G(ẑ), or zeros for a failure.
      var image: [Double]
    }
    let parts = try scheduler.map(count: batches) { batch -> [Projected] in
      let indices = (first + batch * s.projectionBatch)..<(first + min((batch + 1) * s.projectionBatch, s.images))
      var targets = Matrix<Double>(rows: indices.count, cols: n)
      for (r, i) in indices.enumerated() { targets.setRow(r, test.row(i).map(Double.init)) }
      let slots = indices.map {
        ProjectionSlot(rng: RandomStream(seed: s.seed, key: "model-report mnist-test[\($0)]", purpose: "projection"))
      }
      let outcome = projector.projectRows(targets, slots: slots)
      // ẑ of the best restart is what the projector keeps for a warm start.
      var latents = [Float](repeating: 0, count: indices.count * k)
      var failed = [Bool](repeating: false, count: indices.count)
      for r in 0..<indices.count {
        guard outcome.failures[r] == nil, let z = (slots[r].state as? AdamProjector.State)?.previousLatent else {
          failed[r] = true
          continue
        }
        for j in 0..<k { latents[r * k + j] = z[j] }
      }
      let images = generator.evaluate(Matrix(rows: indices.count, cols: k, storage: latents))
      return (0..<indices.count).map { r in
        guard !failed[r] else {
          return Projected(cosine: 0, relativeError: 1, failed: true, image: [Double](repeating: 0, count: n))
        }
        let x = Array(targets.row(r)), unit = Array(outcome.projected.row(r))
        let image = images.row(r).map(Double.init)
        var (xx, xu, dd) = (0.0, 0.0, 0.0)
        for j in 0..<n {
          xx += x[j] * x[j]
          xu += x[j] * unit[j]
          let d = x[j] - image[j]
          dd += d * d
        }
        let size = xx.squareRoot()
        return Projected(cosine: xu / size, relativeError: dd.squareRoot() / size, failed: false, image: image)
      }
    }
    let all = parts.flatMap { $0 }
    let cosines = all.map(\.cosine), errors = all.map(\.relativeError)
    let representation = Representation(
      firstTestImage: first, images: s.images, projector: projector.summary, cosine: SummaryStatistics(cosines),
      relativeError: SummaryStatistics(errors), failures: all.filter(\.failed).count, cosines: cosines, relativeErrors: errors)
    let shown = min(s.images, Figures.pairCount)
    return (
      representation, (0..<shown).map { test.row(first + $0).map(Double.init) }, all.prefix(shown).map(\.image)
    )
  }

  /// G(z) for z ~ N(0, I_k), N rows drawn row by row from one stream, evaluated in fixed chunks.
  static func generateSamples(generator: any Generator, settings s: Settings, scheduler: Scheduler) throws -> Matrix<Float> {
    let (k, n, count) = (generator.latentDimension, generator.outputDimension, s.samples)
    var rng = RandomStream(seed: s.seed, key: "model-report", purpose: "samples")
    let z = Matrix(rows: count, cols: k, storage: (0..<(count * k)).map { _ in Float(rng.normal()) })
    let chunks = (count + sampleChunk - 1) / sampleChunk
    let parts = try scheduler.map(count: chunks) { chunk -> [Float] in
      generator.evaluate(rows(z, (chunk * sampleChunk)..<min((chunk + 1) * sampleChunk, count))).storage
    }
    return Matrix(rows: count, cols: n, storage: parts.flatMap { $0 })
  }

  /// Rows `range` of `m`, as a matrix.
  static func rows(_ m: Matrix<Float>, _ range: Range<Int>) -> Matrix<Float> {
    Matrix(rows: range.count, cols: m.cols, storage: Array(m.storage[(range.lowerBound * m.cols)..<(range.upperBound * m.cols)]))
  }
}
