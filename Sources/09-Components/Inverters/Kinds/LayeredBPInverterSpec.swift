import GGEPNumerics
import GGEPConfig

/// `{kind: layered-bp, lambda, …}`: Layered Basis-Pursuit (Aberdam et al., Alg. 2;
/// docs/mathematics.md §10), a lasso per layer from the output down, λ relative to each layer's
/// ‖∇(data term)(0)‖∞: one value for every hidden layer, or one per hidden layer.
public struct LayeredBPInverterSpec: InverterComponent {
  public static let kind = "layered-bp"
  public static let summary = "Layered Basis-Pursuit (Aberdam et al.)"
  public static let keyName = "layeredBP"
  public static var keys: [DeclaredKey] {
    let d = LayeredBasisPursuit.Settings()
    return [
      DeclaredKey("lambda", "number ≥ 0, or one per hidden layer", default: "\(d.lambdas)", "sparsity weight, relative to each layer's ‖∇(data term)(0)‖∞"),
      DeclaredKey("iterations", "integer ≥ 1", default: "\(d.iterations)", "iterations per layer"),
      DeclaredKey("tolerance", "number > 0", default: "\(d.tolerance)", "relative change that stops a layer's solve"),
      DeclaredKey("support_threshold", "number in [0, 1]", default: "\(d.supportThreshold)", "relative size below which an entry counts as inactive"),
    ]
  }

  public var settings: LayeredBasisPursuit.Settings
  public init(settings: LayeredBasisPursuit.Settings) { self.settings = settings }

  public init(_ table: ConfigTable) throws(ConfigError) {
    let d = LayeredBasisPursuit.Settings()
    var lambdas = d.lambdas
    if let value = table["lambda"] {
      if case .sequence = value.node.content {
        lambdas = []
        for item in try value.list() { lambdas.append(try item.double(.atLeast(0))) }
      } else {
        lambdas = [try value.double(.atLeast(0))]
      }
    }
    settings = LayeredBasisPursuit.Settings(
      lambdas: lambdas, iterations: try table.int("iterations", default: d.iterations, .atLeast(1)),
      tolerance: try table.double("tolerance", default: d.tolerance, .greaterThan(0)),
      supportThreshold: try table.double("support_threshold", default: d.supportThreshold, .within(0...1)))
  }

  public init(from decoder: any Decoder) throws { settings = try LayeredBasisPursuit.Settings(from: decoder) }
  public func encode(to encoder: any Encoder) throws { try settings.encode(to: encoder) }

  public var name: String { "layered-bp" }

  public func refusal(for network: InversionNetwork) -> String? {
    let hidden = network.layers.count - 1
    guard settings.lambdas.count != 1, settings.lambdas.count != hidden else { return nil }
    return "layered-bp takes one lambda or one per hidden layer (\(hidden) here), got \(settings.lambdas.count)"
  }

  /// Copies of the largest layer: 16 B per weight.
  public func memory(layers: [(input: Double, output: Double)]) -> (bytes: Double, what: String) {
    ((layers.map { $0.input * $0.output }.max() ?? 0) * 16, "Layered Basis-Pursuit's copies of the largest layer")
  }

  public func inverter(_ network: InversionNetwork) -> any LatentInverter { LayeredBasisPursuit(network: network, settings: settings) }
}
