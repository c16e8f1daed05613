import Foundation
import GGEPCore
import GGEPPrior
import GGEPNumerics
import GGEPModels
import GGEPComponents

extension Benchmark {
  /// The PyTorch examples' DCGAN generator at its real size (nz = 100, ngf = 64, 3 × 64 × 64 =
  /// 12288), random weights: forward + pullback GFLOP/s against sgemm at a
  /// transposed convolution's shape (one row's images, and 30 rows packed), and one projection (100 Adam steps × 3 restarts), from
  /// which a PRFM job (T = 30) is 30 such projections.
  static func runConvolution(quick: Bool, report: (Line) -> Void) throws {
    var rng = RandomStream(seed: 7, key: "bench dcgan")
    var layers: [ConvolutionLayer] = []
    let channels = [100, 512, 256, 128, 64, 3]
    var size = 1
    for l in 0..<5 {
      let (cin, cout) = (channels[l], channels[l + 1])
      let (s, p) = l == 0 ? (1, 0) : (2, 1)
      layers.append(ConvolutionLayer(
        .transposed, inChannels: cin, outChannels: cout, kernel: 4, stride: s, padding: p, inSize: size,
        weights: (0..<(cin * cout * 16)).map { _ in Float(rng.normal() * 0.02) }, bias: [Float](repeating: 0, count: cout),
        activation: l == 4 ? .tanh : .relu))
      size = (size - 1) * s - 2 * p + 4
    }
    let generator = ConvolutionalGenerator(convolutions: layers, summary: "dcgan(ngf=64)")
    let flopsPerRow = 2.0 * Double(layers.map(\.multiplyAdds).reduce(0, +))
    for rows in [3, 30] {
      let ws = generator.makeWorkspace(rows: rows)
      let z = (0..<(rows * 100)).map { _ in Float(rng.normal()) }
      let g = [Float](repeating: 0.01, count: rows * generator.outputDimension)
      var dz = [Float](repeating: 0, count: rows * 100)
      let seconds = best(of: quick ? 1 : 3) {
        z.withUnsafeBufferPointer { generator.forward($0.baseAddress!, workspace: ws) }
        g.withUnsafeBufferPointer { gp in dz.withUnsafeMutableBufferPointer { generator.pullback(gp.baseAddress!, into: $0.baseAddress!, workspace: ws) } }
      }
      report(Line(
        name: "DCGAN ngf=64 forward + pullback, \(rows) rows", seconds: seconds, gflops: 2 * flopsPerRow * Double(rows) / seconds / 1e9,
        note: String(format: "%.1f ms per row", 1000 * seconds / Double(rows))))
    }
    // Each layer alone at 30 rows: where the time goes.
    for (l, layer) in layers.enumerated() {
      let single = ConvolutionalGenerator(convolutions: [layer], summary: "layer \(l + 1)")
      let rows = 30
      let ws = single.makeWorkspace(rows: rows)
      let x = (0..<(rows * single.latentDimension)).map { _ in Float(rng.normal()) }
      let g = [Float](repeating: 0.01, count: rows * single.outputDimension)
      var dx = [Float](repeating: 0, count: rows * single.latentDimension)
      let seconds = best(of: quick ? 1 : 3) {
        x.withUnsafeBufferPointer { single.forward($0.baseAddress!, workspace: ws) }
        g.withUnsafeBufferPointer { gp in dx.withUnsafeMutableBufferPointer { single.pullback(gp.baseAddress!, into: $0.baseAddress!, workspace: ws) } }
      }
      report(Line(
        name: "  layer \(l + 1): \(layer.inChannels)×\(layer.inSize)² → \(layer.outChannels)×\(layer.outSize)², 30 rows", seconds: seconds,
        gflops: 4 * Double(layer.multiplyAdds * rows) / seconds / 1e9, note: "forward + pullback"))
    }
    // sgemm at the shape of layer 3 (Cout·K² × Cin = 2048 × 256, 8 × 8 inputs), for one row's
    // images and for the 30 rows the generator packs into one GEMM.
    for rows in [1, 30] {
      let (m, n, k) = (128 * 16, rows * 8 * 8, 256)
      let a = [Float](repeating: 0.5, count: k * m), b = [Float](repeating: 0.25, count: k * n)
      var c = [Float](repeating: 0, count: m * n)
      let reps = (quick ? 10 : 50) * 30 / rows
      let seconds = best(of: quick ? 1 : 3) {
        for _ in 0..<reps { Float.gemm(true, false, m, n, k, 1, a, m, b, n, 0, &c, n) }
      }
      report(Line(
        name: "sgemm \(m)×\(k)ᵀ · \(k)×\(n) (layer 3, \(rows) row(s))", seconds: seconds / Double(reps),
        gflops: 2 * Double(m * n * k * reps) / seconds / 1e9, note: "1 thread"))
    }
    // One projection of one target at n = 12288: 100 Adam steps × 3 restarts.
    let projector = AdamProjector(generator: generator, steps: quick ? 10 : 100, restarts: 3)
    let target = Matrix(rows: 1, cols: generator.outputDimension, storage: (0..<generator.outputDimension).map { _ in rng.normal() })
    let projection = try bestThrowing(of: 1) { _ = try projector.project(target, slots: [ProjectionSlot(rng: RandomStream(seed: 1))]) }
    let perProjection = projection * (quick ? 10 : 1)
    report(Line(
      name: "DCGAN ngf=64 projection, 100 steps × 3 restarts", seconds: perProjection, gflops: nil,
      note: String(format: "a PRFM job at n = 12288 (T = 30): ≈ %.0f s", 30 * perProjection)))
  }
}
