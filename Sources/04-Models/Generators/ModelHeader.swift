import GGEPCore

/// What a config needs to know about a model file before any job runs: that it is one, the
/// dimensions of the generator it makes, and its weights' checksum. `verified` reads and hashes
/// the weights, so that a damaged model is refused when the plan is made, not by every job.
public struct ModelHeader: Sendable {
  public let path: String
  /// `vae` or `dense-generator` (`ModelFile`).
  public let model: String
  public let checksum: String
  public let latentDimension: Int
  public let outputDimension: Int
  /// The generator's layer widths, input first (for memory estimates).
  public let widths: [Int]

  /// The header of a model whose weights were read, shape-checked and hashed against the
  /// recorded checksum (`ModelFile.load`); the error names the file and both checksums.
  /// Remembered by the file's stamp, since every sweep point names the same model.
  public static func verified(_ path: String) throws -> ModelHeader {
    let stamp = FileSystem.stamp(path)
    if let stamp, let hit = cache.get(stamp) { return hit }
    let loaded = try ModelFile.load(path)
    let generator = loaded.generator
    let model: String
    switch loaded {
    case .vae: model = "vae"
    case .denseGenerator: model = DenseGeneratorModel.kind
    }
    let header = ModelHeader(
      path: path, model: model, checksum: loaded.checksum, latentDimension: generator.latentDimension,
      outputDimension: generator.outputDimension, widths: generator.stack.widths)
    if let stamp { cache.set(stamp, header) }
    return header
  }

  private static let cache = LockedCache<ModelHeader>()
}

public typealias VAEModelHeader = ModelHeader
