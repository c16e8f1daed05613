import Foundation
import GGEPCore
import GGEPPrior
import GGEPModels
import GGEPPipeline
import GGEPPlot

/// What `ggep train-generator` does with a config: train (resuming from the checkpoint next to
/// `out` if there is one), then write the model file (batch norm folded; provenance: the
/// settings, the per-epoch log, the config's text, the time), a sample grid PNG and a
/// training-curve SVG, and remove the checkpoint.
public enum GeneratorTrainingRun {
  public struct Outcome: Sendable {
    /// The written model's weight checksum.
    public var checksum: String
    /// Per-epoch log of a GAN or kernel generator (empty for a VAE: its file holds its history).
    public var history: [GeneratorTrainingLog]
    public var samplesPath: String
    public var curvePath: String
    public var seconds: Double
  }

  public static func run(
    _ config: GeneratorTrainingConfig, stopAfter: Int? = nil, emit: @escaping (String) -> Void
  ) throws -> Outcome? {
    let directory = (config.out as NSString).deletingLastPathComponent
    if !directory.isEmpty { try FileSystem.createDirectory(directory) }
    let mnist = try MNIST.load(directory: config.data)
    var train = mnist.train.images
    if let count = config.trainingImages {
      guard count <= train.rows else { throw GeneratorTrainingError("training_images is \(count), but \(config.data) has \(train.rows) training images") }
      train = Matrix(rows: count, cols: train.cols, storage: Array(train.storage[0..<(count * train.cols)]))
    }
    guard let s = config.settings else {
      return try runVAE(config, vae: config.vae!, train: train, test: mnist.test.images, stopAfter: stopAfter, emit: emit)
    }
    let trainer = try GeneratorTrainer(s)
    let resuming = FileManager.default.fileExists(atPath: config.checkpoint)
    emit(
      "training \(s.kind.rawValue) " + (s.kind == .gan ? "(loss \(s.loss.rawValue)\(s.nonSaturating ? ", non-saturating" : ""))" : "(\(s.criterion.rawValue))")
        + ": generator \(s.widths.map(String.init).joined(separator: "-")), \(s.epochs) epochs of \(train.rows / s.batchSize) steps, batch \(s.batchSize), seed \(s.seed)"
        + (resuming ? "; resuming from \(config.checkpoint)" : ""))
    let clock = ContinuousClock()
    let start = clock.now
    let result = try trainer.train(train: train, test: mnist.test.images, checkpoint: config.checkpoint, stopAfter: stopAfter) { p in
      let loss = p.log.generatorLoss.map { String(format: "  G loss %.4f", $0) } ?? ""
      emit(
        String(format: "epoch %d/%d  %@ %.4f%@  held-out MMD² %.4f  %.1f s  ETA %@", p.log.epoch, s.epochs, criterionName(s), p.log.criterion, loss, p.log.heldOutMMD, p.log.seconds, duration(p.eta)))
    }
    guard result.history.count == s.epochs else {
      emit("stopped after epoch \(result.history.count) of \(s.epochs); run again to continue from \(config.checkpoint)")
      return nil
    }
    let elapsed = clock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let model = DenseGeneratorModel(
      layers: result.layers,
      provenance: [
        "trainer": "ggep train-generator", "settings": s.json, "history": String(decoding: try encoder.encode(result.history), as: UTF8.self),
        "config": config.sourceText, "training_images": String(train.rows),
        "training_seconds": String(format: "%.1f", result.history.reduce(0) { $0 + $1.seconds }),
        "threads": "1 (OpenBLAS 1 thread; the result does not depend on threads)",
      ])
    try model.save(to: config.out)

    let samplesPath = try writeSamples(model.generator, seed: s.seed, config)

    let epochs = result.history.map { Double($0.epoch) }
    var panels = [
      LinePlot(
        title: "held-out MMD² (500 samples vs 500 test images)", xLabel: "epoch", yLabel: "MMD²",
        series: [(name: "held-out MMD²", points: zip(epochs, result.history.map(\.heldOutMMD)).map { ($0, $1, nil) })]),
      LinePlot(
        title: criterionName(s), xLabel: "epoch", yLabel: criterionName(s),
        series: [(name: criterionName(s), points: zip(epochs, result.history.map(\.criterion)).map { ($0, $1, nil) })]),
    ]
    if s.kind == .gan {
      panels.append(LinePlot(
        title: "generator loss", xLabel: "epoch", yLabel: "loss",
        series: [(name: "generator loss", points: zip(epochs, result.history.map { $0.generatorLoss ?? .nan }).map { ($0, $1, nil) })]))
    }
    let curvePath = config.sibling("-training.svg")
    try FigureRenderer.write(panels, to: curvePath, title: (config.out as NSString).lastPathComponent + ": training")
    try? FileManager.default.removeItem(atPath: config.checkpoint)
    emit(
      "wrote \(config.out) (\(model.summary)), \(samplesPath), \(curvePath); final held-out MMD² "
        + String(format: "%.4f, %.1f s of training", result.history.last!.heldOutMMD, result.history.reduce(0) { $0 + $1.seconds }))
    return Outcome(checksum: model.checksum, history: result.history, samplesPath: samplesPath, curvePath: curvePath, seconds: seconds)
  }

  /// 64 samples from the "samples" stream of the seed, in evaluation mode, as an 8 × 8 grid.
  static func writeSamples(_ generator: any Generator, seed: UInt64, _ config: GeneratorTrainingConfig) throws -> String {
    var rng = RandomStream(seed: seed, key: "generator", purpose: "samples")
    let k = generator.latentDimension
    let z = Matrix(rows: 64, cols: k, storage: (0..<(64 * k)).map { _ in Float(rng.normal()) })
    let samples = generator.evaluate(z)
    let images = (0..<64).map { r in (0..<samples.cols).map { Double(samples.storage[r * samples.cols + $0]) } }
    let title = (config.out as NSString).lastPathComponent + ": samples"
    let grid = try ImageGrid(title: title, rows: (0..<8).map { ImageGrid.Row(label: "", images: Array(images[($0 * 8)..<($0 * 8 + 8)])) }, scale: 2)
    let path = config.sibling("-samples.png")
    try FigureFile.write(grid.png(), to: path)
    return path
  }

  /// `kind: vae`: the VAE's own data-parallel trainer (bitwise the same for any thread count),
  /// checkpointed after every epoch like the other kinds, then the same grid and a curve of the
  /// test negative ELBO per epoch.
  static func runVAE(
    _ config: GeneratorTrainingConfig, vae settings: VAETrainingSettings, train: Matrix<Float>, test: Matrix<Float>, stopAfter: Int?,
    emit: @escaping (String) -> Void
  ) throws -> Outcome? {
    let threads = config.threads ?? ProcessInfo.processInfo.activeProcessorCount
    let a = settings.architecture
    emit(
      "training vae: decoder \(([a.latent] + a.decoderHidden + [a.input]).map(String.init).joined(separator: "-")), \(a.hiddenActivation.name) hidden, "
        + "\(settings.epochs) epochs of \(train.rows / settings.batchSize) steps, batch \(settings.batchSize) (\(settings.scheduleDescription)), seed \(settings.seed), \(threads) threads"
        + (FileManager.default.fileExists(atPath: config.checkpoint) ? "; resuming from \(config.checkpoint)" : ""))
    let result = try VAETrainer(settings, threads: threads).train(train: train, test: test, checkpoint: config.checkpoint, stopAfter: stopAfter) { stats in
      emit(
        String(format: "epoch %d/%d  train loss %.2f  test -ELBO %.2f  %.1f s  ETA %@", stats.epoch, settings.epochs, stats.trainLoss, stats.testLoss,
          stats.seconds, duration(stats.seconds * Double(settings.epochs - stats.epoch))))
    }
    guard result.history.count == settings.epochs else {
      emit("stopped after epoch \(result.history.count) of \(settings.epochs); run again to continue from \(config.checkpoint)")
      return nil
    }
    try result.model.save(to: config.out)
    let samplesPath = try writeSamples(result.model.decoderGenerator(), seed: settings.seed, config)
    let epochs = result.history.map { Double($0.epoch) }
    let curvePath = config.sibling("-training.svg")
    try FigureRenderer.write(
      [
        LinePlot(
          title: "negative ELBO (nats per image)", xLabel: "epoch", yLabel: "−ELBO",
          series: [
            (name: "train (mean over the epoch)", points: zip(epochs, result.history.map(\.trainLoss)).map { ($0, $1, nil) }),
            (name: "test", points: zip(epochs, result.history.map(\.testLoss)).map { ($0, $1, nil) }),
          ])
      ], to: curvePath, title: (config.out as NSString).lastPathComponent + ": training")
    try? FileManager.default.removeItem(atPath: config.checkpoint)
    let seconds = result.history.reduce(0) { $0 + $1.seconds }
    emit(String(format: "wrote %@ (%@), %@, %@; test -ELBO %.2f, %.1f s of training", config.out, result.model.summary, samplesPath, curvePath, result.history.last!.testLoss, seconds))
    return Outcome(checksum: result.model.checksum, history: [], samplesPath: samplesPath, curvePath: curvePath, seconds: seconds)
  }

  static func criterionName(_ s: GeneratorTrainingSettings) -> String {
    switch s.kind {
    case .gan: return "D objective Ĵ"
    case .kernel: return s.criterion == .mmd ? "MMD²" : "log Ĵ (Cauchy–Schwarz)"
    }
  }

  static func duration(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    return s >= 60 ? "\(s / 60) min \(s % 60) s" : "\(s) s"
  }
}
