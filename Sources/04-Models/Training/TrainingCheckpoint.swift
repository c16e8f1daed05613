import Foundation
import GGEPCore
import GGEPPrior

/// A training run's checkpoint (HDF5, `format` = `ggep-training-checkpoint/1`), written
/// atomically after every epoch so a killed run loses at most the epoch in progress:
///
///     /  attrs: format, settings (JSON, must equal the resuming run's), epoch (the last one
///               finished), history (JSON list of `GeneratorTrainingLog`), adam_steps_g, adam_steps_d
///     generator, generator_adam_m, generator_adam_v, running_statistics      float32
///     discriminator, discriminator_adam_m, discriminator_adam_v, singular_vectors  (GAN only)
///     random_streams   int64 (the shuffle and z streams' xoshiro states, bit patterns)
extension TrainingState {
  func save(to path: String, epoch: Int) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let history = String(decoding: try encoder.encode(self.history), as: UTF8.self)
    try writeHDF5Atomically(to: path) { file in
      let root = file.root
      try root.setAttribute("format", GeneratorTrainer.checkpointFormat)
      try root.setAttribute("settings", settings.json)
      try root.setAttribute("epoch", Int64(epoch))
      try root.setAttribute("history", history)
      let g = generatorAdam.state
      try root.write("generator", generatorParameters)
      try root.write("generator_adam_m", g.m)
      try root.write("generator_adam_v", g.v)
      try root.setAttribute("adam_steps_g", Int64(g.steps))
      try root.write("running_statistics", generator.runningStatistics)
      if let discriminator, let discriminatorAdam {
        let d = discriminatorAdam.state
        try root.write("discriminator", discriminatorParameters)
        try root.write("discriminator_adam_m", d.m)
        try root.write("discriminator_adam_v", d.v)
        try root.setAttribute("adam_steps_d", Int64(d.steps))
        try root.write("singular_vectors", discriminator.singularVectors)
      }
      try root.write("random_streams", (shuffle.state + noise.state).map { Int64(bitPattern: $0) })
    }
  }

  /// Restores everything from the checkpoint at `path`; returns the last epoch it finished.
  /// Refuses (naming the file) one written with other settings, or damaged.
  mutating func restore(from path: String) throws -> Int {
    func fail(_ message: String) -> GeneratorTrainingError { GeneratorTrainingError("checkpoint \(path): \(message)") }
    let file: HDF5File
    do { file = try HDF5File.open(path) } catch { throw fail("cannot be read (\(error)); delete it to start over") }
    defer { try? file.close() }
    let root = file.root
    do {
      guard try root.stringAttribute("format") == GeneratorTrainer.checkpointFormat else { throw fail("is not a \(GeneratorTrainer.checkpointFormat) file") }
      let saved = try root.stringAttribute("settings")
      guard saved == settings.json else {
        throw fail("was written with other settings (\(saved)); delete it or write the model elsewhere")
      }
      let epoch = Int(try root.int64Attribute("epoch"))
      history = try JSONDecoder().decode([GeneratorTrainingLog].self, from: Data(try root.stringAttribute("history").utf8))
      func floats(_ name: String, _ count: Int) throws -> [Float] {
        let values = try root.readFloats(name).values
        guard values.count == count else { throw fail("dataset \(name) has \(values.count) values, expected \(count)") }
        return values
      }
      let p = generator.parameterCount
      generatorParameters = try floats("generator", p)
      generatorAdam.restore(m: try floats("generator_adam_m", p), v: try floats("generator_adam_v", p), steps: Int(try root.int64Attribute("adam_steps_g")))
      generator.restoreRunningStatistics(try floats("running_statistics", generator.runningStatistics.count))
      if var d = discriminator, let discriminatorAdam {
        let q = d.parameterCount
        discriminatorParameters = try floats("discriminator", q)
        discriminatorAdam.restore(
          m: try floats("discriminator_adam_m", q), v: try floats("discriminator_adam_v", q), steps: Int(try root.int64Attribute("adam_steps_d")))
        d.restoreSingularVectors(try floats("singular_vectors", d.singularVectors.count))
        discriminator = d
      }
      let streams = try root.readInt64s("random_streams").values.map { UInt64(bitPattern: $0) }
      guard streams.count == 8, let s = RandomStream(state: Array(streams[0..<4])), let z = RandomStream(state: Array(streams[4..<8])) else {
        throw fail("dataset random_streams does not hold two generator states")
      }
      shuffle = s
      noise = z
      guard history.count == epoch, epoch >= 1, epoch <= settings.epochs else { throw fail("epoch \(epoch) disagrees with its log of \(history.count) epochs") }
      return epoch
    } catch let error as GeneratorTrainingError {
      throw error
    } catch {
      throw fail("is damaged (\(error)); delete it to start over")
    }
  }
}
