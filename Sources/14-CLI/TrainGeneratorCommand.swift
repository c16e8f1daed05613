import ArgumentParser
import Foundation
import GGEPCore
import GGEPModels
import GGEPConfig
import GGEPPipeline
import GGEPPlot
import GGEPKindGEP
import GGEPPriors

/// `ggep train-generator CONFIG`: trains a GAN or kernel generator on MNIST (docs/mathematics.md §11) as its
/// YAML config says and writes the model file experiments load with `generator: {kind: model}`.
struct TrainGenerator: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train-generator",
    abstract: "Train a GAN (loss mean-square, exponential or cross-entropy), a kernel generator (Cauchy–Schwarz or MMD²) or a VAE on MNIST from a YAML config.",
    discussion: """
      Prints one line per epoch with an ETA. A checkpoint next to the model file (<out>.checkpoint.h5) \
      is written after every epoch: run the same command again after a kill and training continues \
      where it stopped, ending with the same weights (every kind, kind: vae included). GANs and \
      kernel generators train on one thread, a VAE on every core in fixed pieces (layer_pieces) or \
      shards (gradient_shards): the weights do not depend on the machine's thread count. Writes the model file, <out>-samples.png and \
      <out>-training.svg. Example:
        ggep train-generator configs/models/mnist-gan-cross-entropy.yaml --set epochs=1 --set out=/tmp/gan.h5
      """)

  @OptionGroup var options: ConfigOptions

  func run() throws {
    let config = try GeneratorTrainingConfig.load(path: options.config, overrides: options.overrides)
    _ = try GeneratorTrainingRun.run(config) { line in
      print(line)
      fflush(nil)
    }
  }
}
