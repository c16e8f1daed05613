import GGEPPrior
import GGEPNumerics
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
