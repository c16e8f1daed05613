import Foundation
import GGEPCore
import GGEPPrior

/// How a prior is trained (docs/mathematics.md §11): adversarially with one of the loss family's members, or
/// without an adversary by a kernel criterion. Every field is part of the result (recorded in
/// the model file and compared on resume); the thread count is not, since training runs on one
/// thread with OpenBLAS at one thread (batch norm's statistics span the whole batch, so the
/// batch cannot be split into shards the way the VAE's is).
public struct GeneratorTrainingSettings: Codable, Equatable, Sendable {
  public enum Kind: String, Codable, CaseIterable, Sendable { case gan, kernel }
  public enum KernelCriterion: String, Codable, CaseIterable, Sendable {
    /// Maximise log Ĵ, docs/mathematics.md §11's Cauchy–Schwarz ratio.
    case cauchySchwarz = "cauchy-schwarz"
    /// Minimise MMD² (generative moment matching).
    case mmd
  }

  public var kind: Kind
  /// Generator widths, latent first: the inversion paper's 20-128-392-784.
  public var widths: [Int] = [20, 128, 392, 784]
  public var hiddenActivation: String = "relu"
  public var outputActivation: String = "plu"
  /// Batch norm after each hidden Linear (folded when the model is written).
  public var batchNorm: Bool = true
  public var epochs: Int = 20
  /// Data rows per step (and generated rows per step).
  public var batchSize: Int = 64
  public var seed: UInt64 = 0
  /// Train on the first this many training images only (nil: all of them).
  public var trainingImages: Int?
  public var learningRate: Double = 2e-4
  public var beta1: Double = 0.5
  public var beta2: Double = 0.999

  // Adversarial
  public var loss: AdversarialLoss = .crossEntropy
  /// Case C only: the generator maximises log(1 − D) of its samples instead of minimising
  /// log D (docs/mathematics.md §11's min-max), Goodfellow's fix for saturation — a departure from the lecture.
  public var nonSaturating: Bool = false
  public var discriminatorWidths: [Int] = [784, 512, 256, 1]
  public var discriminatorLearningRate: Double = 2e-4
  /// Discriminator steps per generator step.
  public var discriminatorSteps: Int = 1

  // Kernel
  public var criterion: KernelCriterion = .cauchySchwarz
  /// Gaussian bandwidths h of the kernel mixture, in pixel units (‖x − y‖ of MNIST images in
  /// [0, 1] is about 10).
  public var bandwidths: [Double] = [2, 5, 10, 20, 40]

  public init(kind: Kind) { self.kind = kind }

  enum CodingKeys: String, CodingKey {
    case kind, widths, epochs, seed, loss, criterion, bandwidths
    case hiddenActivation = "hidden_activation"
    case outputActivation = "output_activation"
    case batchNorm = "batch_norm"
    case batchSize = "batch_size"
    case trainingImages = "training_images"
    case learningRate = "learning_rate"
    case beta1, beta2
    case nonSaturating = "non_saturating"
    case discriminatorWidths = "discriminator_widths"
    case discriminatorLearningRate = "discriminator_learning_rate"
    case discriminatorSteps = "discriminator_steps"
  }

  /// Canonical JSON (sorted keys): what the model file and checkpoints record.
  public var json: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try! encoder.encode(self), as: UTF8.self)
  }

  /// Why these settings cannot train, or nil.
  public var problem: String? {
    if widths.count < 2 || widths.contains(where: { $0 < 1 }) { return "widths must list at least the latent and output widths, all positive" }
    if Activation(name: hiddenActivation) == nil { return "unknown hidden_activation \"\(hiddenActivation)\"" }
    if Activation(name: outputActivation) == nil { return "unknown output_activation \"\(outputActivation)\"" }
    if epochs < 1 { return "epochs must be at least 1" }
    if batchSize < 2 { return "batch_size must be at least 2" }
    if !(learningRate > 0) || !(discriminatorLearningRate > 0) { return "learning rates must be positive" }
    if !(0..<1).contains(beta1) || !(0..<1).contains(beta2) { return "beta1 and beta2 must be in [0, 1)" }
    if kind == .gan {
      if discriminatorWidths.first != widths.last || discriminatorWidths.last != 1 {
        return "discriminator_widths must run from the generator's output width \(widths.last!) to 1, got \(discriminatorWidths)"
      }
      if nonSaturating && loss != .crossEntropy { return "non_saturating applies to loss cross-entropy only, not \(loss.rawValue)" }
      if discriminatorSteps < 1 { return "discriminator_steps must be at least 1" }
    } else if bandwidths.isEmpty || bandwidths.contains(where: { !($0 > 0) }) {
      return "bandwidths must be positive numbers, got \(bandwidths)"
    }
    return nil
  }
}

/// One logged stretch of training: means over its steps, and the held-out check at its end.
public struct GeneratorTrainingLog: Codable, Equatable, Sendable {
  public var epoch: Int
  /// The discriminator's objective Ĵ (GAN), or log Ĵ / MMD² (kernel), mean over the epoch.
  public var criterion: Double
  /// The generator's loss (GAN; nil for kernel training), mean over the epoch.
  public var generatorLoss: Double?
  /// MMD² between 500 samples of the generator in evaluation mode (fixed z) and 500 test
  /// images, with the bandwidths 2, 5, 10, 20, 40: comparable across losses and kinds.
  public var heldOutMMD: Double
  public var seconds: Double

  enum CodingKeys: String, CodingKey {
    case epoch, criterion, seconds
    case generatorLoss = "generator_loss"
    case heldOutMMD = "held_out_mmd2"
  }
}
