import GGEPCore
import GGEPPrior
import GGEPNumerics
import GGEPModels
import GGEPConfig
import GGEPPipeline
extension StepSize {
  /// Reads `eta` or `eta_lambda1` (at most one; `eta` with `fallback` when neither is given).
  package static func read(_ table: ConfigTable, fallback: Double) throws(ConfigError) -> StepSize {
    if table["eta"] != nil && table["eta_lambda1"] != nil {
      throw table.error("eta_lambda1", "give the step as eta or as eta_lambda1 (η·λ1 of each instance), not both")
    }
    if let scaled = try table.optionalDouble("eta_lambda1", .greaterThan(0)) { return .perLambda1(scaled) }
    return .absolute(try table.double("eta", default: fallback, .greaterThan(0)))
  }
}

/// The iterative method and its stopping rule (docs/mathematics.md §5).
public struct AlgorithmSpec: Codable, Hashable, Sendable {
  public enum Method: Hashable, Sendable {
    /// Projected Rayleigh flow: u ← P_G(u + η(Â − ρB̂)u).
    case prfm(eta: StepSize)
    /// Projected power method on Â alone (assumes B = I).
    case ppower
    /// Truncated Rayleigh flow with sparsity s; `etaPrime` nil means "η·λ1", computed when
    /// the problem's λ1 is known.
    case rifle(eta: StepSize, s: Int, etaPrime: Double?)

    public enum Kind: String, CaseIterable, Codable, Sendable {
      case prfm, ppower, rifle
    }

    public var kind: Kind {
      switch self {
      case .prfm: return .prfm
      case .ppower: return .ppower
      case .rifle: return .rifle
      }
    }
  }

  /// u₀ = 1/√n (all ones) or a seeded random unit vector.
  public enum Initialization: String, CaseIterable, Codable, Sendable {
    case ones, random
  }

  public var method: Method
  public var iterations: Int
  /// Stop early once ‖u_{t+1} − u_t‖ < tolerance.
  public var tolerance: Double
  public var initialization: Initialization

  public init(method: Method, iterations: Int = 30, tolerance: Double = 1e-6, initialization: Initialization = .ones) {
    self.method = method
    self.iterations = iterations
    self.tolerance = tolerance
    self.initialization = initialization
  }

  /// The method's name in the paper's figures: `PRFM`, `PPower`, `Rifle20`.
  public var label: String {
    switch method {
    case .prfm: return "PRFM"
    case .ppower: return "PPower"
    case .rifle(_, let s, _): return "Rifle\(s)"
    }
  }

  package init(_ table: ConfigTable, generator: GeneratorSpec) throws(ConfigError) {
    let kind: Method.Kind = try table.oneOf("kind")
    var allowed = ["kind", "iterations", "tolerance", "init"]
    switch kind {
    case .prfm: allowed += ["eta", "eta_lambda1"]
    case .ppower: break
    case .rifle: allowed += ["eta", "eta_lambda1", "s", "eta_prime"]
    }
    try table.checkKnownKeys(allowed: allowed, context: "for kind \(kind.rawValue)")
    switch kind {
    case .prfm:
      method = .prfm(eta: try StepSize.read(table, fallback: 0.2))
    case .ppower:
      method = .ppower
    case .rifle:
      let n = generator.n
      method = .rifle(
        eta: try StepSize.read(table, fallback: 0.2),
        s: try table.int("s", .within(1...n).because("generator.n = \(n)")),
        etaPrime: try table.optionalDouble("eta_prime", .greaterThan(0)))
    }
    iterations = try table.int("iterations", default: 30, .atLeast(1))
    tolerance = try table.double("tolerance", default: 1e-6, .atLeast(0))
    initialization = try table.oneOf("init", default: Initialization.ones)
  }

  private enum CodingKeys: String, CodingKey {
    case kind, eta, s
    case etaLambda1 = "eta_lambda1"
    case etaPrime = "eta_prime"
    case iterations, tolerance
    case initialization = "init"
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(method.kind, forKey: .kind)
    switch method {
    case .prfm(let eta):
      try Self.encode(eta, into: &container)
    case .ppower:
      break
    case .rifle(let eta, let s, let etaPrime):
      try Self.encode(eta, into: &container)
      try container.encode(s, forKey: .s)
      try container.encodeIfPresent(etaPrime, forKey: .etaPrime)
    }
    try container.encode(iterations, forKey: .iterations)
    try container.encode(tolerance, forKey: .tolerance)
    try container.encode(initialization, forKey: .initialization)
  }

  // An absolute η encodes as before (`eta`), so adding the scaled form changed no job key.
  private static func encode(_ step: StepSize, into container: inout KeyedEncodingContainer<CodingKeys>) throws {
    switch step {
    case .absolute(let eta): try container.encode(eta, forKey: .eta)
    case .perLambda1(let c): try container.encode(c, forKey: .etaLambda1)
    }
  }

  private static func decodeStep(_ container: KeyedDecodingContainer<CodingKeys>) throws -> StepSize {
    if let c = try container.decodeIfPresent(Double.self, forKey: .etaLambda1) { return .perLambda1(c) }
    return .absolute(try container.decode(Double.self, forKey: .eta))
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    switch try container.decode(Method.Kind.self, forKey: .kind) {
    case .prfm:
      method = .prfm(eta: try Self.decodeStep(container))
    case .ppower:
      method = .ppower
    case .rifle:
      method = .rifle(
        eta: try Self.decodeStep(container), s: try container.decode(Int.self, forKey: .s),
        etaPrime: try container.decodeIfPresent(Double.self, forKey: .etaPrime))
    }
    iterations = try container.decode(Int.self, forKey: .iterations)
    tolerance = try container.decode(Double.self, forKey: .tolerance)
    initialization = try container.decode(Initialization.self, forKey: .initialization)
  }
}

/// How P_G is computed (docs/mathematics.md §4): the method with its own settings, and the target's
/// scale mode.
public struct ProjectionSpec: Codable, Hashable, Sendable {
  public enum Method: Hashable, Sendable {
    /// Closed form; only a linear generator has one. No settings.
    case exact
    /// Adam on z with restarts, and its settings.
    case adam(AdamProjector.Settings)
    /// A layer-wise inversion (docs/mathematics.md §10): LP, Latent-Pursuit or Layered Basis-Pursuit.
    case layerwise(LayerwiseMethod)
    /// A layer-wise ẑ refined by a few Adam steps.
    case hybrid(start: LayerwiseMethod, adam: AdamProjector.Settings)

    public enum Kind: String, CaseIterable, Codable, Sendable {
      case exact, adam, lp
      case latentPursuit = "latent-pursuit"
      case layeredBP = "layered-bp"
      case hybrid
    }

    public var kind: Kind {
      switch self {
      case .exact: return .exact
      case .adam: return .adam
      case .layerwise(.lp): return .lp
      case .layerwise(.latentPursuit): return .latentPursuit
      case .layerwise(.layeredBP): return .layeredBP
      case .hybrid: return .hybrid
      }
    }

    /// The keys each method takes, besides `method` and `mode`.
    static func keys(_ kind: Kind) -> [String] {
      switch kind {
      case .exact: return []
      case .adam: return ["steps", "learning_rate", "restarts", "lambda_z", "warm_start"]
      case .lp, .latentPursuit, .layeredBP: return LayerwiseMethodConfig.keys(kind.rawValue)
      case .hybrid: return ["start", "steps", "learning_rate", "restarts", "lambda_z"]
      }
    }
  }

  public enum Mode: String, CaseIterable, Codable, Sendable {
    /// Projection onto the normalised range; uses no ground truth.
    case cosine
    /// Target scaled by ‖image‖, as the authors' code did; leaks one scalar of the truth.
    case oracleNorm = "oracle-norm"
  }

  public var method: Method
  public var mode: Mode

  public init(method: Method, mode: Mode = .cosine) {
    self.method = method
    self.mode = mode
  }

  /// The Adam settings (the defaults for a method without them; what job keys encode for it).
  public var adam: AdamProjector.Settings {
    if case .adam(let settings) = method { return settings }
    if case .hybrid(_, let settings) = method { return settings }
    return AdamProjector.Settings()
  }

  /// The layer-wise method of a layer-wise or hybrid projection.
  public var layerwise: LayerwiseMethod? {
    switch method {
    case .layerwise(let m), .hybrid(let m, _): return m
    default: return nil
    }
  }
  public var steps: Int { adam.steps }
  public var learningRate: Double { adam.learningRate }
  public var restarts: Int { adam.restarts }
  public var lambdaZ: Double { adam.lambdaZ }
  public var warmStart: Bool { adam.warmStart }

  /// Every key a projection takes, over all methods.
  public static let keys = ["method", "mode"] + Method.Kind.allCases.flatMap { Method.keys($0) }

  package init(_ table: ConfigTable, generator: GeneratorSpec) throws(ConfigError) {
    let natural: Method.Kind = generator.architecture.kind == .linear ? .exact : .adam
    let kind: Method.Kind = try table.oneOf("method", default: natural)
    // Keys are per method: `steps` under method exact is an error, not ignored.
    try table.checkKnownKeys(allowed: ["method", "mode"] + Method.keys(kind), context: "for method \(kind.rawValue)")
    if kind == .exact && generator.architecture.kind != .linear {
      throw table.error(
        "method",
        "exact projection needs a linear generator; generator.kind \(generator.architecture.kind.rawValue) needs method adam, got exact")
    }
    mode = try table.oneOf("mode", default: Mode.cosine)
    switch kind {
    case .exact:
      method = .exact
    case .lp, .latentPursuit, .layeredBP:
      method = .layerwise(try LayerwiseMethodConfig.read(kind.rawValue, table))
    case .hybrid:
      // Adam refines a layer-wise ẑ: a few steps, one restart, a small rate near the answer.
      method = .hybrid(
        start: try LayerwiseMethodConfig.readStart(table),
        adam: AdamProjector.Settings(
          steps: try table.int("steps", default: 20, .atLeast(1)),
          learningRate: try table.double("learning_rate", default: 0.01, .greaterThan(0)),
          restarts: try table.int("restarts", default: 1, .atLeast(1)),
          lambdaZ: try table.double("lambda_z", default: 0.001, .atLeast(0))))
    case .adam:
      method = .adam(AdamProjector.Settings(
        steps: try table.int("steps", default: 100, .atLeast(1)),
        learningRate: try table.double("learning_rate", default: 0.1, .greaterThan(0)),
        restarts: try table.int("restarts", default: 3, .atLeast(1)),
        lambdaZ: try table.double("lambda_z", default: 0.001, .atLeast(0)),
        warmStart: try table.bool("warm_start", default: false)))
    }
    if let layerwise {
      // Refused at plan time, naming the layer and its activation.
      let built: BuiltGenerator
      do {
        built = try GeneratorFactory.shared.build(generator)
      } catch {
        throw table.error("method", "cannot build the generator to check it: \(error)")
      }
      if let problem = LayerwiseMethodConfig.refusal(layerwise, generator: built) {
        throw table.error("method", "projection method \(problem)")
      }
    }
  }

  // The key encoding predates per-method settings and is kept exactly (JobKeyPinTests): every
  // field, with the Adam defaults for method exact.
  private enum CodingKeys: String, CodingKey {
    case method, mode, steps
    case learningRate = "learning_rate"
    case restarts
    case lambdaZ = "lambda_z"
    case warmStart = "warm_start"
    /// Only for layer-wise and hybrid projections (added later: absent from older keys).
    case layerwise
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(method.kind, forKey: .method)
    try container.encode(mode, forKey: .mode)
    let a = adam
    try container.encode(a.steps, forKey: .steps)
    try container.encode(a.learningRate, forKey: .learningRate)
    try container.encode(a.restarts, forKey: .restarts)
    try container.encode(a.lambdaZ, forKey: .lambdaZ)
    try container.encode(a.warmStart, forKey: .warmStart)
    try container.encodeIfPresent(layerwise, forKey: .layerwise)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    mode = try container.decode(Mode.self, forKey: .mode)
    let adam = AdamProjector.Settings(
      steps: try container.decode(Int.self, forKey: .steps), learningRate: try container.decode(Double.self, forKey: .learningRate),
      restarts: try container.decode(Int.self, forKey: .restarts), lambdaZ: try container.decode(Double.self, forKey: .lambdaZ),
      warmStart: try container.decode(Bool.self, forKey: .warmStart))
    switch try container.decode(Method.Kind.self, forKey: .method) {
    case .exact: method = .exact
    case .adam: method = .adam(adam)
    case .lp, .latentPursuit, .layeredBP: method = .layerwise(try container.decode(LayerwiseMethod.self, forKey: .layerwise))
    case .hybrid: method = .hybrid(start: try container.decode(LayerwiseMethod.self, forKey: .layerwise), adam: adam)
    }
  }
}
