import GGEPConfig
import GGEPNumerics

/// `problem: {kind: gpca, beta, population}`: generative PCA, Eq. (26): Â as in Eq. (24) with
/// Σ = I, B̂ = Iₙ exactly (docs/mathematics.md §9).
public struct GPCAProblem: ProblemComponent {
  public static let kind = "gpca"
  public static let summary = "generative PCA: Â as in Eq. (24) with Σ = I, B̂ = I exactly"
  public static let keys = [
    DeclaredKey("beta", "number > 0", default: "2", "the spike's strength β"),
    DeclaredKey("population", "boolean", default: "false", "use the exact population pair instead of m samples"),
  ]

  public var beta: Double
  public var population: Bool

  public init(beta: Double = 2, population: Bool = false) {
    self.beta = beta
    self.population = population
  }

  public init(_ table: ConfigTable, n: Int) throws(ConfigError) {
    try table.checkKnownKeys(allowed: ["kind"] + Self.keys.map(\.name), context: "for kind \(Self.kind)")
    beta = try table.double("beta", default: 2, .greaterThan(0))
    population = try table.bool("population", default: false)
  }

  public var label: String { "gpca" }

  public func pair(_ context: ProblemContext) throws -> (any ProblemPair)? {
    GPCAPair(beta: beta)
  }

  private enum CodingKeys: String, CodingKey { case beta, population }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(beta, forKey: .beta)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    beta = try container.decode(Double.self, forKey: .beta)
    population = try container.decode(Bool.self, forKey: .population)
  }
}
