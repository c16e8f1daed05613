import GGEPConfig
import GGEPModels

/// `generator: {kind: model, file}`: any ggep model file (`ModelFile`, the one model format); the
/// generator is what the file holds, a VAE's decoder or a dense generator (a trained prior, an
/// imported network). The file's content checksum is part of every job key: a retrained model
/// never resumes, or is mistaken for, another model's results.
public struct ModelFileGeneratorSpec: GeneratorComponent {
  public static let kind = "model"
  public static let summary = "a ggep model file (a trained VAE's decoder or dense generator); its checksum is in every job key"
  public static let keys = [DeclaredKey("file", "path", "the model file (HDF5, written by ggep train-generator, train-vae or convert-model)")]

  public var file: String
  public var checksum: String
  public var n: Int
  public var k: Int
  public var seed: Int { 0 }

  public init(_ table: ConfigTable) throws(ConfigError) {
    try table.checkKnownKeys(allowed: ["kind"] + Self.keys.map(\.name), context: "for kind \(Self.kind)")
    file = try table.string("file")
    let header: ModelHeader
    do {
      header = try ModelHeader.verified(file)
    } catch {
      throw table.error("file", "cannot use \(file): \(error)")
    }
    checksum = header.checksum
    n = header.outputDimension
    k = header.latentDimension
    widths = header.widths
  }

  /// The layer widths the file records (not in the key: the checksum covers them).
  private var widths: [Int]

  public var files: [(path: String, checksum: String)] { [(file, checksum)] }
  public var layerWidthSum: Double { widths.reduce(0.0) { $0 + Double($1) } }
  public var weightBytes: Double { DrawnWeights.count(widths) * 4 }

  public func build(using factory: GeneratorFactory) throws -> BuiltGenerator {
    try ModelFileGeneratorSpec.load(file, checksum: checksum)
  }

  /// The generator a model file holds, refused if the file changed since the plan.
  static func load(_ path: String, checksum: String) throws -> BuiltGenerator {
    let model = try ModelFile.load(path)
    guard model.checksum == checksum else {
      throw ModelFileError(
        file: path, object: "/",
        message: "content checksum is \(model.checksum.prefix(12))…, but the plan was made with \(checksum.prefix(12))…: the model file changed")
    }
    return BuiltGenerator(generator: model.generator, exactBasis: nil)
  }

  private enum CodingKeys: String, CodingKey { case file, checksum, n, k, seed }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(file, forKey: .file)
    try container.encode(checksum, forKey: .checksum)
    try container.encode(n, forKey: .n)
    try container.encode(k, forKey: .k)
    try container.encode(seed, forKey: .seed)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    file = try container.decode(String.self, forKey: .file)
    checksum = try container.decode(String.self, forKey: .checksum)
    n = try container.decode(Int.self, forKey: .n)
    k = try container.decode(Int.self, forKey: .k)
    widths = (try? ModelHeader.verified(file).widths) ?? [k, n]
  }

  public static func == (a: Self, b: Self) -> Bool { (a.file, a.checksum, a.n, a.k) == (b.file, b.checksum, b.n, b.k) }
  public func hash(into hasher: inout Hasher) {
    hasher.combine(file)
    hasher.combine(checksum)
  }
}
