import GGEPConfig
import GGEPNumerics

/// What the three layer-wise projection methods share: P_G(x) = G(ẑ) with ẑ from inverting x
/// layer by layer (docs/mathematics.md §4, "Other projectors", and §10).
public protocol LayerwiseProjectorComponent: ProjectorComponent {
  var inversion: LayerwiseMethod { get }
  init(inversion: LayerwiseMethod)
}

extension LayerwiseProjectorComponent {
  public init(_ table: ConfigTable) throws(ConfigError) {
    self.init(inversion: try LayerwiseMethodConfig.read(Self.method, table))
  }

  // The method is the key's `layerwise` field (ProjectionSpec writes it).
  public init(from decoder: any Decoder) throws { self.init(inversion: try ProjectionSpec.decodeLayerwise(decoder)) }
  public func encode(to encoder: any Encoder) throws {}

  public var layerwise: LayerwiseMethod? { inversion }

  public func refusal(for generator: GeneratorSpec) -> String? {
    LayerwiseMethodConfig.refusal(inversion, for: generator)
  }

  public func projector(for built: BuiltGenerator, mode: AdamProjector.ScaleMode) throws -> any Projector {
    try LayerwiseMethodConfig.projector(inversion, refinement: nil, for: built, mode: mode, named: Self.method)
  }
}

/// `projection: {method: lp, noiseless, support_threshold}`: LP inversion (Lei et al.) as P_G.
public struct LPProjectorSpec: LayerwiseProjectorComponent {
  public static let method = "lp"
  public static let summary = "LP inversion layer by layer (Lei et al.), then G(ẑ)"
  public static let keys = LayerwiseMethodConfig.declaredKeys("lp")
  public var inversion: LayerwiseMethod
  public init(inversion: LayerwiseMethod) { self.inversion = inversion }
}

/// `projection: {method: latent-pursuit, …}`: Latent-Pursuit (Aberdam et al.) as P_G.
public struct LatentPursuitProjectorSpec: LayerwiseProjectorComponent {
  public static let method = "latent-pursuit"
  public static let summary = "Latent-Pursuit layer by layer (Aberdam et al.), then G(ẑ)"
  public static let keys = LayerwiseMethodConfig.declaredKeys("latent-pursuit")
  public var inversion: LayerwiseMethod
  public init(inversion: LayerwiseMethod) { self.inversion = inversion }
}

/// `projection: {method: layered-bp, lambda, …}`: Layered Basis-Pursuit (Aberdam et al.) as P_G.
public struct LayeredBPProjectorSpec: LayerwiseProjectorComponent {
  public static let method = "layered-bp"
  public static let summary = "Layered Basis-Pursuit (Aberdam et al.), then G(ẑ)"
  public static let keys = LayerwiseMethodConfig.declaredKeys("layered-bp")
  public var inversion: LayerwiseMethod
  public init(inversion: LayerwiseMethod) { self.inversion = inversion }
}
