import GGEPCore
import GGEPPrior
import GGEPNumerics
import GGEPModels
import GGEPConfig
import GGEPPipeline
/// Which generalized eigenproblem pair (Â, B̂) a job builds (docs/mathematics.md §2).
public enum ProblemSpec: Codable, Hashable, Sendable {
  /// Eq. (24): spiked A over a covariance B = Σ.
  case spiked(Spiked)
  /// Eq. (25): phase-retrieval A with B̂ as in Eq. (24).
  case phaseRetrieval(PhaseRetrieval)
  /// docs/mathematics.md §9, Eq. (26): generative PCA, Â as in Eq. (24) with Σ = I, B̂ = Iₙ exactly.
  case gpca(GPCA)
  /// docs/mathematics.md §9, Eq. (27): generative Fisher discriminant analysis, two classes of m/2 samples.
  case gfda(GFDA)
  /// docs/mathematics.md §9, user data: Â and B̂ (and an optional truth) from the researcher's HDF5 file.
  case samples(UserDataSpec)
  /// docs/mathematics.md §9, Eqs. (28-30): generative CCA, two views of n_view = n/2 (needs a product generator).
  case gcca(GCCA)

  public struct Spiked: Hashable, Sendable {
    public var beta: Double
    public var covariance: CovarianceSpec
    /// Use the exact population pair instead of sampled matrices.
    public var population: Bool

    public init(beta: Double = 2, covariance: CovarianceSpec = .identity, population: Bool = false) {
      self.beta = beta
      self.covariance = covariance
      self.population = population
    }
  }

  public struct PhaseRetrieval: Hashable, Sendable {
    public var link: Link
    public var population: Bool

    public init(link: Link = .square, population: Bool = false) {
      self.link = link
      self.population = population
    }
  }

  public struct GPCA: Hashable, Sendable {
    public var beta: Double
    public var population: Bool

    public init(beta: Double = 2, population: Bool = false) {
      self.beta = beta
      self.population = population
    }
  }

  public struct GFDA: Hashable, Sendable {
    /// Class means ±(δ/2)·Σv*.
    public var delta: Double
    /// The within-class covariance Σ.
    public var covariance: CovarianceSpec
    public var population: Bool

    public static let defaultDelta = 2.0.squareRoot()

    public init(delta: Double = GFDA.defaultDelta, covariance: CovarianceSpec = .identity, population: Bool = false) {
      self.delta = delta
      self.covariance = covariance
      self.population = population
    }
  }

  public struct GCCA: Hashable, Sendable {
    /// The shared factor's strength: x_i = α ζ_i Σa* + L w_i.
    public var alpha2: Double
    /// `same`: b* = a*; `pair`: b* is the signal's companion (a second seeded signal).
    public var views: Views
    /// The within-view covariance Σ (the same for both views).
    public var covariance: CovarianceSpec
    public var population: Bool

    public enum Views: String, CaseIterable, Codable, Sendable {
      case same, pair
    }

    public init(alpha2: Double = 2, views: Views = .same, covariance: CovarianceSpec = .identity, population: Bool = false) {
      self.alpha2 = alpha2
      self.views = views
      self.covariance = covariance
      self.population = population
    }
  }

  /// y = (aᵀv*)² or |aᵀv*|.
  public enum Link: String, CaseIterable, Codable, Sendable {
    case square, abs
  }

  public enum Kind: String, CaseIterable, Codable, Sendable {
    case spiked
    case phaseRetrieval = "phase-retrieval"
    case gpca, gfda, samples, gcca
  }

  public var kind: Kind {
    switch self {
    case .spiked: return .spiked
    case .phaseRetrieval: return .phaseRetrieval
    case .gpca: return .gpca
    case .gfda: return .gfda
    case .samples: return .samples
    case .gcca: return .gcca
    }
  }

  public var population: Bool {
    switch self {
    case .spiked(let spiked): return spiked.population
    case .phaseRetrieval(let phase): return phase.population
    case .gpca(let gpca): return gpca.population
    case .gfda(let gfda): return gfda.population
    case .samples: return false
    case .gcca(let gcca): return gcca.population
    }
  }

  /// The short name used in plots and tables, after the paper's equation numbers:
  /// `eq24`, `eq24-toeplitz(r=0.5)`, `eq25-square`; the docs/mathematics.md §9 families by name: `gpca`,
  /// `gfda`, `gfda-toeplitz(r=0.5)`; `-pop` marks population operators.
  public var label: String {
    var label: String
    switch self {
    case .spiked(let spiked):
      label = "eq24"
      if let covariance = spiked.covariance.label { label += "-" + covariance }
    case .phaseRetrieval(let phase):
      label = "eq25-\(phase.link.rawValue)"
    case .gpca:
      label = "gpca"
    case .gfda(let gfda):
      label = "gfda"
      if let covariance = gfda.covariance.label { label += "-" + covariance }
    case .samples(let data):
      label = data.label
    case .gcca(let gcca):
      label = gcca.views == .pair ? "gcca-pair" : "gcca"
      if let covariance = gcca.covariance.label { label += "-" + covariance }
    }
    return population ? label + "-pop" : label
  }

  /// The user data, for `kind: samples`.
  public var userData: UserDataSpec? {
    if case .samples(let data) = self { return data }
    return nil
  }

  /// `n` is generator.n: user data must have that dimension (checked against the file here).
  package init(_ table: ConfigTable, n: Int) throws(ConfigError) {
    let kind: Kind = try table.oneOf("kind")
    switch kind {
    case .samples:
      self = .samples(try UserDataSpec(table, n: n))
    case .spiked:
      try table.checkKnownKeys(allowed: ["kind", "beta", "covariance", "population"], context: "for kind spiked")
      let beta = try table.double("beta", default: 2, .greaterThan(0))
      let covariance = try table["covariance"].map { value throws(ConfigError) in
        try CovarianceSpec(try value.table())
      } ?? .identity
      self = .spiked(Spiked(beta: beta, covariance: covariance, population: try table.bool("population", default: false)))
    case .phaseRetrieval:
      try table.checkKnownKeys(allowed: ["kind", "link", "population"], context: "for kind phase-retrieval")
      self = .phaseRetrieval(
        PhaseRetrieval(
          link: try table.oneOf("link", default: Link.square),
          population: try table.bool("population", default: false)))
    case .gpca:
      try table.checkKnownKeys(allowed: ["kind", "beta", "population"], context: "for kind gpca")
      self = .gpca(
        GPCA(beta: try table.double("beta", default: 2, .greaterThan(0)), population: try table.bool("population", default: false)))
    case .gfda:
      try table.checkKnownKeys(allowed: ["kind", "delta", "covariance", "population"], context: "for kind gfda")
      let delta = try table.double("delta", default: GFDA.defaultDelta, .greaterThan(0))
      let covariance = try table["covariance"].map { value throws(ConfigError) in
        try CovarianceSpec(try value.table())
      } ?? .identity
      self = .gfda(GFDA(delta: delta, covariance: covariance, population: try table.bool("population", default: false)))
    case .gcca:
      try table.checkKnownKeys(allowed: ["kind", "alpha2", "views", "covariance", "population"], context: "for kind gcca")
      let alpha2 = try table.double("alpha2", default: 2, .greaterThan(0))
      let views: GCCA.Views = try table.oneOf("views", default: .same)
      let covariance = try table["covariance"].map { value throws(ConfigError) in
        try CovarianceSpec(try value.table())
      } ?? .identity
      self = .gcca(GCCA(alpha2: alpha2, views: views, covariance: covariance, population: try table.bool("population", default: false)))
    }
  }

  /// Checks that need the experiment's m: GFDA splits m samples into two classes of m/2 and
  /// divides by m − 2, so m must be even and at least 4 (population operators use no samples).
  /// `root` is the experiment's top-level mapping; the error is reported at its `m`, which a
  /// sweep point sets to the swept value (with that value's source location).
  package func validate(m: Int, in root: ConfigTable) throws(ConfigError) {
    guard case .gfda(let gfda) = self, !gfda.population else { return }
    guard m % 2 == 0, m >= 4 else {
      throw root.error("m", "must be even and at least 4 for problem kind gfda (two classes of m/2 samples), got \(m)")
    }
  }

  private enum CodingKeys: String, CodingKey {
    case kind, beta, covariance, link, population, delta, data, alpha2, views
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(kind, forKey: .kind)
    switch self {
    case .spiked(let spiked):
      try container.encode(spiked.beta, forKey: .beta)
      try container.encode(spiked.covariance, forKey: .covariance)
    case .phaseRetrieval(let phase):
      try container.encode(phase.link, forKey: .link)
    case .gpca(let gpca):
      try container.encode(gpca.beta, forKey: .beta)
    case .gfda(let gfda):
      try container.encode(gfda.delta, forKey: .delta)
      try container.encode(gfda.covariance, forKey: .covariance)
    case .samples(let data):
      try container.encode(data, forKey: .data)
    case .gcca(let gcca):
      try container.encode(gcca.alpha2, forKey: .alpha2)
      try container.encode(gcca.views, forKey: .views)
      try container.encode(gcca.covariance, forKey: .covariance)
    }
    try container.encode(population, forKey: .population)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let population = try container.decode(Bool.self, forKey: .population)
    switch try container.decode(Kind.self, forKey: .kind) {
    case .spiked:
      self = .spiked(
        Spiked(
          beta: try container.decode(Double.self, forKey: .beta),
          covariance: try container.decode(CovarianceSpec.self, forKey: .covariance), population: population))
    case .phaseRetrieval:
      self = .phaseRetrieval(
        PhaseRetrieval(link: try container.decode(Link.self, forKey: .link), population: population))
    case .gpca:
      self = .gpca(GPCA(beta: try container.decode(Double.self, forKey: .beta), population: population))
    case .gfda:
      self = .gfda(
        GFDA(
          delta: try container.decode(Double.self, forKey: .delta),
          covariance: try container.decode(CovarianceSpec.self, forKey: .covariance), population: population))
    case .samples:
      self = .samples(try container.decode(UserDataSpec.self, forKey: .data))
    case .gcca:
      self = .gcca(
        GCCA(
          alpha2: try container.decode(Double.self, forKey: .alpha2), views: try container.decode(GCCA.Views.self, forKey: .views),
          covariance: try container.decode(CovarianceSpec.self, forKey: .covariance), population: population))
    }
  }
}

/// The covariance Σ = B of Eq. (24) with a general B.
public enum CovarianceSpec: Codable, Hashable, Sendable {
  case identity
  /// Diagonal entries drawn uniformly from [low, high].
  case diagonal(low: Double, high: Double)
  /// Σ_ij = r^|i−j|.
  case toeplitz(r: Double)
  /// Σ = I + γ w wᵀ with w a second seeded test signal.
  case spike(gamma: Double)

  public enum Kind: String, CaseIterable, Codable, Sendable {
    case identity, diagonal, toeplitz, spike
  }

  public var kind: Kind {
    switch self {
    case .identity: return .identity
    case .diagonal: return .diagonal
    case .toeplitz: return .toeplitz
    case .spike: return .spike
    }
  }

  /// `toeplitz(r=0.5)` etc.; nil for the identity, which the problem label leaves implicit.
  public var label: String? {
    switch self {
    case .identity: return nil
    case .diagonal(let low, let high):
      return "diagonal(low=\(formatConfigNumber(low)),high=\(formatConfigNumber(high)))"
    case .toeplitz(let r): return "toeplitz(r=\(formatConfigNumber(r)))"
    case .spike(let gamma): return "spike(gamma=\(formatConfigNumber(gamma)))"
    }
  }

  package init(_ table: ConfigTable) throws(ConfigError) {
    let kind: Kind = try table.oneOf("kind")
    let context = "for covariance kind \(kind.rawValue)"
    switch kind {
    case .identity:
      try table.checkKnownKeys(allowed: ["kind"], context: context)
      self = .identity
    case .diagonal:
      try table.checkKnownKeys(allowed: ["kind", "low", "high"], context: context)
      let low = try table.double("low", default: 0.5, .greaterThan(0))
      let high = try table.double("high", default: 2, ConfigCheck.atLeast(low).because("low = \(formatConfigNumber(low))"))
      self = .diagonal(low: low, high: high)
    case .toeplitz:
      try table.checkKnownKeys(allowed: ["kind", "r"], context: context)
      self = .toeplitz(r: try table.double("r", default: 0.5, .between(-1, 1)))
    case .spike:
      try table.checkKnownKeys(allowed: ["kind", "gamma"], context: context)
      self = .spike(gamma: try table.double("gamma", default: 5, .greaterThan(0)))
    }
  }

  private enum CodingKeys: String, CodingKey {
    case kind, low, high, r, gamma
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(kind, forKey: .kind)
    switch self {
    case .identity: break
    case .diagonal(let low, let high):
      try container.encode(low, forKey: .low)
      try container.encode(high, forKey: .high)
    case .toeplitz(let r): try container.encode(r, forKey: .r)
    case .spike(let gamma): try container.encode(gamma, forKey: .gamma)
    }
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    switch try container.decode(Kind.self, forKey: .kind) {
    case .identity: self = .identity
    case .diagonal:
      self = .diagonal(
        low: try container.decode(Double.self, forKey: .low), high: try container.decode(Double.self, forKey: .high))
    case .toeplitz: self = .toeplitz(r: try container.decode(Double.self, forKey: .r))
    case .spike: self = .spike(gamma: try container.decode(Double.self, forKey: .gamma))
    }
  }
}
