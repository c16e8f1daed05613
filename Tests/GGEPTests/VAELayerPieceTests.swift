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

/// The layer-piece schedule of VAE training (`VAEPieceStep`): the whole mini-batch in every
/// GEMM, each layer's columns and weight rows cut into fixed pieces that threads share, Adam
/// fused with each weight-gradient piece.
final class VAELayerPieceTests: GGEPTestCase {
  static let small = VAETests.small

  private func data() -> (train: Matrix<Float>, test: Matrix<Float>) {
    VAETests.syntheticSplit(train: 400, test: 100, pixels: Self.small.input, seed: 5)
  }

  private func assertSameWeights(_ a: VAETrainer.Result, _ b: VAETrainer.Result, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.model.checksum, b.model.checksum, message, file: file, line: line)
    for t in Self.small.tensors {
      XCTAssertEqual(a.model.tensors[t.path]!.map(\.bitPattern), b.model.tensors[t.path]!.map(\.bitPattern), "\(message): \(t.path)", file: file, line: line)
    }
  }

  /// With one piece every GEMM is the whole-batch GEMM of the one-shard schedule, the
  /// activations and products are elementwise, β = 1 onto a cleared gradient adds to zeros, and
  /// Adam runs per piece on exactly the parameters the piece covers: so the weights after two
  /// epochs are bitwise those of `gradient_shards: 1`. This checks the schedule's whole wiring
  /// (stages, δ buffers, the head expansion, when each layer's parameters may change) against the
  /// path whose gradient the finite-difference tests check.
  func testOnePieceGivesTheOneShardWeightsBitForBit() throws {
    let (train, test) = data()
    let shard = try VAETrainer(VAETrainingSettings(architecture: Self.small, epochs: 2, seed: 9, batchSize: 20, gradientShards: 1, layerPieces: nil))
      .train(train: train, test: test)
    let piece = try VAETrainer(VAETrainingSettings(architecture: Self.small, epochs: 2, seed: 9, batchSize: 20, gradientShards: 1, layerPieces: 1))
      .train(train: train, test: test)
    assertSameWeights(shard, piece, "1 piece against 1 shard")
    XCTAssertEqual(piece.history.map(\.testLoss.bitPattern), shard.history.map(\.testLoss.bitPattern))
    // The training loss is the same sum taken row by row: equal to rounding.
    for (a, b) in zip(piece.history, shard.history) { XCTAssertEqual(a.trainLoss, b.trainLoss, accuracy: 1e-9 * b.trainLoss) }
    XCTAssertLessThan(piece.history.last!.testLoss, piece.history.first!.testLoss)
  }

  /// The piece count is a setting (part of the result), the thread count is not: 1, 2 and 3
  /// workers give bitwise the same weights and losses for 3 pieces (uneven cuts of widths 64, 48,
  /// 32, 8 and 4) and for 4. Other piece counts train the same network to within rounding.
  func testThreadCountDoesNotChangeTheWeights() throws {
    let (train, test) = data()
    var finalLosses: [Double] = []
    for pieces in [3, 4] {
      let settings = VAETrainingSettings(architecture: Self.small, epochs: 2, seed: 9, batchSize: 20, gradientShards: 1, layerPieces: pieces)
      let runs = try [1, 2, 3].map { try VAETrainer(settings, threads: $0).train(train: train, test: test) }
      for (threads, run) in zip([1, 2, 3], runs) {
        XCTAssertEqual(run.model.training?.threads, threads)
        XCTAssertEqual(run.model.training?.settings.layerPieces, pieces)
        assertSameWeights(run, runs[0], "\(pieces) pieces, \(threads) threads")
        XCTAssertEqual(run.history.map(\.trainLoss.bitPattern), runs[0].history.map(\.trainLoss.bitPattern))
        XCTAssertEqual(run.history.map(\.testLoss.bitPattern), runs[0].history.map(\.testLoss.bitPattern))
      }
      finalLosses.append(runs[0].history.last!.testLoss)
    }
    let one = try VAETrainer(VAETrainingSettings(architecture: Self.small, epochs: 2, seed: 9, batchSize: 20, gradientShards: 1, layerPieces: 1))
      .train(train: train, test: test).history.last!.testLoss
    for loss in finalLosses { XCTAssertEqual(loss, one, accuracy: 1e-3 * one) }
  }

  /// The cuts: consecutive, non-empty, covering the width, inner boundaries on multiples of 16,
  /// and never more pieces than 16-column blocks.
  func testPieceRanges() {
    XCTAssertEqual(DenseStack.pieceRanges(784, pieces: 4), [0..<192, 192..<384, 384..<576, 576..<784])
    XCTAssertEqual(DenseStack.pieceRanges(500, pieces: 2), [0..<240, 240..<500])
    XCTAssertEqual(DenseStack.pieceRanges(40, pieces: 4), [0..<16, 16..<40])
    XCTAssertEqual(DenseStack.pieceRanges(20, pieces: 4), [0..<20])
    XCTAssertEqual(DenseStack.pieceRanges(7, pieces: 1), [0..<7])
    for width in [1, 15, 16, 17, 100, 392, 513] {
      for pieces in 1...9 {
        let ranges = DenseStack.pieceRanges(width, pieces: pieces)
        XCTAssertEqual(ranges.first?.lowerBound, 0)
        XCTAssertEqual(ranges.last?.upperBound, width)
        XCTAssertLessThanOrEqual(ranges.count, pieces)
        for (a, b) in zip(ranges, ranges.dropFirst()) {
          XCTAssertEqual(a.upperBound, b.lowerBound)
          XCTAssertEqual(b.lowerBound % 16, 0)
        }
        XCTAssertTrue(ranges.allSatisfy { !$0.isEmpty })
      }
    }
  }

  /// Settings that cannot train are refused with the reason: pieces keep the whole batch in
  /// each GEMM, so they do not combine with row shards; a piece count must be 1…64.
  func testBadScheduleSettingsAreRefused() {
    let (train, _) = data()
    func message(_ settings: VAETrainingSettings) -> String {
      do {
        _ = try VAETrainer(settings).train(train: train)
        return "trained"
      } catch {
        return "\(error)"
      }
    }
    XCTAssertTrue(
      message(VAETrainingSettings(architecture: Self.small, epochs: 1, batchSize: 20, gradientShards: 2, layerPieces: 4))
        .contains("gradient shards must be 1, not 2"))
    XCTAssertTrue(
      message(VAETrainingSettings(architecture: Self.small, epochs: 1, batchSize: 20, gradientShards: 1, layerPieces: 0))
        .contains("layer pieces must be between 1 and 64, not 0"))
  }

  /// The command line: the two schedules are exclusive options, and bad values are named.
  func testTrainVAEScheduleOptions() throws {
    let both = try GGEPExecutable.run(["train-vae", "--gradient-shards", "2", "--layer-pieces", "4", "--data", "/nonexistent"])
    XCTAssertNotEqual(both.status, 0)
    XCTAssertTrue(both.stderr.contains("--gradient-shards and --layer-pieces choose different schedules"), both.stderr)
    let zero = try GGEPExecutable.run(["train-vae", "--layer-pieces", "0", "--data", "/nonexistent"])
    XCTAssertNotEqual(zero.status, 0)
    XCTAssertTrue(zero.stderr.contains("--layer-pieces must be between 1 and 64, got 0"), zero.stderr)
  }
}
