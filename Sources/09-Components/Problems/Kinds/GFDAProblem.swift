import GGEPConfig
import GGEPNumerics

/// `problem: {kind: gfda, delta, covariance, population}`: generative Fisher discriminant
/// analysis, Eq. (27): two classes of m/2 samples with means ±(δ/2)·Σv* and within-class
/// covariance Σ (docs/mathematics.md §9).
public struct GFDAProblem: ProblemComponent {
  public static let kind = "gfda"
  public static let summary = "generative Fisher discriminant analysis: two classes of m/2 samples"
  public static let defaultDelta = 2.0.squareRoot()
  public static let keys = [
    DeclaredKey("delta", "number > 0", default: "1.4142135623730951", "class means ±(δ/2)·Σv*"),
    DeclaredKey("covariance", "a covariance (identity, diagonal, toeplitz, spike)", default: "{kind: identity}", "the within-class covariance Σ"),
    DeclaredKey("population", "boolean", default: "false", "use the exact population pair instead of m samples"),
  ]

  /// Class means ±(δ/2)·Σv*.
  public var delta: Double
  /// The within-class covariance Σ.
  public var covariance: CovarianceSpec
  public var population: Bool

  public init(delta: Double = GFDAProblem.defaultDelta, covariance: CovarianceSpec = .identity, population: Bool = false) {
    self.delta = delta
    self.covariance = covariance
    self.population = population
  }

  public init(_ table: ConfigTable, n: Int) throws(ConfigError) {
    try table.checkKnownKeys(allowed: ["kind"] + Self.keys.map(\.name), context: "for kind \(Self.kind)")
    delta = try table.double("delta", default: Self.defaultDelta, .greaterThan(0))
    covariance = try readCovariance(table)
    population = try table.bool("population", default: false)
  }

  public var label: String { "gfda" + (covariance.label.map { "-" + $0 } ?? "") }

  /// Two classes of m/2 samples, divided by m − 2: m even and at least 4 (a population pair
  /// uses no samples).
  public func validate(m: Int, in root: ConfigTable) throws(ConfigError) {
    guard !population else { return }
    guard m % 2 == 0, m >= 4 else {
      throw root.error("m", "must be even and at least 4 for problem kind gfda (two classes of m/2 samples), got \(m)")
    }
  }

  public func pair(_ context: ProblemContext) throws -> (any ProblemPair)? {
    GFDAPair(delta: delta, covariance: try covariance.covariance(context))
  }

  private enum CodingKeys: String, CodingKey { case delta, covariance, population }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(delta, forKey: .delta)
    try container.encode(covariance, forKey: .covariance)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    delta = try container.decode(Double.self, forKey: .delta)
    covariance = try container.decode(CovarianceSpec.self, forKey: .covariance)
    population = try container.decode(Bool.self, forKey: .population)
  }
}
