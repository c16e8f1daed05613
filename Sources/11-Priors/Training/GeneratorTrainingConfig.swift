import Foundation
import GGEPCore
import GGEPPrior
import GGEPModels
import GGEPConfig
import GGEPPipeline
import GGEPPlot

/// A `ggep train-generator` config (docs/mathematics.md §11), e.g. `configs/models/mnist-gan-cross-entropy.yaml`:
///
///     kind: gan                      # gan | kernel
///     out: models/mnist-gan.h5       # the model file (next to it: -samples.png, -training.svg)
///     data: data/mnist               # MNIST (default)
///     seed: 0
///     epochs: 20
///     batch_size: 64
///     training_images: 60000         # the first N training images (default: all)
///     generator: {widths: [20, 128, 392, 784], hidden: relu, output: plu, batch_norm: true}
///     optimizer: {learning_rate: 2.0e-4, beta1: 0.5, beta2: 0.999}
///     gan:                           # kind gan only
///       loss: cross-entropy          # mean-square | exponential | cross-entropy (docs/mathematics.md §11's A, B, C)
///       non_saturating: false        # cross-entropy only
///       discriminator: [784, 512, 256, 1]
///       learning_rate: 2.0e-4
///       steps: 1                     # discriminator steps per generator step
///     kernel:                        # kind kernel only
///       criterion: cauchy-schwarz    # or mmd
///       bandwidths: [2, 5, 10, 20, 40]
///
/// or a VAE (docs/mathematics.md §3) through the same command, on the VAE's data-parallel trainer:
///
///     kind: vae
///     out: models/mnist-relu-vae.h5
///     seed: 0
///     epochs: 20
///     vae: {architecture: mnist-relu, gradient_shards: 2}   # mnist (softplus 500-500) | mnist-relu;
///                                                          # gradient_shards: S | layer_pieces: P (default 4)
///
/// Relative `out` and `data` paths are taken from the directory the command runs in (like a
/// run's `--out`), so `make models` from the repository root writes into `models/`.
public struct GeneratorTrainingConfig: Sendable {
  /// A GAN's or kernel generator's settings (nil for `kind: vae`).
  public var settings: GeneratorTrainingSettings?
  /// A VAE's settings (`kind: vae`, else nil).
  public var vae: VAETrainingSettings?
  /// Train on the first this many training images only (nil: all).
  public var trainingImages: Int?
  public var out: String
  public var data: String
  /// The config's text, recorded in the model file.
  public var sourceText: String
  /// Worker threads of a VAE's trainer (nil: every core). Changes the speed, never the weights.
  public var threads: Int?
  /// Where the run's checkpoint goes, when not beside the model file.
  public var checkpointPath: String?

  public init(
    settings: GeneratorTrainingSettings?, vae: VAETrainingSettings?, trainingImages: Int?, out: String, data: String, sourceText: String,
    threads: Int? = nil, checkpointPath: String? = nil
  ) {
    self.settings = settings
    self.vae = vae
    self.trainingImages = trainingImages
    self.out = out
    self.data = data
    self.sourceText = sourceText
    self.threads = threads
    self.checkpointPath = checkpointPath
  }

  public static func load(path: String, overrides: [String] = []) throws(ConfigError) -> GeneratorTrainingConfig {
    let document = try ConfigDocument.load(path: path, overrides: overrides)
    let root = try ConfigValue(document.root, path: .root).table()
    if try root.string("kind") == "vae" { return try loadVAE(root, document) }
    try root.checkKnownKeys(allowed: ["kind", "out", "data", "seed", "epochs", "batch_size", "training_images", "generator", "optimizer", "gan", "kernel"])
    let kind: GeneratorTrainingSettings.Kind
    do { kind = try root.oneOf("kind") } catch { throw root.error("kind", "must be one of gan, kernel, vae, got \"\(try root.string("kind"))\"") }
    var s = GeneratorTrainingSettings(kind: kind)
    s.seed = UInt64(try root.int("seed", default: 0, .atLeast(0)))
    s.epochs = try root.int("epochs", default: s.epochs, .atLeast(1))
    s.batchSize = try root.int("batch_size", default: s.batchSize, .atLeast(2))
    s.trainingImages = try root.optionalInt("training_images", .atLeast(s.batchSize))
    if root["generator"] != nil {
      let g = try root.table("generator")
      try g.checkKnownKeys(allowed: ["widths", "hidden", "output", "batch_norm"], context: "for the generator")
      s.widths = try g.intList("widths", default: s.widths, .atLeast(1))
      guard s.widths.count >= 2 else { throw g.error("widths", "lists the latent width, any hidden widths and the output width: at least 2, got \(s.widths)") }
      guard s.widths.last == 784 else { throw g.error("widths", "must end in 784, the MNIST images' size, got \(s.widths.last!)") }
      s.hiddenActivation = try activation(g, "hidden", s.hiddenActivation)
      s.outputActivation = try activation(g, "output", s.outputActivation)
      s.batchNorm = try g.bool("batch_norm", default: s.batchNorm)
    }
    if root["optimizer"] != nil {
      let o = try root.table("optimizer")
      try o.checkKnownKeys(allowed: ["learning_rate", "beta1", "beta2"], context: "for the optimizer")
      s.learningRate = try o.double("learning_rate", default: s.learningRate, .greaterThan(0))
      s.beta1 = try o.double("beta1", default: s.beta1, .within(0...0.999999))
      s.beta2 = try o.double("beta2", default: s.beta2, .within(0...0.999999))
    }
    switch kind {
    case .gan:
      guard root["kernel"] == nil else { throw root.error("kernel", "applies to kind kernel, but kind is gan") }
      if root["gan"] != nil {
        let a = try root.table("gan")
        try a.checkKnownKeys(allowed: ["loss", "non_saturating", "discriminator", "learning_rate", "steps"], context: "for kind gan")
        s.loss = try a.oneOf("loss", default: s.loss)
        s.nonSaturating = try a.bool("non_saturating", default: false)
        if s.nonSaturating && s.loss != .crossEntropy {
          throw a.error("non_saturating", "applies to loss cross-entropy only, not \(s.loss.rawValue)")
        }
        s.discriminatorWidths = try a.intList("discriminator", default: [s.widths.last!, 512, 256, 1], .atLeast(1))
        guard s.discriminatorWidths.first == s.widths.last, s.discriminatorWidths.last == 1 else {
          throw a.error("discriminator", "must run from the generator's output width \(s.widths.last!) to 1, got \(s.discriminatorWidths)")
        }
        s.discriminatorLearningRate = try a.double("learning_rate", default: s.learningRate, .greaterThan(0))
        s.discriminatorSteps = try a.int("steps", default: 1, .atLeast(1))
      }
    case .kernel:
      guard root["gan"] == nil else { throw root.error("gan", "applies to kind gan, but kind is kernel") }
      if root["kernel"] != nil {
        let k = try root.table("kernel")
        try k.checkKnownKeys(allowed: ["criterion", "bandwidths"], context: "for kind kernel")
        s.criterion = try k.oneOf("criterion", default: s.criterion)
        if k["bandwidths"] != nil {
          let values = try k.required("bandwidths").list()
          s.bandwidths = try values.map { value throws(ConfigError) in try value.double(.greaterThan(0)) }
          guard !s.bandwidths.isEmpty else { throw k.error("bandwidths", "lists at least one bandwidth") }
        }
      }
    }
    if let problem = s.problem { throw root.error("kind", problem) }
    return GeneratorTrainingConfig(
      settings: s, vae: nil, trainingImages: s.trainingImages, out: try root.string("out"), data: try root.string("data", default: MNIST.defaultDirectory), sourceText: document.sourceText)
  }

  /// `kind: vae`: the VAE trainer's settings (docs/mathematics.md §3 defaults: Adam 1e-3, batch 100).
  static func loadVAE(_ root: ConfigTable, _ document: ConfigDocument) throws(ConfigError) -> GeneratorTrainingConfig {
    try root.checkKnownKeys(allowed: ["kind", "out", "data", "seed", "epochs", "training_images", "vae"], context: "for kind vae")
    var v = VAETrainingSettings()
    v.seed = UInt64(try root.int("seed", default: 0, .atLeast(0)))
    v.epochs = try root.int("epochs", default: v.epochs, .atLeast(1))
    if root["vae"] != nil {
      let t = try root.table("vae")
      try t.checkKnownKeys(allowed: ["architecture", "gradient_shards", "layer_pieces", "learning_rate"], context: "for kind vae")
      switch try t.string("architecture", default: "mnist") {
      case "mnist": v.architecture = .mnist
      case "mnist-relu": v.architecture = .mnistReLU
      case let other: throw t.error("architecture", "must be mnist (softplus 500-500) or mnist-relu (ReLU 392-128), got \"\(other)\"")
      }
      // gradient_shards chooses the row-shard schedule (the committed VAEs'), layer_pieces the
      // layer-piece one (the default).
      let shards = try t.optionalInt("gradient_shards", .within(1...v.batchSize))
      let pieces = try t.optionalInt("layer_pieces", .within(1...64))
      if let shards, let pieces {
        throw t.error("layer_pieces", "chooses another schedule than gradient_shards (\(shards)); give one of them, not \(pieces) and \(shards)")
      }
      if let shards {
        v.gradientShards = shards
        v.layerPieces = nil
      } else if let pieces {
        v.layerPieces = pieces
      }
      v.learningRate = try t.double("learning_rate", default: v.learningRate, .greaterThan(0))
    }
    return GeneratorTrainingConfig(
      settings: nil, vae: v, trainingImages: try root.optionalInt("training_images", .atLeast(v.batchSize)), out: try root.string("out"),
      data: try root.string("data", default: MNIST.defaultDirectory), sourceText: document.sourceText)
  }

  private static func activation(_ table: ConfigTable, _ key: String, _ fallback: String) throws(ConfigError) -> String {
    let name = try table.string(key, default: fallback)
    guard Activation(name: name) != nil else {
      throw table.error(key, "unknown activation \"\(name)\"; one of relu, leaky-relu (slope 0.01, PyTorch's default), leaky-relu(a), plu, sigmoid, tanh, softplus, identity")
    }
    return name
  }

  /// `models/mnist-gan.h5` → `models/mnist-gan-samples.png` etc.
  public func sibling(_ suffix: String) -> String {
    ((out as NSString).deletingPathExtension) + suffix
  }
  public var checkpoint: String { checkpointPath ?? out + ".checkpoint.h5" }
}
