import GGEPConfig
import GGEPNumerics

/// `problem: {kind: gcca, alpha2, views, covariance, population}`: generative CCA, Eqs. (28–30):
/// two views of n_view = n/2 sharing one factor, x_i = α ζ_i Σa* + L w_i (docs/mathematics.md
/// §9). Needs a product generator; the GEP kind builds its pair from the view signals a*, b*.
public struct GCCAProblem: ProblemComponent {
  public static let kind = "gcca"
  public static let summary = "generative CCA: two views sharing one factor (needs a product generator)"
  public static let keys = [
    DeclaredKey("alpha2", "number > 0", default: "2", "the shared factor's strength α²"),
    DeclaredKey("views", "same | pair", default: "same", "b* = a* (same) or the signal's companion (pair)"),
    DeclaredKey("covariance", "a covariance (identity, diagonal, toeplitz, spike)", default: "{kind: identity}", "the within-view covariance Σ"),
    DeclaredKey("population", "boolean", default: "false", "use the exact population pair instead of m samples"),
  ]

  public enum Views: String, CaseIterable, Codable, Sendable {
    case same, pair
  }

  /// The shared factor's strength: x_i = α ζ_i Σa* + L w_i.
  public var alpha2: Double
  /// `same`: b* = a*; `pair`: b* is the signal's companion (a second seeded signal).
  public var views: Views
  /// The within-view covariance Σ (the same for both views).
  public var covariance: CovarianceSpec
  public var population: Bool

  public init(alpha2: Double = 2, views: Views = .same, covariance: CovarianceSpec = .identity, population: Bool = false) {
    self.alpha2 = alpha2
    self.views = views
    self.covariance = covariance
    self.population = population
  }

  public init(_ table: ConfigTable, n: Int) throws(ConfigError) {
    try table.checkKnownKeys(allowed: ["kind"] + Self.keys.map(\.name), context: "for kind \(Self.kind)")
    alpha2 = try table.double("alpha2", default: 2, .greaterThan(0))
    views = try table.oneOf("views", default: .same)
    covariance = try readCovariance(table)
    population = try table.bool("population", default: false)
  }

  public var label: String { (views == .pair ? "gcca-pair" : "gcca") + (covariance.label.map { "-" + $0 } ?? "") }

  /// The kind builds the pair from the view signals a*, b* (`GCCAPair`).
  public func pair(_ context: ProblemContext) throws -> (any ProblemPair)? { nil }

  private enum CodingKeys: String, CodingKey { case alpha2, views, covariance, population }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(alpha2, forKey: .alpha2)
    try container.encode(views, forKey: .views)
    try container.encode(covariance, forKey: .covariance)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    alpha2 = try container.decode(Double.self, forKey: .alpha2)
    views = try container.decode(Views.self, forKey: .views)
    covariance = try container.decode(CovarianceSpec.self, forKey: .covariance)
    population = try container.decode(Bool.self, forKey: .population)
  }
}
