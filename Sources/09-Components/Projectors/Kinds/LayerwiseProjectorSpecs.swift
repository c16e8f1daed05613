import GGEPConfig
import GGEPNumerics

/// `projection: {method: <a layer-wise method>, …}`: P_G(x) = G(ẑ) with ẑ from inverting x layer
/// by layer (docs/mathematics.md §4, "Other projectors", and §10), for every registered
/// `InverterComponent` — so a new inversion method is a projection method too, with no file here.
public struct LayerwiseProjectorSpec<Inverter: InverterComponent>: ProjectorComponent {
  public static var method: String { Inverter.kind }
  public static var summary: String { "\(Inverter.summary), then G(ẑ)" }
  public static var keys: [DeclaredKey] { Inverter.keys }

  public var inversion: Inverter
  public init(inversion: Inverter) { self.inversion = inversion }

  public init(_ table: ConfigTable) throws(ConfigError) { inversion = try Inverter(table) }

  // The method is the key's `layerwise` field (ProjectionSpec writes it).
  public init(from decoder: any Decoder) throws {
    let method = try ProjectionSpec.decodeLayerwise(decoder)
    guard let inversion = method.component as? Inverter else {
      throw DecodingError.dataCorrupted(
        DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "projection method \(Self.method) holds a \(method.kind) inversion"))
    }
    self.inversion = inversion
  }
  public func encode(to encoder: any Encoder) throws {}

  public var layerwise: LayerwiseMethod? { LayerwiseMethod(inversion) }

  public func refusal(for generator: GeneratorSpec) -> String? {
    LayerwiseMethod(inversion).refusal(for: generator)
  }

  public func projector(for built: BuiltGenerator, mode: AdamProjector.ScaleMode) throws -> any Projector {
    try LayerwiseMethod(inversion).projector(refinement: nil, for: built, mode: mode, named: Self.method)
  }

  /// The projection method of inverter `type`.
  static func of<I: InverterComponent>(_ type: I.Type) -> any ProjectorComponent.Type { LayerwiseProjectorSpec<I>.self }
}

/// The projection method of each layer-wise inverter.
func layerwiseProjector(for inverter: any InverterComponent.Type) -> any ProjectorComponent.Type {
  LayerwiseProjectorSpec<LPInverterSpec>.of(inverter)
}
