/// Where the unit-norm signals v* come from, and how many per sweep point.
public struct SignalSpec: Codable, Hashable, Sendable {
  /// A signal source. New sources (e.g. MNIST test images) are new cases, each carrying only
  /// the parameters that make sense for it, so a parameter of one source can never be set on
  /// another.
  public enum Source: Hashable, Sendable {
    /// v* = Ĝ(z) for a random latent z: exactly in the generator's range.
    case generator
    /// A random s-sparse vector with the given support size.
    case sparse(support: Int)

    public enum Kind: String, CaseIterable, Codable, Sendable {
      case generator, sparse
    }

    public var kind: Kind {
      switch self {
      case .generator: return .generator
      case .sparse: return .sparse
      }
    }
  }

  public var source: Source
  /// Number of signals ("images") per sweep point.
  public var count: Int
  /// Seed of the signal draw; defaults to the sweep seed.
  public var seed: Int

  public init(source: Source, count: Int = 1, seed: Int) {
    self.source = source
    self.count = count
    self.seed = seed
  }

  init(_ table: ConfigTable, generator: GeneratorSpec, defaultSeed: Int) throws(ConfigError) {
    let kind: Source.Kind = try table.oneOf("source")
    var allowed = ["source", "count", "seed"]
    if kind == .sparse { allowed.append("support") }
    try table.checkKnownKeys(allowed: allowed, context: "for source \(kind.rawValue)")
    switch kind {
    case .generator:
      source = .generator
    case .sparse:
      let n = generator.n
      source = .sparse(support: try table.int("support", .within(1...n).because("generator.n = \(n)")))
    }
    count = try table.int("count", default: 1, .atLeast(1))
    seed = try table.int("seed", default: defaultSeed, .atLeast(0))
  }

  private enum CodingKeys: String, CodingKey {
    case source, support, count, seed
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(source.kind, forKey: .source)
    if case .sparse(let support) = source { try container.encode(support, forKey: .support) }
    try container.encode(count, forKey: .count)
    try container.encode(seed, forKey: .seed)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    switch try container.decode(Source.Kind.self, forKey: .source) {
    case .generator: source = .generator
    case .sparse: source = .sparse(support: try container.decode(Int.self, forKey: .support))
    }
    count = try container.decode(Int.self, forKey: .count)
    seed = try container.decode(Int.self, forKey: .seed)
  }
}

/// The generative prior G: Rᵏ → Rⁿ. Its weights come from its own seed, so every job of an
/// experiment shares one generator.
public struct GeneratorSpec: Codable, Hashable, Sendable {
  public enum Architecture: Hashable, Sendable {
    /// G(z) = W z with orthonormal W; exact projection.
    case linear
    /// k → hidden → n ReLU network with Gaussian weights.
    case reluRandom(hidden: Int)

    public enum Kind: String, CaseIterable, Codable, Sendable {
      case linear
      case reluRandom = "relu-random"
    }

    public var kind: Kind {
      switch self {
      case .linear: return .linear
      case .reluRandom: return .reluRandom
      }
    }
  }

  public var architecture: Architecture
  /// Ambient dimension.
  public var n: Int
  /// Latent dimension.
  public var k: Int
  /// Seed of the generator's weights (fixed across the jobs of an experiment).
  public var seed: Int

  public init(architecture: Architecture, n: Int, k: Int, seed: Int = 1) {
    self.architecture = architecture
    self.n = n
    self.k = k
    self.seed = seed
  }

  init(_ table: ConfigTable) throws(ConfigError) {
    let kind: Architecture.Kind = try table.oneOf("kind")
    var allowed = ["kind", "n", "k", "seed"]
    if kind == .reluRandom { allowed.append("hidden") }
    try table.checkKnownKeys(allowed: allowed, context: "for kind \(kind.rawValue)")
    n = try table.int("n", .atLeast(2))
    k = try table.int("k", .within(1...n).because("generator.n = \(n)"))
    switch kind {
    case .linear:
      architecture = .linear
    case .reluRandom:
      architecture = .reluRandom(hidden: try table.int("hidden", default: 4 * k, .atLeast(1)))
    }
    seed = try table.int("seed", default: 1, .atLeast(0))
  }

  private enum CodingKeys: String, CodingKey {
    case kind, hidden, n, k, seed
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(architecture.kind, forKey: .kind)
    if case .reluRandom(let hidden) = architecture { try container.encode(hidden, forKey: .hidden) }
    try container.encode(n, forKey: .n)
    try container.encode(k, forKey: .k)
    try container.encode(seed, forKey: .seed)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    switch try container.decode(Architecture.Kind.self, forKey: .kind) {
    case .linear: architecture = .linear
    case .reluRandom: architecture = .reluRandom(hidden: try container.decode(Int.self, forKey: .hidden))
    }
    n = try container.decode(Int.self, forKey: .n)
    k = try container.decode(Int.self, forKey: .k)
    seed = try container.decode(Int.self, forKey: .seed)
  }
}
