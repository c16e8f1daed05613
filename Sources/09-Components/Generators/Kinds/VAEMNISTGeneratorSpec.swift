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

  var fields: ModelFileFields
  public var model: String { fields.path }
  public var checksum: String { fields.checksum }
  public var n: Int { fields.n }
  public var k: Int { fields.k }
  public var seed: Int { 0 }

  public init(_ table: ConfigTable) throws(ConfigError) {
    try table.checkKnownKeys(allowed: ["kind"] + Self.keys.map(\.name), context: "for kind \(Self.kind)")
    let model = try table.string("model", default: Self.defaultModel)
    do {
      // The VAE header check refuses a file that is not a VAE; the widths are the decoder's.
      _ = try VAEModelHeader.verified(model)
      fields = ModelFileFields(path: model, header: try ModelHeader.verified(model))
    } catch {
      throw table.error("model", "cannot use \(model): \(error)")
    }
  }

  public var files: [(path: String, checksum: String)] { [(model, checksum)] }
  public var layerWidthSum: Double { fields.layerWidthSum }
  public var weightBytes: Double { fields.weightBytes }

  public func build(using factory: GeneratorFactory) throws -> BuiltGenerator { try fields.load() }

  public func encode(to encoder: any Encoder) throws { try fields.encode(to: encoder, pathKey: "model") }
  public init(from decoder: any Decoder) throws { fields = try ModelFileFields(from: decoder, pathKey: "model") }
}
