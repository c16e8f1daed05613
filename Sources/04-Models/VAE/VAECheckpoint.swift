import Foundation
import GGEPCore
import GGEPPrior

/// A VAE training run's checkpoint (HDF5, `format` = `ggep-vae-checkpoint/1`), written atomically
/// after every epoch, so a killed run loses at most the epoch in progress and a resumed run ends
/// with bitwise the weights of an uninterrupted one:
///
///     /  attrs: format, settings (JSON, must equal the resuming run's), train_images, epoch (the
///               last one finished), history (JSON list of `VAEEpochStats`), adam_steps
///     parameters, adam_m, adam_v     float32, laid out like `VAENetwork.parameters`
///     order                          int64, the training rows' permutation after the last epoch
///                                    (each epoch shuffles the previous epoch's order)
///     random_streams                 int64, the shuffle and ε streams' xoshiro states (bit patterns)
///
/// Nothing else carries over between epochs: the gradient buffers are rewritten (or, for layer
/// pieces, left cleared) by every step, and the test evaluation draws its noise afresh.
struct VAECheckpoint {
  static let format = "ggep-vae-checkpoint/1"

  var epoch: Int
  var history: [VAEEpochStats]
  var parameters: [Float]
  var adam: (m: [Float], v: [Float], steps: Int)
  var order: [Int]
  var shuffle: RandomStream
  var noise: RandomStream

  func save(to path: String, settings: VAETrainingSettings, trainImages: Int) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let history = String(decoding: try encoder.encode(self.history), as: UTF8.self)
    let settingsJSON = String(decoding: try encoder.encode(settings), as: UTF8.self)
    try writeHDF5Atomically(to: path) { file in
      let root = file.root
      try root.setAttribute("format", Self.format)
      try root.setAttribute("settings", settingsJSON)
      try root.setAttribute("train_images", Int64(trainImages))
      try root.setAttribute("epoch", Int64(epoch))
      try root.setAttribute("history", history)
      try root.setAttribute("adam_steps", Int64(adam.steps))
      try root.write("parameters", parameters)
      try root.write("adam_m", adam.m)
      try root.write("adam_v", adam.v)
      try root.write("order", order.map { Int64($0) })
      try root.write("random_streams", (shuffle.state + noise.state).map { Int64(bitPattern: $0) })
    }
  }

  /// The checkpoint at `path`, checked against the run that resumes it. Refuses, naming the
  /// file, one written with other settings or data, or damaged.
  static func load(from path: String, settings: VAETrainingSettings, trainImages: Int, parameterCount: Int) throws -> VAECheckpoint {
    func fail(_ message: String) -> VAETrainingError { VAETrainingError(message: "checkpoint \(path): \(message)") }
    let file: HDF5File
    do { file = try HDF5File.open(path) } catch { throw fail("cannot be read (\(error)); delete it to start over") }
    defer { try? file.close() }
    let root = file.root
    do {
      guard try root.stringAttribute("format") == format else { throw fail("is not a \(format) file") }
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      let expected = String(decoding: try encoder.encode(settings), as: UTF8.self)
      let saved = try root.stringAttribute("settings")
      guard saved == expected else { throw fail("was written with other settings (\(saved)); delete it or write the model elsewhere") }
      let images = Int(try root.int64Attribute("train_images"))
      guard images == trainImages else { throw fail("was written for \(images) training images, this run has \(trainImages)") }
      let epoch = Int(try root.int64Attribute("epoch"))
      let history = try JSONDecoder().decode([VAEEpochStats].self, from: Data(try root.stringAttribute("history").utf8))
      guard history.count == epoch, epoch >= 1, epoch <= settings.epochs else {
        throw fail("epoch \(epoch) disagrees with its log of \(history.count) epochs")
      }
      func floats(_ name: String) throws -> [Float] {
        let values = try root.readFloats(name).values
        guard values.count == parameterCount else { throw fail("dataset \(name) has \(values.count) values, expected \(parameterCount)") }
        return values
      }
      let order = try root.readInt64s("order").values.map { Int($0) }
      guard order.count == trainImages, Set(order) == Set(0..<trainImages) else {
        throw fail("dataset order is not a permutation of the \(trainImages) training rows")
      }
      let streams = try root.readInt64s("random_streams").values.map { UInt64(bitPattern: $0) }
      guard streams.count == 8, let shuffle = RandomStream(state: Array(streams[0..<4])), let noise = RandomStream(state: Array(streams[4..<8])) else {
        throw fail("dataset random_streams does not hold two generator states")
      }
      return VAECheckpoint(
        epoch: epoch, history: history, parameters: try floats("parameters"),
        adam: (try floats("adam_m"), try floats("adam_v"), Int(try root.int64Attribute("adam_steps"))), order: order, shuffle: shuffle,
        noise: noise)
    } catch let error as VAETrainingError {
      throw error
    } catch {
      throw fail("is damaged (\(error)); delete it to start over")
    }
  }
}
