import Foundation
import GGEPCore
import GGEPPrior

/// Inversion by gradient descent on z (Adam; docs/mathematics.md §4's optimiser, docs/mathematics.md §10's baseline):
///
///     minimise ½‖M ⊙ (G(z) − x)‖² + λ_z‖z‖²   over R restarts, keep the lowest loss,
///
/// (of every iterate, the start included),
///
/// M the observed entries (inpainting). A batch of targets runs as one set of GEMMs: rows are
/// targets × restarts, as in the projector. Restart 0 may start from a given latent (the hybrid:
/// a layer-wise ẑ); the others from N(0, I_k) drawn from each target's own stream, so a target's
/// result depends only on its job.
public struct AdamInverter: Sendable {
  public struct Target {
    public var x: [Double]
    public var observed: [Bool]?
    public var start: [Double]?
    public var rng: RandomStream
    public init(x: [Double], observed: [Bool]? = nil, start: [Double]? = nil, rng: RandomStream) {
      self.x = x
      self.observed = observed
      self.start = start
      self.rng = rng
    }
  }

  public let generator: any Generator
  public let settings: AdamProjector.Settings

  public init(generator: any Generator, settings: AdamProjector.Settings) {
    self.generator = generator
    self.settings = settings
  }

  /// ẑ and its final loss per target.
  public func invert(_ targets: [Target]) -> [(z: [Double], loss: Double)] {
    var targets = targets
    return invert(advancing: &targets)
  }

  /// `invert`, leaving each target's stream past the draws of its random starts, so that a
  /// caller that inverts again (a projection in every PRFM iteration) draws new starts.
  public func invert(advancing targets: inout [Target]) -> [(z: [Double], loss: Double)] {
    let (p, n, k, R) = (targets.count, generator.outputDimension, generator.latentDimension, settings.restarts)
    guard p > 0 else { return [] }
    let rows = p * R
    var x = [Float](repeating: 0, count: p * n)
    var mask = [Float](repeating: 1, count: p * n)
    for i in 0..<p {
      for j in 0..<n { x[i * n + j] = Float(targets[i].x[j]) }
      if let observed = targets[i].observed { for j in 0..<n where !observed[j] { mask[i * n + j] = 0 } }
    }
    var z = [Float](repeating: 0, count: rows * k)
    for i in 0..<p {
      for r in 0..<R {
        let base = (i * R + r) * k
        if r == 0, let start = targets[i].start {
          for j in 0..<k { z[base + j] = Float(start[j]) }
        } else {
          for j in 0..<k { z[base + j] = Float(targets[i].rng.normal()) }
        }
      }
    }
    let ws = generator.makeWorkspace(rows: rows)
    var gradOut = [Float](repeating: 0, count: rows * n)
    var gradZ = [Float](repeating: 0, count: rows * k)
    var losses = [Float](repeating: 0, count: rows)
    let adam = Adam(count: rows * k, learningRate: Float(settings.learningRate))
    let lambda = Float(settings.lambdaZ)

    func lossAndGradient() {
      let y = ws.outputPointer
      for row in 0..<rows {
        let t = row / R
        var loss: Float = 0
        for j in 0..<n {
          let d = mask[t * n + j] * (y[row * n + j] - x[t * n + j])
          gradOut[row * n + j] = d
          loss += d * d
        }
        var zz: Float = 0
        for j in 0..<k { zz += z[row * k + j] * z[row * k + j] }
        losses[row] = 0.5 * loss + lambda * zz
      }
    }

    // The best iterate per row, by its loss: Adam's normalised steps can leave an exact start
    // (the hybrid's) or a minimum it has reached, so what is returned is never worse than any
    // point the run evaluated.
    var bestZ = z
    var bestLoss = [Float](repeating: .infinity, count: rows)
    func keepBest() {
      for row in 0..<rows where losses[row] < bestLoss[row] {
        bestLoss[row] = losses[row]
        for j in 0..<k { bestZ[row * k + j] = z[row * k + j] }
      }
    }

    for _ in 0..<settings.steps {
      z.withUnsafeBufferPointer { generator.forward($0.baseAddress!, workspace: ws) }
      lossAndGradient()
      keepBest()
      gradOut.withUnsafeBufferPointer { g in
        gradZ.withUnsafeMutableBufferPointer { generator.pullback(g.baseAddress!, into: $0.baseAddress!, workspace: ws) }
      }
      for i in 0..<(rows * k) { gradZ[i] = gradZ[i] + 2 * lambda * z[i] }
      adam.step(&z, gradient: gradZ)
    }
    z.withUnsafeBufferPointer { generator.forward($0.baseAddress!, workspace: ws) }
    lossAndGradient()
    keepBest()
    return (0..<p).map { i in
      var best = 0
      for r in 1..<R where bestLoss[i * R + r] < bestLoss[i * R + best] || !bestLoss[i * R + best].isFinite { best = r }
      let row = i * R + best
      return (bestZ[(row * k)..<((row + 1) * k)].map(Double.init), Double(bestLoss[row]))
    }
  }
}
