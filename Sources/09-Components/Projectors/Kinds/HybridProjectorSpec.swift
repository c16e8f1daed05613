import GGEPConfig
import GGEPNumerics

/// `projection: {method: hybrid, start, steps, learning_rate, restarts, lambda_z}`: a layer-wise
/// ẑ refined by a few Adam steps, one restart, a small rate near the answer
/// (docs/mathematics.md §4, "Other projectors").
public struct HybridProjectorSpec: ProjectorComponent {
  public static let method = "hybrid"
  public static let summary = "a layer-wise ẑ refined by a few Adam steps"
  public static let keys = [
    DeclaredKey("start", "a layer-wise method (name or table)", default: "latent-pursuit", "the layer-wise inversion method whose ẑ Adam refines"),
  ] + AdamKeys.declared(defaults, warmStart: false, restarts: "starts (the first from the layer-wise ẑ)")
  /// A few steps, one restart, a small rate near the answer.
  public static let defaults = AdamProjector.Settings(steps: 20, learningRate: 0.01, restarts: 1, lambdaZ: 0.001)

  public var start: LayerwiseMethod
  public var adam: AdamProjector.Settings

  public init(start: LayerwiseMethod, adam: AdamProjector.Settings) {
    self.start = start
    self.adam = adam
  }

  public init(_ table: ConfigTable) throws(ConfigError) {
    start = try LayerwiseMethod.readStart(table)
    adam = try AdamKeys.read(table, defaults: Self.defaults, warmStart: false)
  }

  // Both are the key's legacy fields (ProjectionSpec writes them).
  public init(from decoder: any Decoder) throws {
    start = try ProjectionSpec.decodeLayerwise(decoder)
    adam = try ProjectionSpec.decodeAdam(decoder)
  }
  public func encode(to encoder: any Encoder) throws {}

  public var adamSettings: AdamProjector.Settings { adam }
  public var layerwise: LayerwiseMethod? { start }
  public var rowsPerTarget: Int { adam.restarts }

  public func refusal(for generator: GeneratorSpec) -> String? {
    start.refusal(for: generator)
  }

  public func projector(for built: BuiltGenerator, mode: AdamProjector.ScaleMode) throws -> any Projector {
    try start.projector(refinement: adam, for: built, mode: mode, named: Self.method)
  }
}
