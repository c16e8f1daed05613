import GGEPConfig
import GGEPNumerics

/// `problem: {kind: spiked, beta, covariance, population}`: Eq. (24), the spiked covariance
/// model x_i = √β z_i Σv* + w_i, w_i ~ N(0, Σ), Â = (1/m) Σ x_i x_iᵀ, B̂ the sample covariance
/// of fresh draws of Σ (docs/mathematics.md §2).
public struct SpikedProblem: ProblemComponent {
  public static let kind = "spiked"
  public static let summary = "Eq. (24): spiked samples over a covariance B = Σ"
  public static let keys = [
    DeclaredKey("beta", "number > 0", default: "2", "the spike's strength β"),
    DeclaredKey("covariance", "a covariance (identity, diagonal, toeplitz, spike)", default: "{kind: identity}", "Σ = B"),
    DeclaredKey("population", "boolean", default: "false", "use the exact population pair instead of m samples"),
  ]

  public var beta: Double
  public var covariance: CovarianceSpec
  public var population: Bool

  public init(beta: Double = 2, covariance: CovarianceSpec = .identity, population: Bool = false) {
    self.beta = beta
    self.covariance = covariance
    self.population = population
  }

  public init(_ table: ConfigTable, n: Int) throws(ConfigError) {
    try table.checkKnownKeys(allowed: ["kind"] + Self.keys.map(\.name), context: "for kind \(Self.kind)")
    beta = try table.double("beta", default: 2, .greaterThan(0))
    covariance = try readCovariance(table)
    population = try table.bool("population", default: false)
  }

  public var label: String { "eq24" + (covariance.label.map { "-" + $0 } ?? "") }

  public func pair(_ context: ProblemContext) throws -> (any ProblemPair)? {
    SpikedCovariancePair(beta: beta, covariance: try covariance.covariance(context))
  }

  private enum CodingKeys: String, CodingKey { case beta, covariance, population }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(beta, forKey: .beta)
    try container.encode(covariance, forKey: .covariance)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    beta = try container.decode(Double.self, forKey: .beta)
    covariance = try container.decode(CovarianceSpec.self, forKey: .covariance)
    population = try container.decode(Bool.self, forKey: .population)
  }
}
