import GGEPConfig
import GGEPNumerics

/// `projection: {method: exact}`: the closed-form projection onto a linear generator's range,
/// P_G(x) = W Wᵀx with orthonormal W (docs/mathematics.md §4). No settings.
public struct ExactProjectorSpec: ProjectorComponent {
  public static let method = "exact"
  public static let summary = "closed form, for a linear generator (the default there)"
  public static let keys: [DeclaredKey] = []

  public init() {}
  public init(_ table: ConfigTable) throws(ConfigError) {}
  public init(from decoder: any Decoder) throws {}
  public func encode(to encoder: any Encoder) throws {}

  public func refusal(for generator: GeneratorSpec) -> String? {
    generator.hasExactProjection
      ? nil : "exact projection needs a linear generator; generator.kind \(generator.kind) needs method adam, got exact"
  }

  public func projector(for built: BuiltGenerator, mode: AdamProjector.ScaleMode) throws -> any Projector {
    guard let basis = built.exactBasis else {
      throw ProjectionError(message: "projection.method exact needs a generator with an exact projection (linear)")
    }
    return ExactLinearProjector(basis: basis)
  }
}
