import GGEPConfig
import GGEPNumerics

/// `projection: {method: adam, steps, learning_rate, restarts, lambda_z, warm_start}`: Adam on
/// the latent, minimising ‖G(z) − c·x‖² + λ_z‖z‖² from `restarts` random starts; the lowest final
/// loss wins (docs/mathematics.md §4). The paper's recipe, and the default for a non-linear
/// generator.
public struct AdamProjectorSpec: ProjectorComponent {
  public static let method = "adam"
  public static let summary = "Adam on the latent with random restarts (the paper's recipe; the default for non-linear generators)"
  /// The paper's recipe: 100 steps, rate 0.1, 3 restarts, λ_z = 0.001.
  public static let defaults = AdamProjector.Settings(steps: 100, learningRate: 0.1, restarts: 3, lambdaZ: 0.001, warmStart: false)
  public static let keys = AdamKeys.declared(defaults, warmStart: true)

  public var settings: AdamProjector.Settings

  public init(_ settings: AdamProjector.Settings = AdamProjector.Settings()) {
    self.settings = settings
  }

  public init(_ table: ConfigTable) throws(ConfigError) {
    settings = try AdamKeys.read(table, defaults: Self.defaults, warmStart: true)
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
