import GGEPConfig
import GGEPNumerics

/// `problem: {kind: phase-retrieval, link, population}`: Eq. (25), y_i = (a_iᵀv*)² or |a_iᵀv*|,
/// Â = (1/m) Σ y_i a_i a_iᵀ, B̂ as in Eq. (24) with Σ = I (docs/mathematics.md §2).
public struct PhaseRetrievalProblem: ProblemComponent {
  public static let kind = "phase-retrieval"
  public static let summary = "Eq. (25): phase-retrieval measurements y = (aᵀv*)² or |aᵀv*|"
  public static let keys = [
    DeclaredKey("link", "square | abs", default: "square", "y = (aᵀv*)² or |aᵀv*|"),
    DeclaredKey("population", "boolean", default: "false", "use the exact population pair instead of m samples"),
  ]

  /// y = (aᵀv*)² or |aᵀv*|.
  public enum Link: String, CaseIterable, Codable, Sendable {
    case square, abs
  }

  public var link: Link
  public var population: Bool

  public init(link: Link = .square, population: Bool = false) {
    self.link = link
    self.population = population
  }

  public init(_ table: ConfigTable, n: Int) throws(ConfigError) {
    try table.checkKnownKeys(allowed: ["kind"] + Self.keys.map(\.name), context: "for kind \(Self.kind)")
    link = try table.oneOf("link", default: Link.square)
    population = try table.bool("population", default: false)
  }

  public var label: String { "eq25-\(link.rawValue)" }

  public func pair(_ context: ProblemContext) throws -> (any ProblemPair)? {
    PhaseRetrievalPair(link: link == .square ? .square : .abs)
  }

  private enum CodingKeys: String, CodingKey { case link, population }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(link, forKey: .link)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    link = try container.decode(Link.self, forKey: .link)
    population = try container.decode(Bool.self, forKey: .population)
  }
}
