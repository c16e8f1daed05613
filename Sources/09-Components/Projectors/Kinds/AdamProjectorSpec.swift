import GGEPConfig
import GGEPNumerics

/// `projection: {method: adam, steps, learning_rate, restarts, lambda_z, warm_start}`: Adam on
/// the latent, minimising ‖G(z) − c·x‖² + λ_z‖z‖² from `restarts` random starts; the lowest final
/// loss wins (docs/mathematics.md §4). The paper's recipe, and the default for a non-linear
/// generator.
public struct AdamProjectorSpec: ProjectorComponent {
  public static let method = "adam"
  public static let summary = "Adam on the latent with random restarts (the paper's recipe; the default for non-linear generators)"
  public static let keys = [
    DeclaredKey("steps", "integer ≥ 1", default: "100", "Adam steps per restart"),
    DeclaredKey("learning_rate", "number > 0", default: "0.1", "Adam's step size"),
    DeclaredKey("restarts", "integer ≥ 1", default: "3", "random starts; the lowest final loss wins"),
    DeclaredKey("lambda_z", "number ≥ 0", default: "0.001", "weight of ‖z‖² in the loss"),
    DeclaredKey("warm_start", "boolean", default: "false", "start the first restart from the previous iteration's ẑ"),
  ]

  public var settings: AdamProjector.Settings

  public init(_ settings: AdamProjector.Settings = AdamProjector.Settings()) {
    self.settings = settings
  }

  public init(_ table: ConfigTable) throws(ConfigError) {
    settings = AdamProjector.Settings(
      steps: try table.int("steps", default: 100, .atLeast(1)),
      learningRate: try table.double("learning_rate", default: 0.1, .greaterThan(0)),
      restarts: try table.int("restarts", default: 3, .atLeast(1)),
      lambdaZ: try table.double("lambda_z", default: 0.001, .atLeast(0)),
      warmStart: try table.bool("warm_start", default: false))
  }

  // The settings are the key's Adam fields (ProjectionSpec writes them).
  public init(from decoder: any Decoder) throws { settings = try ProjectionSpec.decodeAdam(decoder) }
  public func encode(to encoder: any Encoder) throws {}

  public var adamSettings: AdamProjector.Settings { settings }
  public var rowsPerTarget: Int { settings.restarts }

  public func projector(for built: BuiltGenerator, mode: AdamProjector.ScaleMode) throws -> any Projector {
    AdamProjector(generator: built.generator, mode: mode, settings: settings)
  }
}
