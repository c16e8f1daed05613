#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif
import GGEPCore
import GGEPPrior

/// The approximate projection of docs/mathematics.md §4: ẑ by Adam on z, restarts in one batch.
///
///     cosine:       L(z) = ‖Ĝ(z) − t‖² + λ_z‖z‖²,        t = x/‖x‖
///                   ∂L/∂G = −2 (t − ⟨Ĝ, t⟩ Ĝ) / ‖G‖
///     oracle-norm:  L(z) = ‖G(z) − c·t‖² + λ_z‖z‖²,     c = ‖image‖ (leaks one scalar of the truth)
///                   ∂L/∂G = 2 (G − c·t)
///     ∂L/∂z = (∂G/∂z)ᵀ ∂L/∂G + 2 λ_z z
///
/// All restarts of all targets form one batch of rows (row = target·R + restart), so each Adam
/// step is one forward and one pullback of the generator on that batch: one GEMM per dense layer each
/// way. The restart with the lowest final loss wins; the output is Ĝ(ẑ).
public struct AdamProjector: Projector {
  public enum ScaleMode: String, Sendable, Codable, CaseIterable {
    case cosine
    case oracleNorm = "oracle-norm"
  }

  /// The Adam projection's own settings (docs/mathematics.md §4): what a config's `projection: {method: adam}`
  /// sets beyond the target's scale mode.
  public struct Settings: Hashable, Sendable, Codable {
    public var steps: Int
    public var learningRate: Double
    public var restarts: Int
    public var lambdaZ: Double
    /// Start the first restart from the previous iteration's ẑ.
    public var warmStart: Bool

    public init(steps: Int = 100, learningRate: Double = 0.1, restarts: Int = 3, lambdaZ: Double = 0.001, warmStart: Bool = false) {
      self.steps = steps
      self.learningRate = learningRate
      self.restarts = restarts
      self.lambdaZ = lambdaZ
      self.warmStart = warmStart
    }
  }

  public let generator: any Generator
  public let mode: ScaleMode
  public let steps: Int
  public let learningRate: Float
  public let restarts: Int
  public let lambdaZ: Float
  public let warmStart: Bool
  public let beta1: Float = 0.9
  public let beta2: Float = 0.999
  public let epsilon: Float = 1e-8

  public init(
    generator: any Generator, mode: ScaleMode = .cosine, steps: Int = 100, learningRate: Double = 0.1,
    restarts: Int = 3, lambdaZ: Double = 0.001, warmStart: Bool = false
  ) {
    precondition(steps >= 1 && restarts >= 1)
    self.generator = generator
    self.mode = mode
    self.steps = steps
    self.learningRate = Float(learningRate)
    self.restarts = restarts
    self.lambdaZ = Float(lambdaZ)
    self.warmStart = warmStart
  }

  public init(generator: any Generator, mode: ScaleMode, settings s: Settings) {
    self.init(
      generator: generator, mode: mode, steps: s.steps, learningRate: s.learningRate, restarts: s.restarts, lambdaZ: s.lambdaZ,
      warmStart: s.warmStart)
  }

  public var dimension: Int { generator.outputDimension }
  public var summary: String {
    "adam(mode=\(mode.rawValue),steps=\(steps),lr=\(learningRate),restarts=\(restarts),lambda_z=\(lambdaZ),warm_start=\(warmStart))"
  }

  /// What the projector keeps per target: ẑ of the previous projection, for `warm_start`.
  public final class State: ProjectorState {
    public var previousLatent: [Float]?
  }

  public func projectRows(_ targets: Matrix<Double>, slots: [ProjectionSlot]) -> ProjectionOutcome {
    let (p, n, k, R) = (targets.rows, generator.outputDimension, generator.latentDimension, restarts)
    precondition(targets.cols == n && slots.count == p)
    let rows = p * R
    let states = slots.map { $0.state { State() } }
    var failures: [Int: ProjectionError] = [:]

    // Unit targets t (Float) and per-row scale c (1 in cosine mode). A target that cannot be
    // used fails its own row; it stays in the batch as a zero target, so the batch's shape (and
    // so every other row's arithmetic) is what it would have been.
    var t = [Float](repeating: 0, count: p * n)
    var scale = [Float](repeating: 1, count: p)
    for i in 0..<p {
      let x = targets.row(i)
      let xNorm = dot(x, x).squareRoot()
      guard xNorm > 0, xNorm.isFinite else {
        failures[i] = ProjectionError(message: "the target is zero or not finite")
        continue
      }
      for (j, v) in x.enumerated() { t[i * n + j] = Float(v / xNorm) }
      if mode == .oracleNorm {
        guard let c = slots[i].oracleScale else {
          failures[i] = ProjectionError(message: "oracle-norm projection needs the image norm")
          continue
        }
        scale[i] = Float(c)
      }
    }

    // Initial latents: restart 0 may warm-start; the rest are N(0, I_k) from the slot's stream.
    var z = [Float](repeating: 0, count: rows * k)
    for i in 0..<p {
      for r in 0..<R {
        let base = (i * R + r) * k
        if r == 0, warmStart, let previous = states[i].previousLatent {
          for j in 0..<k { z[base + j] = previous[j] }
        } else {
          for j in 0..<k { z[base + j] = Float(slots[i].rng.normal()) }
        }
      }
    }

    let ws = generator.makeWorkspace(rows: rows)
    var gradOut = [Float](repeating: 0, count: rows * n)
    var gradZ = [Float](repeating: 0, count: rows * k)
    let adam = Adam(count: rows * k, learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon)
    var losses = [Float](repeating: 0, count: rows)

    for _ in 1...steps {
      z.withUnsafeBufferPointer { generator.forward($0.baseAddress!, workspace: ws) }
      lossAndGradient(t: t, scale: scale, z: z, output: ws.outputPointer, gradOut: &gradOut, losses: &losses, rows: rows)
      gradOut.withUnsafeBufferPointer { g in
        gradZ.withUnsafeMutableBufferPointer { generator.pullback(g.baseAddress!, into: $0.baseAddress!, workspace: ws) }
      }
      // ∂L/∂z = (∂G/∂z)ᵀ ∂L/∂G + 2 λ_z z, then one Adam step on every row at once.
      let twoLambda = 2 * lambdaZ
      for i in 0..<(rows * k) { gradZ[i] = gradZ[i] + twoLambda * z[i] }
      adam.step(&z, gradient: gradZ)
    }
    z.withUnsafeBufferPointer { generator.forward($0.baseAddress!, workspace: ws) }
    let output = ws.outputPointer
    lossAndGradient(t: t, scale: scale, z: z, output: output, gradOut: &gradOut, losses: &losses, rows: rows)

    var result = Matrix<Double>(rows: p, cols: n)
    for i in 0..<p where failures[i] == nil {
      var best = -1
      for r in 0..<R where losses[i * R + r].isFinite {
        if best < 0 || losses[i * R + r] < losses[i * R + best] { best = r }
      }
      guard best >= 0 else {
        failures[i] = ProjectionError(message: "every restart gave a non-finite loss")
        continue
      }
      let row = (i * R + best)
      var norm: Double = 0
      for j in 0..<n { let v = Double(output[row * n + j]); norm += v * v }
      norm = norm.squareRoot()
      guard norm > 0, norm.isFinite else {
        failures[i] = ProjectionError(message: "the generator's output is zero at the best restart")
        continue
      }
      for j in 0..<n { result.storage[i * n + j] = Double(output[row * n + j]) / norm }
      slots[i].lastLoss = Double(losses[row])
      states[i].previousLatent = Array(z[(row * k)..<((row + 1) * k)])
    }
    return ProjectionOutcome(projected: result, failures: failures)
  }

  /// Per-row loss and ∂L/∂G for the current outputs. Row j of the batch belongs to target j / R.
  private func lossAndGradient(
    t: [Float], scale: [Float], z: [Float], output y: UnsafePointer<Float>, gradOut: inout [Float], losses: inout [Float], rows: Int
  ) {
    let (n, k, R) = (generator.outputDimension, generator.latentDimension, restarts)
    t.withUnsafeBufferPointer { tp in
      do {
        let yp = UnsafeBufferPointer(start: y, count: rows * n)
        gradOut.withUnsafeMutableBufferPointer { gp in
          for row in 0..<rows {
            let target = row / R
            let ty = tp.baseAddress! + target * n
            let yy = yp.baseAddress! + row * n
            let gg = gp.baseAddress! + row * n
            var zz: Float = 0
            for j in 0..<k { zz += z[row * k + j] * z[row * k + j] }
            switch mode {
            case .cosine:
              let r = Float.nrm2(n, yy)
              guard r > 0, r.isFinite else {
                for j in 0..<n { gg[j] = 0 }
                losses[row] = .infinity
                continue
              }
              let cosine = Float.dot(n, yy, ty) / r
              let a = -2 / r
              let b = 2 * cosine / (r * r)
              for j in 0..<n { gg[j] = a * ty[j] + b * yy[j] }  // −2 (t − cos·ĝ)/r
              losses[row] = 2 - 2 * cosine + lambdaZ * zz
            case .oracleNorm:
              let c = scale[target]
              var sq: Float = 0
              for j in 0..<n {
                let d = yy[j] - c * ty[j]
                gg[j] = 2 * d
                sq += d * d
              }
              losses[row] = sq + lambdaZ * zz
            }
          }
        }
      }
    }
  }
}
