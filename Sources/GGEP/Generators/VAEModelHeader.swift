/// What a config needs to know about a VAE model file before any job runs: that it is one,
/// its dimensions and its content checksum — read from the root attributes alone, without
/// loading the weights (`VAEModel.load` checks those, shapes and checksum, when a job starts).
public struct VAEModelHeader: Sendable {
  public let path: String
  public let checksum: String
  public let latentDimension: Int
  public let outputDimension: Int

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
