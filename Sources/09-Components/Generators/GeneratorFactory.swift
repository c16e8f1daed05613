import Foundation
import Synchronization
import GGEPCore
import GGEPPrior
import GGEPModels

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
public final class GeneratorFactory: Sendable {
  // Cached values are immutable.
  private let cache = Mutex<[GeneratorSpec: BuiltGenerator]>([:])

  public static let shared = GeneratorFactory()

  public func build(_ spec: GeneratorSpec) throws -> BuiltGenerator {
    if let hit = cache.withLock({ $0[spec] }) { return hit }
    let built = try spec.component.build(using: self)
    cache.withLock { $0[spec] = built }
    return built
  }
}
