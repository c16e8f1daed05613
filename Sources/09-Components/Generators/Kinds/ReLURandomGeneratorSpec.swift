import GGEPConfig
import GGEPModels

/// `generator: {kind: relu-random, n, k, hidden, seed}`: a k → hidden → n ReLU network with
/// Gaussian weights drawn from the seed (docs/mathematics.md §3).
public struct ReLURandomGeneratorSpec: GeneratorComponent {
  public static let kind = "relu-random"
  public static let summary = "a k → hidden → n ReLU network with Gaussian weights drawn from the seed"
  public static let keys = [
    DeclaredKey("n", "integer ≥ 2", "ambient dimension"),
    DeclaredKey("k", "integer in 1…n", "latent dimension"),
    DeclaredKey("hidden", "integer ≥ 1", default: "4k", "width of the hidden layer"),
    DeclaredKey("seed", "integer ≥ 0", default: "1", "seed of the weights (shared by every job)"),
  ]

  public var n: Int
  public var k: Int
  public var hidden: Int
  public var seed: Int

  public init(n: Int, k: Int, hidden: Int, seed: Int = 1) {
    self.n = n
    self.k = k
    self.hidden = hidden
    self.seed = seed
  }

  public init(_ table: ConfigTable) throws(ConfigError) {
    try table.checkKnownKeys(allowed: ["kind"] + Self.keys.map(\.name), context: "for kind \(Self.kind)")
    n = try table.int("n", .atLeast(2))
    k = try table.int("k", .within(1...n).because("generator.n = \(n)"))
    hidden = try table.int("hidden", default: 4 * k, .atLeast(1))
    seed = try table.int("seed", default: 1, .atLeast(0))
    try DrawnWeights.checkBuildable(weightBytes, table, key: "hidden", value: "n = \(n), k = \(k)")
  }

  public var layerWidthSum: Double { Double(k) + Double(hidden) + Double(n) }
  public var weightBytes: Double { (Double(k) + Double(n)) * Double(hidden) * DrawnWeights.bytesPerWeight }

  public func build(using factory: GeneratorFactory) throws -> BuiltGenerator {
    BuiltGenerator(generator: FeedForwardGenerator.reluRandom(n: n, k: k, hidden: hidden, seed: UInt64(seed)), exactBasis: nil)
  }
}
