import GGEPCore
/// What a config needs to know about a VAE model file before any job runs: that it is one,
/// its dimensions and its content checksum. `verified` reads and hashes the weights too, so
/// that a damaged model is refused when the plan is made, not by every job of the run.
public struct VAEModelHeader: Sendable {
  public let path: String
  public let checksum: String
  public let latentDimension: Int
  public let outputDimension: Int

  /// The header of a model whose weights were read, shape-checked and hashed against the
  /// recorded checksum (`VAEModel.load`); the error names the file and both checksums.
  /// Remembered by the file's stamp, since every sweep point names the same model.
  public static func verified(_ path: String) throws -> VAEModelHeader {
    let stamp = FileSystem.stamp(path)
    if let stamp, let hit = cache.get(stamp) { return hit }
    let model = try VAEModel.load(from: path)
    let header = VAEModelHeader(
      path: path, checksum: model.checksum, latentDimension: model.architecture.latent, outputDimension: model.architecture.input)
    if let stamp { cache.set(stamp, header) }
    return header
  }

  private static let cache = LockedCache<VAEModelHeader>()

  public static func read(_ path: String) throws -> VAEModelHeader {
    let file = try HDF5File.open(path)
    defer { try? file.close() }
    let root = file.root
    let format = (try? root.stringAttribute("format")) ?? "(none)"
    guard format == VAEModel.format else {
      throw HDF5Error(path: path, object: "/", message: "not a ggep VAE model (attribute format is \(format), expected \(VAEModel.format))")
    }
    let architecture = try VAEArchitecture.fromJSON(try root.stringAttribute("architecture"))
    return VAEModelHeader(
      path: path, checksum: try root.stringAttribute("checksum"), latentDimension: architecture.latent,
      outputDimension: architecture.input)
  }
}
