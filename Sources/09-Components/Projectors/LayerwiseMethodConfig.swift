import GGEPPrior
import GGEPNumerics
import GGEPModels
import GGEPConfig
import GGEPPipeline

/// How a config writes a layer-wise inversion method (docs/mathematics.md §10), the same under an inversion
/// job's `method:` and a GEP job's `projection:`:
///
///     {kind: lp}                              # the ℓ∞ programs; noiseless: true for ε = 0; support_threshold
///     {kind: latent-pursuit, debias: true}    # lambda, gamma, rho, iterations, tolerance, support_threshold,
///                                             # continuation (λ stages), lambda_start,
///                                             # solver (linearized-admm | admm)
///     {kind: layered-bp, lambda: [1e-6]}      # lambda (one, or one per hidden layer), iterations, tolerance, support_threshold
///
/// λ is relative to each layer's ‖∇(data term)(0)‖∞ (the value at which the lasso's answer
/// becomes 0), γ absolute (the latent's MAP weight); the defaults suit noiseless data.
package enum LayerwiseMethodConfig {
  /// The keys each method takes besides `kind`.
  package static func keys(_ kind: String) -> [String] {
    switch kind {
    case "lp": return ["noiseless", "support_threshold"]
    case "latent-pursuit": return ["lambda", "gamma", "rho", "iterations", "tolerance", "support_threshold", "debias", "continuation", "lambda_start", "solver"]
    case "layered-bp": return ["lambda", "iterations", "tolerance", "support_threshold"]
    default: return []
    }
  }

  /// The keys of each method, declared (the config reference; `keys(_:)` lists their names).
  package static func declaredKeys(_ kind: String) -> [DeclaredKey] {
    let lp = LPInverter.Settings(), pursuit = LatentPursuit.Settings(), bp = LayeredBasisPursuit.Settings()
    let threshold: (Double) -> DeclaredKey = {
      DeclaredKey("support_threshold", "number in [0, 1]", default: "\($0)", "relative size below which an entry counts as inactive")
    }
    switch kind {
    case "lp":
      return [DeclaredKey("noiseless", "boolean", default: "false", "solve the ε = 0 programs (exact data) instead of the ℓ∞ ones"), threshold(lp.supportThreshold)]
    case "latent-pursuit":
      return [
        DeclaredKey("lambda", "number ≥ 0", default: "\(pursuit.lambda)", "sparsity weight, relative to each layer's ‖∇(data term)(0)‖∞"),
        DeclaredKey("gamma", "number ≥ 0", default: "\(pursuit.gamma)", "the latent's MAP weight (absolute)"),
        DeclaredKey("rho", "number > 0", default: "\(pursuit.rho)", "ADMM penalty"),
        DeclaredKey("iterations", "integer ≥ 1", default: "\(pursuit.iterations)", "iterations per layer"),
        DeclaredKey("tolerance", "number > 0", default: "\(pursuit.tolerance)", "relative change that stops a layer's solve"),
        threshold(pursuit.supportThreshold),
        DeclaredKey("debias", "boolean", default: "\(pursuit.debias)", "re-solve on the found support without the sparsity term"),
        DeclaredKey("continuation", "integer in 1…1000", default: "\(pursuit.continuation)", "λ stages, geometric from lambda_start down to lambda"),
        DeclaredKey("lambda_start", "number > 0", default: "\(pursuit.lambdaStart)", "the first stage's λ (with continuation > 1)"),
        DeclaredKey("solver", "linearized-admm | admm", default: pursuit.solver.rawValue, "the hidden layers' solver"),
      ]
    case "layered-bp":
      return [
        DeclaredKey("lambda", "number ≥ 0, or one per hidden layer", default: "\(bp.lambdas)", "sparsity weight, relative to each layer's ‖∇(data term)(0)‖∞"),
        DeclaredKey("iterations", "integer ≥ 1", default: "\(bp.iterations)", "iterations per layer"),
        DeclaredKey("tolerance", "number > 0", default: "\(bp.tolerance)", "relative change that stops a layer's solve"),
        threshold(bp.supportThreshold),
      ]
    default: return []
    }
  }

  /// Why `method` cannot invert `generator` (built to look at its layers), as a complete
  /// message for `projection.method`; nil when it can.
  package static func refusal(_ method: LayerwiseMethod, for generator: GeneratorSpec) -> String? {
    let built: BuiltGenerator
    do {
      built = try GeneratorFactory.shared.build(generator)
    } catch {
      return "cannot build the generator to check it: \(error)"
    }
    return refusal(method, generator: built).map { "projection method \($0)" }
  }

  /// The layer-wise projector of `method` (with Adam's `refinement` for a hybrid) onto `built`'s range.
  package static func projector(
    _ method: LayerwiseMethod, refinement: AdamProjector.Settings?, for built: BuiltGenerator, mode: AdamProjector.ScaleMode, named name: String
  ) throws -> any Projector {
    guard let layered = built.generator as? FeedForwardGenerator else {
      throw ProjectionError(message: "projection.method \(name) needs a layered generator, got \(built.generator.summary)")
    }
    return LayerwiseProjector(generator: layered, inverter: method.inverter(InversionNetwork(layered)), mode: mode, refinement: refinement)
  }

  /// The method `kind` (one of `LayerwiseMethod.kinds`) with its settings read from `table`
  /// (other keys of the table are the caller's to check).
  package static func read(_ kind: String, _ table: ConfigTable) throws(ConfigError) -> LayerwiseMethod {
    switch kind {
    case "lp":
      return .lp(LPInverter.Settings(
        noiseless: try table.bool("noiseless", default: false),
        supportThreshold: try table.double("support_threshold", default: LPInverter.Settings().supportThreshold, .within(0...1))))
    case "latent-pursuit":
      let d = LatentPursuit.Settings()
      return .latentPursuit(LatentPursuit.Settings(
        lambda: try table.double("lambda", default: d.lambda, .atLeast(0)), gamma: try table.double("gamma", default: d.gamma, .atLeast(0)),
        rho: try table.double("rho", default: d.rho, .greaterThan(0)), iterations: try table.int("iterations", default: d.iterations, .atLeast(1)),
        tolerance: try table.double("tolerance", default: d.tolerance, .greaterThan(0)),
        supportThreshold: try table.double("support_threshold", default: d.supportThreshold, .within(0...1)),
        debias: try table.bool("debias", default: d.debias), continuation: try table.int("continuation", default: d.continuation, .within(1...1000)),
        lambdaStart: try table.double("lambda_start", default: d.lambdaStart, .greaterThan(0)),
        solver: try table.oneOf("solver", default: d.solver)))
    default:
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
      return .layeredBP(LayeredBasisPursuit.Settings(
        lambdas: lambdas, iterations: try table.int("iterations", default: d.iterations, .atLeast(1)),
        tolerance: try table.double("tolerance", default: d.tolerance, .greaterThan(0)),
        supportThreshold: try table.double("support_threshold", default: d.supportThreshold, .within(0...1))))
    }
  }

  /// Why `method` cannot invert `generator`, naming the layer and its activation (or a setting
  /// that does not fit the network); nil when it can. A product prior is checked factor by factor.
  package static func refusal(_ method: LayerwiseMethod, generator: BuiltGenerator) -> String? {
    if !generator.factors.isEmpty {
      for (i, factor) in generator.factors.enumerated() {
        if let reason = refusal(method, generator: factor) { return "factor \(i + 1): \(reason)" }
      }
      return nil
    }
    if let convolutional = generator.generator as? ConvolutionalGenerator,
      let index = convolutional.layers.firstIndex(where: { if case .convolution = $0 { return true } else { return false } })
    {
      // docs/mathematics.md §10's programs are per dense layer; a convolution's dense matrix (n × n at 12288
      // outputs) would make each LP as large as the image squared.
      return "\(method.name) inverts dense (fully connected) layers only (docs/mathematics.md §10), but layer \(index + 1) of \(generator.generator.summary) is a convolution; use method adam"
    }
    guard let layered = generator.generator as? FeedForwardGenerator else {
      return "\(method.name) inverts layer by layer, but \(generator.generator.summary) has no layers to invert"
    }
    let network = InversionNetwork(layered)
    if let problem = network.unsupportedLayer() { return "\(method.name) cannot invert this generator: \(problem)" }
    if case .layeredBP(let settings) = method, settings.lambdas.count != 1, settings.lambdas.count != network.layers.count - 1 {
      return "layered-bp takes one lambda or one per hidden layer (\(network.layers.count - 1) here), got \(settings.lambdas.count)"
    }
    return nil
  }

  /// A hybrid's `start:` — a method name or a method table — as a layer-wise method.
  package static func readStart(_ table: ConfigTable) throws(ConfigError) -> LayerwiseMethod {
    guard let value = table["start"] else { return .latentPursuit(LatentPursuit.Settings()) }
    if case .mapping = value.node.content {
      let start = try value.table()
      let kind = try start.string("kind")
      guard LayerwiseMethod.kinds.contains(kind) else {
        throw start.error("kind", "a hybrid starts from a layer-wise method: one of \(LayerwiseMethod.kinds.joined(separator: ", ")), got \"\(kind)\"")
      }
      try start.checkKnownKeys(allowed: ["kind"] + keys(kind), context: "for method \(kind)")
      return try read(kind, start)
    }
    let kind = try value.string()
    guard LayerwiseMethod.kinds.contains(kind) else {
      throw table.error("start", "a hybrid starts from a layer-wise method: one of \(LayerwiseMethod.kinds.joined(separator: ", ")), got \"\(kind)\"")
    }
    return try read(kind, ConfigTable(ConfigValue(.mapping([], mark: value.mark), path: value.path)))
  }
}
