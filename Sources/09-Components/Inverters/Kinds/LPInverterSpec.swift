import GGEPNumerics
import GGEPConfig

/// `{kind: lp, noiseless, support_threshold}`: LP inversion (Lei et al.; docs/mathematics.md §10),
/// per layer the ℓ∞ program min ‖h‖∞-residual over h ≥ 0 on the active set, or the ε = 0 one.
public struct LPInverterSpec: InverterComponent {
  public static let kind = "lp"
  public static let summary = "LP inversion layer by layer (Lei et al.)"
  public static let keyName = "lp"
  public static let keys = [
    DeclaredKey("noiseless", "boolean", default: "false", "solve the ε = 0 programs (exact data) instead of the ℓ∞ ones"),
    DeclaredKey(
      "support_threshold", "number in [0, 1]", default: "\(LPInverter.Settings().supportThreshold)",
      "relative size below which an entry counts as inactive"),
  ]

  public var settings: LPInverter.Settings
  public init(settings: LPInverter.Settings) { self.settings = settings }

  public init(_ table: ConfigTable) throws(ConfigError) {
    settings = LPInverter.Settings(
      noiseless: try table.bool("noiseless", default: false),
      supportThreshold: try table.double("support_threshold", default: LPInverter.Settings().supportThreshold, .within(0...1)))
  }

  public init(from decoder: any Decoder) throws { settings = try LPInverter.Settings(from: decoder) }
  public func encode(to encoder: any Encoder) throws { try settings.encode(to: encoder) }

  public var name: String { settings.noiseless ? "lp-noiseless" : "lp" }

  /// The largest layer's program: 2·out rows × (in + 1) columns, 64 B per entry (the rows, the
  /// dense matrix, its column copy for CLP and CLP's own copies), one job at a time.
  public func memory(layers: [(input: Double, output: Double)]) -> (bytes: Double, what: String) {
    ((layers.map { 2 * $0.output * ($0.input + 1) }.max() ?? 0) * 64, "the largest layer's linear program")
  }

  public func inverter(_ network: InversionNetwork) -> any LatentInverter { LPInverter(network: network, settings: settings) }
}
