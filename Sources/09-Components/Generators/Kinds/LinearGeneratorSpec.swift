import GGEPConfig
import GGEPModels

/// `generator: {kind: linear, n, k, seed}`: G(z) = W z with W an n × k matrix with orthonormal
/// columns drawn from the seed; its range is a k-dimensional subspace and the projection onto
/// it is exact (docs/mathematics.md §3, §4).
public struct LinearGeneratorSpec: GeneratorComponent {
  public static let kind = "linear"
  public static let summary = "G(z) = Wz with orthonormal W drawn from the seed; exact projection"
  public static let keys = [
    DeclaredKey("n", "integer ≥ 2", "ambient dimension"),
    DeclaredKey("k", "integer in 1…n", "latent dimension"),
    DeclaredKey("seed", "integer ≥ 0", default: "1", "seed of the weights (shared by every job)"),
  ]

  public var n: Int
  public var k: Int
  public var seed: Int

  public init(n: Int, k: Int, seed: Int = 1) {
    self.n = n
    self.k = k
    self.seed = seed
  }

  public init(_ table: ConfigTable) throws(ConfigError) {
    try table.checkKnownKeys(allowed: ["kind"] + Self.keys.map(\.name), context: "for kind \(Self.kind)")
    n = try table.int("n", .atLeast(2))
    k = try table.int("k", .within(1...n).because("generator.n = \(n)"))
    seed = try table.int("seed", default: 1, .atLeast(0))
    try DrawnWeights.checkBuildable(weightBytes, table, key: "n", value: "n = \(n), k = \(k)")
  }

  public var layerWidthSum: Double { Double(k) + Double(n) }
  public var weightBytes: Double { Double(n) * Double(k) * DrawnWeights.bytesPerWeight }
  public var hasExactProjection: Bool { true }

  public func build(using factory: GeneratorFactory) throws -> BuiltGenerator {
    let (generator, basis) = try FeedForwardGenerator.linear(n: n, k: k, seed: UInt64(seed))
    return BuiltGenerator(generator: generator, exactBasis: basis)
  }
}
