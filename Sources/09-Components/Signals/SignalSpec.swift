import GGEPCore
import GGEPPrior
import GGEPNumerics
import GGEPModels
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

/// The generative prior G: Rᵏ → Rⁿ. Its weights come from its own seed, so every job of an
/// experiment shares one generator.
public struct GeneratorSpec: Codable, Hashable, Sendable {
  public enum Architecture: Hashable, Sendable {
    /// G(z) = W z with orthonormal W; exact projection.
    case linear
    /// k → hidden → n ReLU network with Gaussian weights.
    case reluRandom(hidden: Int)
    /// The decoder of the trained MNIST VAE in an HDF5 model file. The file's content checksum
    /// is part of the spec (and so of every job key): a retrained model never resumes, or is
    /// mistaken for, another model's results.
    case vaeMNIST(model: String, checksum: String)
    /// Any model file (`ModelFile`): the generator is what the file holds — a VAE's decoder or
    /// a dense generator (a trained prior, an imported network). The checksum is in the key.
    /// Written `generator: {kind: model, file: models/gan.h5}`.
    case model(file: String, checksum: String)
    /// A multilayer network of any widths (k first, n last) with a per-layer activation and
    /// optional biases, its weights W_l ~ N(0, 1/fan_in) (and biases likewise) from the
    /// generator's seed (docs/mathematics.md §10's random nets). Written
    /// `generator: {kind: relu-mlp, widths: [20, 400, 625], activations: [relu, relu]}`.
    case reluMLP(widths: [Int], bias: Bool, activations: [String])
    /// A PyTorch generator: its state dict in a safetensors file, its modules declared in the
    /// config (`PyTorchArchitecture`). The file's SHA-256 is in the key. Written
    /// `generator: {kind: pytorch, file: G.safetensors, preset: mlp, widths: [20, 128, 784], activations: [relu, sigmoid]}`.
    case pytorch(file: String, checksum: String, architecture: PyTorchArchitecture)
    /// GCCA's product prior (docs/mathematics.md §9): (cos θ·Ĝ₁(z₁); sin θ·Ĝ₂(z₂)), two factors, each any
    /// other generator; n = n₁ + n₂, k = k₁ + k₂ + 1 (θ). Written `generator: {product: [g₁, g₂]}`.
    case product([GeneratorSpec])

    public enum Kind: String, CaseIterable, Codable, Sendable {
      case linear
      case reluRandom = "relu-random"
      case vaeMNIST = "vae-mnist"
      case model
      case reluMLP = "relu-mlp"
      case pytorch
      case product
    }

    public var kind: Kind {
      switch self {
      case .linear: return .linear
      case .reluRandom: return .reluRandom
      case .vaeMNIST: return .vaeMNIST
      case .model: return .model
      case .reluMLP: return .reluMLP
      case .pytorch: return .pytorch
      case .product: return .product
      }
    }
  }

  /// The SHA-256 of a trained generator's weights ("" for seeded ones; a product's factors,
  /// comma-separated): the `generator_checksum` column.
  public var contentChecksum: String {
    switch architecture {
    case .vaeMNIST(_, let checksum), .model(_, let checksum), .pytorch(_, let checksum, _): return checksum
    case .product(let factors): return factors.contains { !$0.contentChecksum.isEmpty } ? factors.map(\.contentChecksum).joined(separator: ",") : ""
    case .linear, .reluRandom, .reluMLP: return ""
    }
  }

  /// The factors of a product generator (empty otherwise).
  public var factors: [GeneratorSpec] {
    if case .product(let factors) = architecture { return factors }
    return []
  }

  /// The generator signals are drawn from and sized by: the first factor of a product (GCCA's
  /// view signals a*, b* have n_view entries), else the generator itself.
  public var signalGenerator: GeneratorSpec { factors.first ?? self }

  /// What the projection settings are checked against: a product of linear factors acts as
  /// linear (exact projection per factor), otherwise its first non-linear factor decides.
  package var projectionSurrogate: GeneratorSpec {
    guard case .product(let factors) = architecture else { return self }
    return factors.first { $0.architecture.kind != .linear } ?? GeneratorSpec(architecture: .linear, n: n, k: k, seed: seed)
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

  /// The model file `generator.model` defaults to (relative to the working directory).
  public static let defaultVAEModel = "models/mnist-vae.h5"

  package init(_ table: ConfigTable) throws(ConfigError) {
    if let product = table["product"] {
      try table.checkKnownKeys(allowed: ["product"], context: "for a product generator")
      let items = try product.list()
      guard items.count == 2 else {
        throw table.error("product", "the product generator takes exactly 2 factors (one per view), got \(items.count)")
      }
      var factors: [GeneratorSpec] = []
      for item in items {
        let factorTable = try item.table()
        if factorTable["product"] != nil {
          throw factorTable.error("product", "a product generator's factor cannot itself be a product")
        }
        factors.append(try GeneratorSpec(factorTable))
      }
      architecture = .product(factors)
      n = factors.reduce(0) { $0 + $1.n }
      k = factors.reduce(1) { $0 + $1.k }
      seed = 0
      return
    }
    let kind: Architecture.Kind = try table.oneOf("kind")
    guard kind != .product else {
      throw table.error("kind", "a product generator is written generator: {product: [<generator>, <generator>]}")
    }
    var allowed = ["kind", "n", "k", "seed"]
    if kind == .reluRandom { allowed.append("hidden") }
    if kind == .reluMLP {
      try table.checkKnownKeys(allowed: ["kind", "widths", "bias", "activations", "hidden", "output", "seed"], context: "for kind relu-mlp")
      let widths = try table.intList("widths", .atLeast(1))
      guard widths.count >= 2 else { throw table.error("widths", "lists the latent width k, any hidden widths and the output width n: at least 2, got \(widths)") }
      let layers = widths.count - 1
      var names: [String]
      if table["activations"] != nil {
        if table["hidden"] != nil || table["output"] != nil {
          throw table.error("activations", "give activations (one per layer) or hidden/output, not both")
        }
        names = try table.stringList("activations")
        guard names.count == layers else {
          throw table.error("activations", "has \(names.count) entries, but widths \(widths) make \(layers) layer(s)")
        }
      } else {
        let hidden = try table.string("hidden", default: "relu")
        let output = try table.string("output", default: "relu")
        names = [String](repeating: hidden, count: layers - 1) + [output]
      }
      for (i, name) in names.enumerated() where Activation(name: name) == nil {
        throw table.error(
          table["activations"] != nil ? "activations" : (i == layers - 1 ? "output" : "hidden"),
          "unknown activation \"\(name)\"; one of identity, relu, leaky-relu (slope 0.01, PyTorch's default), leaky-relu(a), softplus, sigmoid, tanh, plu")
      }
      names = names.map { Activation(name: $0)!.name }
      architecture = .reluMLP(widths: widths, bias: try table.bool("bias", default: false), activations: names)
      n = widths[widths.count - 1]
      k = widths[0]
      seed = try table.int("seed", default: 1, .atLeast(0))
      try checkBuildable(table, key: "widths", value: "\(widths)")
      return
    }
    if kind == .pytorch {
      let file = try table.string("file")
      let architecture = try Self.pytorchArchitecture(table)
      let loaded: PyTorchImport.Loaded
      do {
        loaded = try PyTorchImport.load(file, architecture: architecture)
      } catch {
        throw table.error("file", "\(error)")
      }
      Self.warnOnce(loaded.unused.isEmpty ? nil : "warning: \(file): \(loaded.unused.count) tensor(s) the architecture does not use: \(loaded.unused.joined(separator: ", "))")
      self.architecture = .pytorch(file: file, checksum: loaded.checksum, architecture: architecture)
      n = loaded.generator.outputDimension
      k = loaded.generator.latentDimension
      seed = 0
      return
    }
    if kind == .model {
      let file = try table.string("file")
      let header: ModelHeader
      do {
        header = try ModelHeader.verified(file)
      } catch {
        throw table.error("file", "cannot use \(file): \(error)")
      }
      architecture = .model(file: file, checksum: header.checksum)
      n = header.outputDimension
      k = header.latentDimension
      seed = 0
      return
    }
    if kind == .vaeMNIST { allowed = ["kind", "model"] }
    if kind == .model { allowed = ["kind", "file"] }
    try table.checkKnownKeys(allowed: allowed, context: "for kind \(kind.rawValue)")
    if kind == .vaeMNIST {
      let model = try table.string("model", default: Self.defaultVAEModel)
      let header: VAEModelHeader
      do {
        header = try VAEModelHeader.verified(model)
      } catch {
        throw table.error("model", "cannot use \(model): \(error)")
      }
      architecture = .vaeMNIST(model: model, checksum: header.checksum)
      n = header.outputDimension
      k = header.latentDimension
      seed = 0
      return
    }
    n = try table.int("n", .atLeast(2))
    k = try table.int("k", .within(1...n).because("generator.n = \(n)"))
    switch kind {
    case .linear:
      architecture = .linear
    case .reluRandom:
      architecture = .reluRandom(hidden: try table.int("hidden", default: 4 * k, .atLeast(1)))
    case .vaeMNIST, .model, .reluMLP, .pytorch, .product:
      preconditionFailure("handled above")
    }
    seed = try table.int("seed", default: 1, .atLeast(0))
    try checkBuildable(table, key: architecture.kind == .reluRandom ? "hidden" : "n", value: "n = \(n), k = \(k)")
  }

  /// Weights this process draws for a generator it builds itself (linear, relu-random,
  /// relu-mlp), in bytes at their peak: Float weights plus the Double draws they are made from
  /// (12 per weight; measured 12 on a 20-20000-625 network). Zero for generators read from a
  /// file, which are checked by their files' sizes. Double arithmetic: widths of Int64.max
  /// give a huge figure, never an overflow.
  package var drawnWeightBytes: Double {
    switch architecture {
    case .linear: return Double(n) * Double(k) * 12
    case .reluRandom(let hidden): return (Double(k) + Double(n)) * Double(hidden) * 12
    case .reluMLP(let widths, _, _): return zip(widths, widths.dropFirst()).reduce(0.0) { $0 + Double($1.0) * Double($1.1) } * 12
    default: return 0
    }
  }

  /// Refuses, before anything is allocated, a generator whose weights alone exceed the memory
  /// this machine has free: building it (which the plan does) would end the process.
  private func checkBuildable(_ table: ConfigTable, key: String, value: String) throws(ConfigError) {
    let budget = MemoryBudget.available()
    let bytes = drawnWeightBytes + MemoryEstimate.processBase
    guard bytes <= budget.bytes else {
      throw table.error(
        key, "\(value) makes a generator whose weights need about \(MemoryBudget.format(bytes)) to draw, more than the \(budget); use smaller widths")
    }
  }

  private enum CodingKeys: String, CodingKey {
    case kind, hidden, n, k, seed, model, checksum, factors, file, widths, bias, activations, architecture
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(architecture.kind, forKey: .kind)
    if case .reluRandom(let hidden) = architecture { try container.encode(hidden, forKey: .hidden) }
    if case .vaeMNIST(let model, let checksum) = architecture {
      try container.encode(model, forKey: .model)
      try container.encode(checksum, forKey: .checksum)
    }
    if case .model(let file, let checksum) = architecture {
      try container.encode(file, forKey: .file)
      try container.encode(checksum, forKey: .checksum)
    }
    if case .reluMLP(let widths, let bias, let activations) = architecture {
      try container.encode(widths, forKey: .widths)
      try container.encode(bias, forKey: .bias)
      try container.encode(activations, forKey: .activations)
    }
    if case .pytorch(let file, let checksum, let modules) = architecture {
      try container.encode(file, forKey: .file)
      try container.encode(checksum, forKey: .checksum)
      try container.encode(modules, forKey: .architecture)
    }
    if case .product(let factors) = architecture { try container.encode(factors, forKey: .factors) }
    try container.encode(n, forKey: .n)
    try container.encode(k, forKey: .k)
    try container.encode(seed, forKey: .seed)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    switch try container.decode(Architecture.Kind.self, forKey: .kind) {
    case .linear: architecture = .linear
    case .reluRandom: architecture = .reluRandom(hidden: try container.decode(Int.self, forKey: .hidden))
    case .vaeMNIST:
      architecture = .vaeMNIST(
        model: try container.decode(String.self, forKey: .model), checksum: try container.decode(String.self, forKey: .checksum))
    case .model:
      architecture = .model(file: try container.decode(String.self, forKey: .file), checksum: try container.decode(String.self, forKey: .checksum))
    case .reluMLP:
      architecture = .reluMLP(
        widths: try container.decode([Int].self, forKey: .widths), bias: try container.decode(Bool.self, forKey: .bias),
        activations: try container.decode([String].self, forKey: .activations))
    case .pytorch:
      architecture = .pytorch(
        file: try container.decode(String.self, forKey: .file), checksum: try container.decode(String.self, forKey: .checksum),
        architecture: try container.decode(PyTorchArchitecture.self, forKey: .architecture))
    case .product: architecture = .product(try container.decode([GeneratorSpec].self, forKey: .factors))
    }
    n = try container.decode(Int.self, forKey: .n)
    k = try container.decode(Int.self, forKey: .k)
    seed = try container.decode(Int.self, forKey: .seed)
  }
}
