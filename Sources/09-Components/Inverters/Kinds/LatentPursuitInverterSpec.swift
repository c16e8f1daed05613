import GGEPNumerics
import GGEPConfig

/// `{kind: latent-pursuit, …}`: Latent-Pursuit (Aberdam et al., Algs. 3–5; docs/mathematics.md §10),
/// a sparse-coding pursuit per hidden layer and a MAP step for the latent, with or without
/// debiasing on the found support.
///
/// λ is relative to each layer's ‖∇(data term)(0)‖∞ (the value at which the lasso's answer
/// becomes 0), γ absolute (the latent's MAP weight); the defaults suit noiseless data.
public struct LatentPursuitInverterSpec: InverterComponent {
  public static let kind = "latent-pursuit"
  public static let summary = "Latent-Pursuit layer by layer (Aberdam et al.)"
  public static let keyName = "latentPursuit"
  public static var keys: [DeclaredKey] {
    let d = LatentPursuit.Settings()
    return [
      DeclaredKey("lambda", "number ≥ 0", default: "\(d.lambda)", "sparsity weight, relative to each layer's ‖∇(data term)(0)‖∞"),
      DeclaredKey("gamma", "number ≥ 0", default: "\(d.gamma)", "the latent's MAP weight (absolute)"),
      DeclaredKey("rho", "number > 0", default: "\(d.rho)", "ADMM penalty"),
      DeclaredKey("iterations", "integer ≥ 1", default: "\(d.iterations)", "iterations per layer"),
      DeclaredKey("tolerance", "number > 0", default: "\(d.tolerance)", "relative change that stops a layer's solve"),
      DeclaredKey("support_threshold", "number in [0, 1]", default: "\(d.supportThreshold)", "relative size below which an entry counts as inactive"),
      DeclaredKey("debias", "boolean", default: "\(d.debias)", "re-solve on the found support without the sparsity term"),
      DeclaredKey("continuation", "integer in 1…1000", default: "\(d.continuation)", "λ stages, geometric from lambda_start down to lambda"),
      DeclaredKey("lambda_start", "number > 0", default: "\(d.lambdaStart)", "the first stage's λ (with continuation > 1)"),
      DeclaredKey("solver", "linearized-admm | admm", default: d.solver.rawValue, "the hidden layers' solver"),
    ]
  }

  public var settings: LatentPursuit.Settings
  public init(settings: LatentPursuit.Settings) { self.settings = settings }

  public init(_ table: ConfigTable) throws(ConfigError) {
    let d = LatentPursuit.Settings()
    settings = LatentPursuit.Settings(
      lambda: try table.double("lambda", default: d.lambda, .atLeast(0)), gamma: try table.double("gamma", default: d.gamma, .atLeast(0)),
      rho: try table.double("rho", default: d.rho, .greaterThan(0)), iterations: try table.int("iterations", default: d.iterations, .atLeast(1)),
      tolerance: try table.double("tolerance", default: d.tolerance, .greaterThan(0)),
      supportThreshold: try table.double("support_threshold", default: d.supportThreshold, .within(0...1)),
      debias: try table.bool("debias", default: d.debias), continuation: try table.int("continuation", default: d.continuation, .within(1...1000)),
      lambdaStart: try table.double("lambda_start", default: d.lambdaStart, .greaterThan(0)),
      solver: try table.oneOf("solver", default: d.solver))
  }

  public init(from decoder: any Decoder) throws { settings = try LatentPursuit.Settings(from: decoder) }
  public func encode(to encoder: any Encoder) throws { try settings.encode(to: encoder) }

  public var name: String { settings.debias ? "latent-pursuit-debiased" : "latent-pursuit" }

  /// The largest layer's SVD and pseudo-inverse: 24 B per weight.
  public func memory(layers: [(input: Double, output: Double)]) -> (bytes: Double, what: String) {
    ((layers.map { $0.input * $0.output }.max() ?? 0) * 24, "Latent-Pursuit's factorisation of the largest layer")
  }

  public func inverter(_ network: InversionNetwork) -> any LatentInverter { LatentPursuit(network: network, settings: settings) }
}
