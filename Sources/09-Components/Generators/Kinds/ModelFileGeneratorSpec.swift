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

  var fields: ModelFileFields
  public var file: String { fields.path }
  public var checksum: String { fields.checksum }
  public var n: Int { fields.n }
  public var k: Int { fields.k }
  public var seed: Int { 0 }

  public init(_ table: ConfigTable) throws(ConfigError) {
    try table.checkKnownKeys(allowed: ["kind"] + Self.keys.map(\.name), context: "for kind \(Self.kind)")
    let file = try table.string("file")
    do {
      fields = ModelFileFields(path: file, header: try ModelHeader.verified(file))
    } catch {
      throw table.error("file", "cannot use \(file): \(error)")
    }
  }

  public var files: [(path: String, checksum: String)] { [(file, checksum)] }
  public var layerWidthSum: Double { fields.layerWidthSum }
  public var weightBytes: Double { fields.weightBytes }

  public func build(using factory: GeneratorFactory) throws -> BuiltGenerator { try fields.load() }

  public func encode(to encoder: any Encoder) throws { try fields.encode(to: encoder, pathKey: "file") }
  public init(from decoder: any Decoder) throws { fields = try ModelFileFields(from: decoder, pathKey: "file") }
}
