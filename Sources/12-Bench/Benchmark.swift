import Foundation
import GGEPCore
import GGEPPrior
import GGEPNumerics
import GGEPModels
import GGEPComponents

/// `ggep bench`: the figures the speed targets are stated in (docs/performance.md).
///
/// The projection's cost is the decoder's: forward + pullback of a 20-500-500-784 network is
/// 4·rows·(20·500 + 500·500 + 500·784) ≈ 2.61 MFLOP per row per Adam step, so one PRFM job on one
/// image (T = 30, 100 steps × 3 restarts) is ≈ 23.5 GFLOP. The network here has the VAE
/// decoder's shapes and activations with random weights: the arithmetic, not the values, is
/// what is timed.
public enum Benchmark {
  public struct Line: Sendable {
    public var name: String
    public var seconds: Double
    public var gflops: Double?
    public var note: String
  }

  public static let decoderWidths = [20, 500, 500, 784]

  public static func decoderShapedGenerator(seed: UInt64 = 1) -> FeedForwardGenerator {
    var rng = RandomStream(seed: seed, key: "benchmark decoder")
    let widths = decoderWidths
    var layers: [DenseLayer] = []
    for l in 0..<(widths.count - 1) {
      let (i, o) = (widths[l], widths[l + 1])
      let bound = (6 / Double(i + o)).squareRoot()  // Xavier uniform, as the VAE is initialised
      layers.append(DenseLayer(
        weights: Matrix(rows: i, cols: o, storage: (0..<(i * o)).map { _ in rng.uniform(-bound, bound) }).asFloat,
        bias: [Float](repeating: 0, count: o), activation: l == widths.count - 2 ? .sigmoid : .softplus))
    }
    return FeedForwardGenerator(layers: layers, summary: "decoder-shaped(20-500-500-784)")
  }

  /// Flops of one forward + pullback per row.
  public static var flopsPerRowStep: Double {
    4 * zip(decoderWidths, decoderWidths.dropFirst()).reduce(0.0) { $0 + Double($1.0 * $1.1) }
  }

  /// The parts of the benchmark, in the order they run (`ggep bench --only dcgan`).
  public enum Section: String, CaseIterable, Sendable {
    case sgemm, projection, prfm, inversion, dcgan, vae
  }

  public static func run(quick: Bool = false, sections: Set<Section> = Set(Section.allCases), report: (Line) -> Void) throws {
    BLASThreads.set(1)
    let repeats = quick ? 1 : 3

    // 1. sgemm at the decoder's widest shape, for the batch sizes the projection uses.
    for rows in [3, 30, 90] where sections.contains(.sgemm) {
      let a = [Float](repeating: 0.5, count: rows * 500)
      let b = [Float](repeating: 0.25, count: 500 * 784)
      var c = [Float](repeating: 0, count: rows * 784)
      let reps = max(20, 20_000 / rows) / (quick ? 4 : 1)
      let seconds = best(of: repeats) {
        a.withUnsafeBufferPointer { pa in
          b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
              for _ in 0..<reps {
                Float.gemm(false, false, rows, 784, 500, 1, pa.baseAddress!, 500, pb.baseAddress!, 784, 0, pc.baseAddress!, 784)
              }
            }
          }
        }
      }
      let flops = 2.0 * Double(rows * 500 * 784 * reps)
      report(Line(name: "sgemm \(rows)×500 · 500×784", seconds: seconds / Double(reps), gflops: flops / seconds / 1e9, note: "1 thread"))
    }

    // 2. One projection (100 Adam steps, 3 restarts) of 1, 10 and 30 targets in one batch.
    let generator = decoderShapedGenerator()
    let projector = AdamProjector(generator: generator, steps: 100, restarts: 3)
    for targets in [1, 10, 30] where sections.contains(.projection) {
      var rng = RandomStream(seed: 2, key: "bench targets")
      let x = Matrix(rows: targets, cols: 784, storage: (0..<(targets * 784)).map { _ in rng.uniform() })
      var seconds = 0.0
      seconds = try bestThrowing(of: repeats) {
        _ = try projector.project(x, slots: (0..<targets).map { ProjectionSlot(rng: RandomStream(seed: UInt64($0))) })
      }
      let rows = Double(targets * 3)
      let flops = flopsPerRowStep * rows * 100
      report(Line(
        name: "projection, \(targets) target(s) × 3 restarts", seconds: seconds, gflops: flops / seconds / 1e9,
        note: String(format: "%.1f ms per target; ×30 iterations = %.2f s per image-job", 1000 * seconds / Double(targets), 30 * seconds / Double(targets))))
    }

    // 3. A whole PRFM job on Eq. (24), m = 300, T = 30: alone, and batched over 10 images.
    for images in [1, 10] where sections.contains(.prfm) {
      var instances: [ProblemInstance] = []
      let source = try SignalSource(spec: SignalSpec(source: .generator, count: images, seed: 3), generator: generator)
      for i in 0..<images {
        var rng = RandomStream(seed: 4, key: "bench data \(i)")
        instances.append(SpikedCovariancePair(beta: 2).sample(signal: try source.signal(i).unit, m: 300, rng: &rng))
      }
      let seconds = best(of: quick ? 1 : 2) {
        var rng = RandomStream(seed: 0)
        _ = LockstepSolver(solver: PRFM(eta: 0.2), iterations: 30, tolerance: 0).run(
          instances, initial: instances.map { _ in InitialVector.ones.vector(dimension: 784, rng: &rng) }, projector: projector,
          slots: (0..<images).map { ProjectionSlot(rng: RandomStream(seed: UInt64($0))) })
      }
      let flops = flopsPerRowStep * 3 * 100 * 30 * Double(images)
      report(Line(
        name: "PRFM job, eq24 m=300 T=30, \(images) image(s) batched", seconds: seconds, gflops: flops / seconds / 1e9,
        note: String(format: "%.3f s per image-job", seconds / Double(images))))
    }

    // 4. Inversion methods and layer-wise projectors (docs/mathematics.md §10).
    if sections.contains(.inversion) { try runInversion(quick: quick, report: report) }

    // 5. The DCGAN generator of the paper's appendix E.
    if sections.contains(.dcgan) { try runConvolution(quick: quick, report: report) }

    // 6. VAE training steps in each schedule (the MNIST VAE prior).
    if sections.contains(.vae) { try runVAE(quick: quick, report: report) }
  }

  static func best(of repeats: Int, _ body: () -> Void) -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
      let start = DispatchTime.now().uptimeNanoseconds
      body()
      best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return best
  }

  static func bestThrowing(of repeats: Int, _ body: () throws -> Void) throws -> Double {
    var best = Double.infinity
    for _ in 0..<repeats {
      let start = DispatchTime.now().uptimeNanoseconds
      try body()
      best = min(best, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return best
  }
}
