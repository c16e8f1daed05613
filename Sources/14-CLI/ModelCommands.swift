import ArgumentParser
import Foundation
import GGEPCore
import GGEPModels
import GGEPPipeline
import GGEPComponents
import GGEPPriors

/// `ggep convert-model`: rewrites a model file in the current format (`ggep-model/1`), weights
/// and checksum unchanged, so that job keys (which hold the checksum) stay the same.
struct ConvertModel: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "convert-model",
    abstract: "Rewrite a model file (e.g. a ggep-vae/1 VAE) in the current format, ggep-model/1; weights and checksum unchanged.")

  @Argument(help: "The model file to read.")
  var input: String

  @Argument(help: "Where to write it (may be the same file: the write is atomic).")
  var output: String

  func run() throws {
    let loaded = try ModelFile.load(input)
    switch loaded {
    case .vae(let model): try model.save(to: output)
    case .denseGenerator(let model): try model.save(to: output)
    }
    let again = try ModelFile.load(output)
    guard again.checksum == loaded.checksum else {
      throw UserError("convert-model: \(output) has checksum \(again.checksum), the input \(loaded.checksum); nothing should change the weights")
    }
    print("\(output): \(ModelFile.format), checksum \(loaded.checksum) (unchanged)")
  }
}
