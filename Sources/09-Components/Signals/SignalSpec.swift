import GGEPCore
import GGEPPrior
import GGEPConfig
import GGEPPipeline
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
    /// MNIST images (pixels in [0, 1], row-major): the given indices of a split, or a seeded
    /// random subset of `count` of them. `data` is the folder of the IDX files.
    case mnist(split: MNISTSplit, indices: [Int]?, data: String)

    public enum Kind: String, CaseIterable, Codable, Sendable {
      case generator, sparse, mnist
    }

    public enum MNISTSplit: String, CaseIterable, Codable, Sendable {
      case test, train
      public var size: Int { self == .test ? 10_000 : 60_000 }
    }

    public var kind: Kind {
      switch self {
      case .generator: return .generator
      case .sparse: return .sparse
      case .mnist: return .mnist
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

  package init(_ table: ConfigTable, generator: GeneratorSpec, defaultSeed: Int) throws(ConfigError) {
    let kind: Source.Kind = try table.oneOf("source")
    var allowed = ["source", "count", "seed"]
    switch kind {
    case .generator: break
    case .sparse: allowed.append("support")
    case .mnist: allowed += ["split", "indices", "data"]
    }
    try table.checkKnownKeys(allowed: allowed, context: "for source \(kind.rawValue)")
    switch kind {
    case .generator:
      source = .generator
      count = try table.int("count", default: 1, .atLeast(1))
    case .sparse:
      let n = generator.n
      source = .sparse(support: try table.int("support", .within(1...n).because("generator.n = \(n)")))
      count = try table.int("count", default: 1, .atLeast(1))
    case .mnist:
      guard generator.n == 784 else {
        throw table.error("source", "MNIST images have 784 pixels, but generator.n = \(generator.n)")
      }
      let split: Source.MNISTSplit = try table.oneOf("split", default: .test)
      let indices = table["indices"] == nil ? nil : try table.intList("indices", .within(0...(split.size - 1)).because("the \(split.rawValue) split has \(split.size) images"))
      if let indices {
        guard !indices.isEmpty else { throw table.error("indices", "must list at least one image index") }
        guard Set(indices).count == indices.count else { throw table.error("indices", "lists an image twice: \(indices)") }
      }
      count = try table.int("count", default: indices?.count ?? 10, .within(1...split.size).because("the \(split.rawValue) split has \(split.size) images"))
      if let indices, indices.count != count {
        throw table.error("count", "is \(count) but indices lists \(indices.count) images; give one or make them agree")
      }
      let data = try table.string("data", default: "data/mnist")
      // The split's files must be there when the plan is made, as a model file must: otherwise
      // every job would fail at run time for the same reason.
      let part: MNIST.Part = split == .test ? .test : .train
      for file in [part.files.images, part.files.labels] {
        do {
          _ = try MNIST.locate(file, in: data)
        } catch {
          throw table.error("data", "\(error)")
        }
      }
      source = .mnist(split: split, indices: indices, data: data)
    }
    seed = try table.int("seed", default: defaultSeed, .atLeast(0))
  }

  private enum CodingKeys: String, CodingKey {
    case source, support, count, seed, split, indices, data
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(source.kind, forKey: .source)
    if case .sparse(let support) = source { try container.encode(support, forKey: .support) }
    if case .mnist(let split, let indices, let data) = source {
      try container.encode(split, forKey: .split)
      try container.encodeIfPresent(indices, forKey: .indices)
      try container.encode(data, forKey: .data)
    }
    try container.encode(count, forKey: .count)
    try container.encode(seed, forKey: .seed)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    switch try container.decode(Source.Kind.self, forKey: .source) {
    case .generator: source = .generator
    case .sparse: source = .sparse(support: try container.decode(Int.self, forKey: .support))
    case .mnist:
      source = .mnist(
        split: try container.decode(Source.MNISTSplit.self, forKey: .split),
        indices: try container.decodeIfPresent([Int].self, forKey: .indices), data: try container.decode(String.self, forKey: .data))
    }
    count = try container.decode(Int.self, forKey: .count)
    seed = try container.decode(Int.self, forKey: .seed)
  }
}
