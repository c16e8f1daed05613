import GGEPNumerics
import GGEPConfig

/// `algorithm: {kind: rifle, s, eta | eta_lambda1, eta_prime}`: the truncated Rayleigh flow of
/// Tan et al. (docs/mathematics.md §5), the sparse baseline: keeps the s largest entries (per
/// view under gcca) instead of projecting onto the range.
public struct RifleSpec: AlgorithmComponent {
  public static let kind = "rifle"
  public static let summary = "truncated Rayleigh flow (Tan et al.), the sparse baseline: keeps s entries, no projection"
  public static let keys =
    StepSize.declaredKeys(fallback: 0.2)
    + [
      DeclaredKey("s", "integer in 1 … n", default: nil, "entries kept (per view under gcca); the label is Rifle<s>"),
      DeclaredKey("eta_prime", "number > 0", default: "", "η′ (default η·λ1 of the instance); required with problem kind samples"),
    ]

  public var eta: StepSize
  public var s: Int
  /// nil: η·λ1 of the instance, computed where the problem's λ1 is known.
  public var etaPrime: Double?

  public init(eta: StepSize, s: Int, etaPrime: Double?) {
    self.eta = eta
    self.s = s
    self.etaPrime = etaPrime
  }

  public init(_ table: ConfigTable, n: Int) throws(ConfigError) {
    eta = try StepSize.read(table, fallback: 0.2)
    s = try table.int("s", .within(1...n).because("generator.n = \(n)"))
    etaPrime = try table.optionalDouble("eta_prime", .greaterThan(0))
  }

  private enum CodingKeys: String, CodingKey {
    case s
    case etaPrime = "eta_prime"
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    eta = try StepSize.decodeStep(from: decoder)
    s = try container.decode(Int.self, forKey: .s)
    etaPrime = try container.decodeIfPresent(Double.self, forKey: .etaPrime)
  }

  public func encode(to encoder: any Encoder) throws {
    try eta.encodeStep(to: encoder)
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(s, forKey: .s)
    try container.encodeIfPresent(etaPrime, forKey: .etaPrime)
  }

  public var label: String { "Rifle\(s)" }
  public var step: StepSize? { eta }
  public func with(step: StepSize) -> RifleSpec { RifleSpec(eta: step, s: s, etaPrime: etaPrime) }

  public func refusal(viewN: Int) -> (key: String, message: String)? {
    s > viewN ? ("s", "must be at most n_view = \(viewN) for problem kind gcca (Rifle keeps s entries per view), got \(s)") : nil
  }

  public func refusalWithoutLambda1() -> (key: String, message: String)? {
    if etaPrime == nil {
      return ("eta_prime", "rifle on kind samples needs algorithm.eta_prime (its default η·λ1 uses the population λ1, which user data do not have)")
    }
    if case .perLambda1 = eta {
      return ("eta_lambda1", "a step given as η·λ1 needs the population λ1, which user data (kind samples) do not have; give eta")
    }
    return nil
  }

  public func solver(perView: Int?) -> any EigenSolver { Rifle(sparsity: s, step: eta, etaPrime: etaPrime, perView: perView) }
}
