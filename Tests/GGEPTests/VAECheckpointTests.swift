import Foundation
import XCTest
@testable import GGEPCore
@testable import GGEPPrior
@testable import GGEPNumerics
@testable import GGEPModels
@testable import GGEPConfig
@testable import GGEPPipeline
@testable import GGEPPlot
@testable import GGEPCluster
@testable import GGEPComponents
@testable import GGEPKindGEP
@testable import GGEPKindInversion
@testable import GGEPPriors
@testable import GGEPBench
@testable import GGEPBuiltIns

/// A VAE run's per-epoch checkpoint (`VAECheckpoint`): a run killed after an epoch and started
/// again ends with bitwise the weights and losses of one that was never interrupted.
final class VAECheckpointTests: GGEPTestCase {
  static let small = VAETests.small

  private func data() -> (train: Matrix<Float>, test: Matrix<Float>) {
    VAETests.syntheticSplit(train: 240, test: 60, pixels: Self.small.input, seed: 8)
  }

  private func checkpointPath(_ name: String) -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ggep-vae-checkpoint-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: directory) }
    return directory.appendingPathComponent(name).path
  }

  /// Both schedules: 3 epochs straight through against 1 epoch, a "kill", then 1 more and
  /// another kill, then the rest (with another thread count, which must not matter either).
  func testResumeAfterAKillGivesTheUninterruptedWeights() throws {
    let (train, test) = data()
    for settings in [
      VAETrainingSettings(architecture: Self.small, epochs: 3, seed: 4, batchSize: 20, gradientShards: 1, layerPieces: 3),
      VAETrainingSettings(architecture: Self.small, epochs: 3, seed: 4, batchSize: 20, gradientShards: 2, layerPieces: nil),
    ] {
      let straight = try VAETrainer(settings, threads: 2).train(train: train, test: test)
      let path = checkpointPath("run.ckpt.h5")
      let first = try VAETrainer(settings, threads: 2).train(train: train, test: test, checkpoint: path, stopAfter: 1)
      XCTAssertEqual(first.history.count, 1)
      XCTAssertTrue(FileManager.default.fileExists(atPath: path))
      let second = try VAETrainer(settings, threads: 1).train(train: train, test: test, checkpoint: path, stopAfter: 1)
      XCTAssertEqual(second.history.map(\.epoch), [1, 2])
      var epochsSeen: [Int] = []
      let resumed = try VAETrainer(settings, threads: 2).train(train: train, test: test, checkpoint: path) { epochsSeen.append($0.epoch) }
      XCTAssertEqual(epochsSeen, [3], "only the missing epoch runs")
      XCTAssertEqual(resumed.model.checksum, straight.model.checksum, settings.scheduleDescription)
      for t in Self.small.tensors {
        XCTAssertEqual(resumed.model.tensors[t.path]!.map(\.bitPattern), straight.model.tensors[t.path]!.map(\.bitPattern), t.path)
      }
      XCTAssertEqual(resumed.history.map(\.trainLoss.bitPattern), straight.history.map(\.trainLoss.bitPattern))
      XCTAssertEqual(resumed.history.map(\.testLoss.bitPattern), straight.history.map(\.testLoss.bitPattern))
    }
  }

  /// A checkpoint of other settings or other data, or a damaged one, is refused by file name
  /// with what to do, never silently used or overwritten.
  func testForeignOrDamagedCheckpointsAreRefused() throws {
    let (train, test) = data()
    let settings = VAETrainingSettings(architecture: Self.small, epochs: 2, seed: 4, batchSize: 20, gradientShards: 1, layerPieces: 2)
    let path = checkpointPath("run.ckpt.h5")
    _ = try VAETrainer(settings).train(train: train, test: test, checkpoint: path, stopAfter: 1)
    let saved = try Data(contentsOf: URL(fileURLWithPath: path))

    func message(_ body: () throws -> Void) -> String {
      do {
        try body()
        return "no error"
      } catch {
        return "\(error)"
      }
    }
    var other = settings
    other.seed = 5
    let seed = message { _ = try VAETrainer(other).train(train: train, test: test, checkpoint: path) }
    XCTAssertTrue(seed.contains("checkpoint \(path): was written with other settings"), seed)
    let fewer = Matrix(rows: 200, cols: train.cols, storage: Array(train.storage[0..<(200 * train.cols)]))
    let rows = message { _ = try VAETrainer(settings).train(train: fewer, test: test, checkpoint: path) }
    XCTAssertTrue(rows.contains("was written for 240 training images, this run has 200"), rows)

    try saved.prefix(saved.count / 2).write(to: URL(fileURLWithPath: path))
    let truncated = message { _ = try VAETrainer(settings).train(train: train, test: test, checkpoint: path) }
    XCTAssertTrue(truncated.contains("checkpoint \(path): cannot be read"), truncated)
    XCTAssertTrue(truncated.contains("delete it to start over"), truncated)
    XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: path)).count, saved.count / 2, "a damaged checkpoint is left as it was")
  }
}
