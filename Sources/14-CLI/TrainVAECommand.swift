import ArgumentParser
import Foundation
import GGEPCore
import GGEPPrior
import GGEPModels
import GGEPConfig
import GGEPPipeline
import GGEPPlot
import GGEPComponents
import GGEPKindGEP
import GGEPPriors

/// `ggep train-vae`: trains a `vae-mnist` generator (docs/mathematics.md §3) on MNIST and writes the model
/// file that experiments load: docs/mathematics.md §3's softplus VAE, or with `--architecture mnist-relu` the
/// ReLU VAE whose decoder has the GAN generator's 20-128-392-784 shape.
struct TrainVAE: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train-vae",
    abstract: "Train an MNIST VAE (Adam, lr 1e-3, batch 100) from flags: the same run as train-generator with kind: vae.",
    discussion: """
      --architecture mnist (the default) is docs/mathematics.md §3's VAE: encoder 784-500-500-(20, 20), decoder \
      20-500-500-784, softplus hidden layers. --architecture mnist-relu has ReLU hidden layers, \
      encoder 784-392-128-(20, 20) and decoder 20-128-392-784 (the shape of the inversion \
      paper's GAN generator); its model file defaults to models/mnist-relu-vae.h5. Both decoders \
      end in a sigmoid over Bernoulli logits.

      Two schedules, each a training setting recorded in the model file. By default \
      (--layer-pieces 4) every GEMM takes the whole mini-batch and each layer is cut into fixed \
      pieces of columns and weight rows that the workers share, Adam following each \
      weight-gradient piece. With --gradient-shards S each mini-batch is cut into S row \
      shards whose gradients are added in shard order for one Adam step (how the committed \
      VAEs were trained, S = 2). Up to --threads workers run (OpenBLAS at one thread each); \
      the same seed and schedule give bitwise the same weights on this machine whatever \
      --threads is. The run is checkpointed after every epoch (--checkpoint, default <out>.checkpoint.h5) and resumes from it. \
      The same run as `ggep train-generator` with kind: vae and these settings. Prints one line \
      per epoch (mean train loss, test negative ELBO in nats per image, seconds); writes the \
      model file (settings, losses and a SHA-256 checksum of the weights), <out>-samples.png \
      and <out>-training.svg.

      Example: ggep train-vae --epochs 20 --seed 0 --checkpoint models/vae.ckpt.h5 --out models/vae.h5
      """)

  @Option(parsing: .unconditional, help: "Number of passes over the 60 000 training images.")
  var epochs: Int = 20

  @Option(help: "Seed of the initial weights, the shuffling and the reparameterisation noise.")
  var seed: UInt64 = 0

  @Option(help: "Directory with the four MNIST IDX files (gzipped or raw); `make data` fills data/mnist.")
  var data: String = MNIST.defaultDirectory

  @Option(help: "Which VAE: mnist (784-500-500-20, softplus) or mnist-relu (784-392-128-20 / 20-128-392-784, ReLU).")
  var architecture: ArchitectureName = .mnist

  @Option(help: "Where to write the model file (default: models/mnist-vae.h5; models/mnist-relu-vae.h5 for mnist-relu).")
  var out: String?

  @Option(parsing: .unconditional, help: "Worker threads (default: the number of cores). Changes the speed, never the weights.")
  var threads: Int = ProcessInfo.processInfo.activeProcessorCount

  @Option(help: "Row-shard schedule: gradient shards per mini-batch of 100 (how the committed VAEs were trained: 2). A training setting, recorded in the model file.")
  var gradientShards: Int?

  @Option(help: "Layer-piece schedule (the default, 4): the whole mini-batch in every GEMM, each layer cut into this many pieces. A training setting, recorded in the model file.")
  var layerPieces: Int?

  @Option(help: "Write the run's state to this file after every epoch and, if it exists, resume from it (same settings and data required; default <out>.checkpoint.h5). Removed once the model is written.")
  var checkpoint: String?

  /// The schedule the options name: layer pieces unless --gradient-shards is given.
  var schedule: (shards: Int, pieces: Int?) {
    if let gradientShards { return (gradientShards, nil) }
    return (1, layerPieces ?? VAETrainingSettings().layerPieces)
  }

  func validate() throws {
    guard epochs >= 1 else { throw ValidationError("--epochs must be at least 1, got \(epochs)") }
    guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
    let batch = VAETrainingSettings().batchSize
    if gradientShards != nil, layerPieces != nil {
      throw ValidationError("--gradient-shards and --layer-pieces choose different schedules; give one of them")
    }
    if let gradientShards, !(1...batch).contains(gradientShards) {
      throw ValidationError("--gradient-shards must be between 1 and the batch size \(batch), got \(gradientShards)")
    }
    if let layerPieces, !(1...64).contains(layerPieces) {
      throw ValidationError("--layer-pieces must be between 1 and 64, got \(layerPieces)")
    }
    if let out, out.isEmpty || out.hasSuffix("/") {
      throw ValidationError("--out must name a file, got '\(out)'")
    }
  }

  /// The architectures `--architecture` names, and where each one's model file goes by default.
  enum ArchitectureName: String, ExpressibleByArgument, CaseIterable {
    case mnist
    case mnistReLU = "mnist-relu"

    var architecture: VAEArchitecture {
      switch self {
      case .mnist: return .mnist
      case .mnistReLU: return .mnistReLU
      }
    }

    var defaultOut: String {
      switch self {
      case .mnist: return "models/mnist-vae.h5"
      case .mnistReLU: return "models/mnist-relu-vae.h5"
      }
    }
  }

  /// The same run as `ggep train-generator` with `kind: vae`: the flags become that config.
  func run() throws {
    let settings = VAETrainingSettings(
      architecture: architecture.architecture, epochs: epochs, seed: seed, gradientShards: schedule.shards,
      layerPieces: schedule.pieces)
    let out = self.out ?? architecture.defaultOut
    let scheduleText = gradientShards.map { "gradient_shards: \($0)" } ?? "layer_pieces: \(settings.layerPieces ?? 4)"
    let config = GeneratorTrainingConfig(
      settings: nil, vae: settings, trainingImages: nil, out: out, data: data,
      sourceText: """
        # ggep train-vae, as a train-generator config
        kind: vae
        out: \(out)
        data: \(data)
        seed: \(seed)
        epochs: \(epochs)
        vae: {architecture: \(architecture.rawValue), \(scheduleText)}

        """,
      threads: threads, checkpointPath: checkpoint ?? out + ".checkpoint.h5")
    emit("train-vae is `ggep train-generator` with kind: vae (configs/models/); training as that config")
    _ = try GeneratorTrainingRun.run(config, emit: emit)
  }
}

private func emit(_ line: String) {
  print(line)
  fflush(nil)  // all C streams: lines appear at once when piped to a log
}
