import GGEPConfig
import GGEPModels
import GGEPPrior

/// `generator: {kind: relu-mlp, widths, activations | hidden/output, bias, seed}`: a multilayer
/// network of any widths (k first, n last) with a per-layer activation and optional biases, its
/// weights W_l ~ N(0, 1/fan_in) (and biases likewise) drawn from the seed: the random networks
/// of the inversion papers (docs/mathematics.md §10).
public struct ReLUMLPGeneratorSpec: GeneratorComponent {
  public static let kind = "relu-mlp"
  public static let summary = "a multilayer network of any widths with per-layer activations, Gaussian weights drawn from the seed"
  public static let keys = [
    DeclaredKey("widths", "list of integers ≥ 1 (k, hidden…, n)", "layer widths, the latent width k first and the output width n last"),
    DeclaredKey("activations", "list of activation names, one per layer", default: "", "each layer's activation; without it, hidden and output"),
    DeclaredKey("hidden", "activation name", default: "relu", "the hidden layers' activation when activations is not given"),
    DeclaredKey("output", "activation name", default: "relu", "the last layer's activation when activations is not given"),
    DeclaredKey("bias", "boolean", default: "false", "whether each layer has a (drawn) bias"),
    DeclaredKey("seed", "integer ≥ 0", default: "1", "seed of the weights (shared by every job)"),
  ]

  public var widths: [Int]
  public var bias: Bool
  /// Canonical activation names, one per layer.
  public var activations: [String]
  public var seed: Int

  public var n: Int { widths[widths.count - 1] }
  public var k: Int { widths[0] }

  public init(widths: [Int], bias: Bool = false, activations: [String], seed: Int = 1) {
    self.widths = widths
    self.bias = bias
    self.activations = activations
    self.seed = seed
  }

  public init(_ table: ConfigTable) throws(ConfigError) {
    try table.checkKnownKeys(allowed: ["kind"] + Self.keys.map(\.name), context: "for kind \(Self.kind)")
    widths = try table.intList("widths", .atLeast(1))
    guard widths.count >= 2 else {
      throw table.error("widths", "lists the latent width k, any hidden widths and the output width n: at least 2, got \(widths)")
    }
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
    activations = names.map { Activation(name: $0)!.name }
    bias = try table.bool("bias", default: false)
    seed = try table.int("seed", default: 1, .atLeast(0))
    try DrawnWeights.checkBuildable(weightBytes, table, key: "widths", value: "\(widths)")
  }

  public var layerWidthSum: Double { widths.reduce(0.0) { $0 + Double($1) } }
  public var weightBytes: Double { DrawnWeights.count(widths) * DrawnWeights.bytesPerWeight }

  public func build(using factory: GeneratorFactory) throws -> BuiltGenerator {
    BuiltGenerator(
      generator: FeedForwardGenerator.reluMLP(
        widths: widths, bias: bias, activations: activations.map { Activation(name: $0)! }, seed: UInt64(seed)),
      exactBasis: nil)
  }

  // n and k are in the key beside the widths, as they were before the kinds were components.
  private enum CodingKeys: String, CodingKey { case widths, bias, activations, seed, n, k }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(widths, forKey: .widths)
    try container.encode(bias, forKey: .bias)
    try container.encode(activations, forKey: .activations)
    try container.encode(n, forKey: .n)
    try container.encode(k, forKey: .k)
    try container.encode(seed, forKey: .seed)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    widths = try container.decode([Int].self, forKey: .widths)
    bias = try container.decode(Bool.self, forKey: .bias)
    activations = try container.decode([String].self, forKey: .activations)
    seed = try container.decode(Int.self, forKey: .seed)
  }
}
