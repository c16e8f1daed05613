import Foundation
import GGEPCore
import GGEPModels

extension Benchmark {
  /// VAE training (docs/mathematics.md §3's 784-500-500-20 VAE, mini-batch 100) in each schedule on all cores:
  /// the second of two epochs over random pixels, with no test set, so the line is the training
  /// step alone. The
  /// flops of a step are forward + weight gradients + input gradients (none for the first
  /// layer): 2·B·(3·Σ in·out − 784·500) ≈ 7.1 MFLOP per image, 426 GFLOP per 60 000-image epoch;
  /// the test evaluation adds 10 000 forwards (26 GFLOP) per epoch.
  static func runVAE(quick: Bool, report: (Line) -> Void) throws {
    let a = VAEArchitecture.mnist
    let widths = [a.input] + a.encoderHidden + [2 * a.latent] + [a.latent] + a.decoderHidden + [a.input]
    let macs = zip(widths, widths.dropFirst()).enumerated().filter { $0.offset != a.encoderHidden.count + 1 }
      .reduce(0.0) { $0 + Double($1.element.0 * $1.element.1) }
    let flopsPerImage = 2 * (3 * macs - Double(a.input * a.encoderHidden[0]))
    let rows = quick ? 2_000 : 6_000
    var rng = RandomStream(seed: 5, key: "bench vae images")
    let images = Matrix(rows: rows, cols: a.input, storage: (0..<(rows * a.input)).map { _ in Float(rng.uniform()) })
    let threads = ProcessInfo.processInfo.activeProcessorCount
    for settings in [VAETrainingSettings.rowShards(2, epochs: 2), VAETrainingSettings(epochs: 2, layerPieces: 2), VAETrainingSettings(epochs: 2)] {
      // The second epoch's time: the steps alone, without the setup (initial weights, buffers).
      var seconds = Double.infinity
      for _ in 0..<(quick ? 1 : 3) {
        seconds = min(seconds, try VAETrainer(settings, threads: threads).train(train: images).history[1].seconds)
      }
      let steps = Double(rows / settings.batchSize)
      let epoch = seconds / steps * 600
      report(Line(
        name: "VAE training step, batch 100, " + (settings.layerPieces.map { "\($0) layer pieces" } ?? "\(settings.gradientShards) gradient shards"),
        seconds: seconds / steps,
        gflops: flopsPerImage * Double(rows) / seconds / 1e9,
        note: String(format: "%d threads; 600 steps = %.2f s per epoch, %.0f s per 20 (+ test evaluation)", threads, epoch, 20 * epoch)))
    }
  }
}
