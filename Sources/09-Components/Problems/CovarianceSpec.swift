import Foundation
import GGEPCore
import GGEPConfig
import GGEPNumerics

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

extension CovarianceSpec {
  /// Σ for one job: `diagonal` draws its entries from the job's data identity (purpose
  /// "covariance"), `spike` uses the signal's companion as its direction w.
  public func covariance(_ context: ProblemContext) throws -> Covariance {
    switch self {
    case .identity: return .identity
    case .diagonal(let low, let high):
      var rng = RandomStream(seed: UInt64(context.seed), key: context.dataKey, purpose: "covariance")
      return .diagonal((0..<context.n).map { _ in rng.uniform(low, high) })
    case .toeplitz(let r): return .toeplitz(r: r)
    case .spike(let gamma): return .spike(direction: try context.source.companion(of: context.signalIndex), gamma: gamma)
    }
  }
}
