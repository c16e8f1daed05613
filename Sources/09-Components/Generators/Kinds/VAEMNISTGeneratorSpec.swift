import GGEPConfig
import GGEPModels

/// `generator: {kind: vae-mnist, model}`: the decoder of the trained MNIST VAE in a model file
/// (docs/mathematics.md §3; docs/priors.md). The file's content checksum is part of every job
/// key: a retrained model never resumes, or is mistaken for, another model's results.
public struct VAEMNISTGeneratorSpec: GeneratorComponent {
  public static let kind = "vae-mnist"
  public static let summary = "the decoder of the trained MNIST VAE (models/mnist-vae.h5 by default)"
  /// The model file `generator.model` defaults to (relative to the working directory).
  public static let defaultModel = "models/mnist-vae.h5"
  public static let keys = [DeclaredKey("model", "path", default: defaultModel, "the VAE's model file (make model retrains it)")]

  public var model: String
  public var checksum: String
  public var n: Int
  public var k: Int
  public var seed: Int { 0 }

  public init(_ table: ConfigTable) throws(ConfigError) {
    try table.checkKnownKeys(allowed: ["kind"] + Self.keys.map(\.name), context: "for kind \(Self.kind)")
    model = try table.string("model", default: Self.defaultModel)
    let header: VAEModelHeader
    do {
      header = try VAEModelHeader.verified(model)
    } catch {
      throw table.error("model", "cannot use \(model): \(error)")
    }
    checksum = header.checksum
    n = header.outputDimension
    k = header.latentDimension
    widths = (try? ModelHeader.verified(model).widths) ?? [k, n]
  }

  /// The decoder's widths as the file records them (20-500-500-784 for the paper's VAE).
  private var widths: [Int]

  public var files: [(path: String, checksum: String)] { [(model, checksum)] }
  public var layerWidthSum: Double { widths.reduce(0.0) { $0 + Double($1) } }
  public var weightBytes: Double { DrawnWeights.count(widths) * 4 }

  public func build(using factory: GeneratorFactory) throws -> BuiltGenerator {
    try ModelFileGeneratorSpec.load(model, checksum: checksum)
  }

  private enum CodingKeys: String, CodingKey { case model, checksum, n, k, seed }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(model, forKey: .model)
    try container.encode(checksum, forKey: .checksum)
    try container.encode(n, forKey: .n)
    try container.encode(k, forKey: .k)
    try container.encode(seed, forKey: .seed)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    model = try container.decode(String.self, forKey: .model)
    checksum = try container.decode(String.self, forKey: .checksum)
    n = try container.decode(Int.self, forKey: .n)
    k = try container.decode(Int.self, forKey: .k)
    widths = (try? ModelHeader.verified(model).widths) ?? [k, n]
  }

  public static func == (a: Self, b: Self) -> Bool { (a.model, a.checksum, a.n, a.k) == (b.model, b.checksum, b.n, b.k) }
  public func hash(into hasher: inout Hasher) {
    hasher.combine(model)
    hasher.combine(checksum)
  }
}
