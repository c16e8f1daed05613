import Foundation
import GGEPCore
import GGEPPrior
import GGEPNumerics
import GGEPModels
import GGEPConfig
import GGEPPipeline

/// A generator built from its config, with its exact projection when one exists.
public struct BuiltGenerator: Sendable {
  public let generator: any Generator
  /// Orthonormal basis of the range, for generators whose projection is exact (`linear`).
  public let exactBasis: Matrix<Double>?
  /// The factors of a product generator (GCCA), each built as on its own; empty otherwise.
  public var factors: [BuiltGenerator] = []
}

/// Builds generators from `GeneratorSpec`s, once per process: every batch of a sweep that
/// names the same generator shares one immutable instance (weights are never mutated).
public final class GeneratorFactory: @unchecked Sendable {
  // @unchecked: `cache` is only touched under `lock`; cached values are immutable.
  private let lock = NSLock()
  private var cache: [GeneratorSpec: BuiltGenerator] = [:]

  public static let shared = GeneratorFactory()

  public func build(_ spec: GeneratorSpec) throws -> BuiltGenerator {
    if let hit = lock.withLock({ cache[spec] }) { return hit }
    let built: BuiltGenerator
    switch spec.architecture {
    case .linear:
      let (generator, basis) = try FeedForwardGenerator.linear(n: spec.n, k: spec.k, seed: UInt64(spec.seed))
      built = BuiltGenerator(generator: generator, exactBasis: basis)
    case .reluRandom(let hidden):
      built = BuiltGenerator(
        generator: FeedForwardGenerator.reluRandom(n: spec.n, k: spec.k, hidden: hidden, seed: UInt64(spec.seed)),
        exactBasis: nil)
    case .vaeMNIST(let path, let checksum), .model(let path, let checksum):
      // What the file holds decides the generator (a VAE's decoder, a dense generator).
      let model = try ModelFile.load(path)
      guard model.checksum == checksum else {
        throw VAEModelError(
          file: path, object: "/",
          message: "content checksum is \(model.checksum.prefix(12))…, but the plan was made with \(checksum.prefix(12))…: the model file changed")
      }
      built = BuiltGenerator(generator: model.generator, exactBasis: nil)
    case .pytorch(let path, let checksum, let architecture):
      let loaded = try PyTorchImport.load(path, architecture: architecture)
      guard loaded.checksum == checksum else {
        throw SafeTensorsError(
          file: path, "content checksum is \(loaded.checksum.prefix(12))…, but the plan was made with \(checksum.prefix(12))…: the file changed")
      }
      built = BuiltGenerator(generator: loaded.generator, exactBasis: nil)
    case .reluMLP(let widths, let bias, let activations):
      built = BuiltGenerator(
        generator: FeedForwardGenerator.reluMLP(
          widths: widths, bias: bias, activations: activations.map { Activation(name: $0)! }, seed: UInt64(spec.seed)),
        exactBasis: nil)
    case .product(let specs):
      let factors = try specs.map { try build($0) }
      built = BuiltGenerator(generator: ProductGenerator(factors: factors.map(\.generator)), exactBasis: nil, factors: factors)
    }
    lock.withLock { cache[spec] = built }
    return built
  }
}
