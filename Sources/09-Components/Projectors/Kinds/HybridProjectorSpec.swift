import GGEPConfig
import GGEPNumerics

/// `projection: {method: hybrid, start, steps, learning_rate, restarts, lambda_z}`: a layer-wise
/// ẑ refined by a few Adam steps, one restart, a small rate near the answer
/// (docs/mathematics.md §4, "Other projectors").
public struct HybridProjectorSpec: ProjectorComponent {
  public static let method = "hybrid"
  public static let summary = "a layer-wise ẑ refined by a few Adam steps"
  public static let keys = [
    DeclaredKey("start", "a layer-wise method (name or table)", default: "latent-pursuit", "the method whose ẑ Adam refines: lp, latent-pursuit or layered-bp"),
    DeclaredKey("steps", "integer ≥ 1", default: "20", "Adam steps"),
    DeclaredKey("learning_rate", "number > 0", default: "0.01", "Adam's step size"),
    DeclaredKey("restarts", "integer ≥ 1", default: "1", "starts (the first from the layer-wise ẑ)"),
    DeclaredKey("lambda_z", "number ≥ 0", default: "0.001", "weight of ‖z‖² in the loss"),
  ]

  public var start: LayerwiseMethod
  public var adam: AdamProjector.Settings

  public init(start: LayerwiseMethod, adam: AdamProjector.Settings) {
    self.start = start
    self.adam = adam
  }

  public init(_ table: ConfigTable) throws(ConfigError) {
    start = try LayerwiseMethodConfig.readStart(table)
    adam = AdamProjector.Settings(
      steps: try table.int("steps", default: 20, .atLeast(1)),
      learningRate: try table.double("learning_rate", default: 0.01, .greaterThan(0)),
      restarts: try table.int("restarts", default: 1, .atLeast(1)),
      lambdaZ: try table.double("lambda_z", default: 0.001, .atLeast(0)))
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
    LayerwiseMethodConfig.refusal(start, for: generator)
  }

  public func projector(for built: BuiltGenerator, mode: AdamProjector.ScaleMode) throws -> any Projector {
    try LayerwiseMethodConfig.projector(start, refinement: adam, for: built, mode: mode, named: Self.method)
  }
}
