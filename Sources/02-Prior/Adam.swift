import Foundation
import GGEPCore

/// Adam (Kingma & Ba, 2015) with bias correction — the one optimiser of ggep: network training
/// (the VAE, the generators) and the projection's search over z both step through it.
///
///     m ← β₁ m + (1 − β₁) g,   v ← β₂ v + ((1 − β₂) g) g,
///     θ ← θ − (lr · (m c₁)) / (√(v c₂) + ε),   c₁ = 1/(1 − β₁ᵗ), c₂ = 1/(1 − β₂ᵗ)
///
/// in Float, each operation correctly rounded and in this order, by one vectorised kernel
/// (`VectorKernels.adam`: AVX2, no fused multiply-add, the tail padded into a full vector), so
/// an element's update is the same bits wherever it sits and however the parameters are split
/// across threads. The bias corrections are computed in Float, c = 1/(1 − βᵗ) with βᵗ by `powf`,
/// as the projector always did. The gradient may come as several shards, added in shard order
/// (the data-parallel training's fixed reduction).
public final class Adam: @unchecked Sendable {
  // @unchecked: the moments are written only by `update`, which callers run on disjoint ranges
  // (the trainer's threads) or on one thread; `steps` only by `nextStep`, on one thread.
  public struct Constants: Sendable {
    public let learningRate: Float, beta1: Float, beta2: Float, epsilon: Float
    /// Bias corrections 1/(1 − β₁ᵗ), 1/(1 − β₂ᵗ).
    public let c1: Float, c2: Float

    package init(learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, c1: Float, c2: Float) {
      (self.learningRate, self.beta1, self.beta2, self.epsilon, self.c1, self.c2) = (learningRate, beta1, beta2, epsilon, c1, c2)
    }
  }

  public let count: Int
  public let learningRate: Float, beta1: Float, beta2: Float, epsilon: Float
  public private(set) var steps = 0
  private let moments: AlignedFloats
  private var m: UnsafeMutablePointer<Float> { moments.buffers[0] }
  private var v: UnsafeMutablePointer<Float> { moments.buffers[1] }

  public init(count: Int, learningRate: Float, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8) {
    self.count = count
    self.learningRate = learningRate
    self.beta1 = beta1
    self.beta2 = beta2
    self.epsilon = epsilon
    moments = AlignedFloats([count, count])
  }

  /// Zero moments, step 0.
  public func reset() {
    m.update(repeating: 0, count: count)
    v.update(repeating: 0, count: count)
    steps = 0
  }

  /// The moments and step count, to checkpoint a training run.
  public var state: (m: [Float], v: [Float], steps: Int) {
    (Array(UnsafeBufferPointer(start: m, count: count)), Array(UnsafeBufferPointer(start: v, count: count)), steps)
  }

  /// Continues from a checkpointed `state` (moments of this optimiser's size).
  public func restore(m savedM: [Float], v savedV: [Float], steps savedSteps: Int) {
    precondition(savedM.count == count && savedV.count == count && savedSteps >= 0)
    m.update(from: savedM, count: count)
    v.update(from: savedV, count: count)
    steps = savedSteps
  }

  /// Starts step t + 1: its constants, for `update` on one or several ranges.
  public func nextStep() -> Constants {
    steps += 1
    let c1 = 1 / (1 - pow(beta1, Float(steps)))
    let c2 = 1 / (1 - pow(beta2, Float(steps)))
    return Constants(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, c1: c1, c2: c2)
  }

  /// The update of parameters `range` with the sum of `shards` gradients (in order).
  public func update(
    _ parameters: UnsafeMutablePointer<Float>, gradients: UnsafePointer<UnsafePointer<Float>?>, shards: Int, range: Range<Int>,
    _ c: Constants
  ) {
    precondition(range.lowerBound >= 0 && range.upperBound <= count && shards >= 1)
    VectorKernels.adam(
      weights: parameters, gradients: gradients, shards: shards, m: m, v: v, range: range, learningRate: c.learningRate,
      beta1: c.beta1, beta2: c.beta2, epsilon: c.epsilon, c1: c.c1, c2: c.c2)
  }

  /// One whole step of `parameters` with `gradient`.
  public func step(_ parameters: inout [Float], gradient: [Float]) {
    precondition(parameters.count == count && gradient.count == count)
    let c = nextStep()
    parameters.withUnsafeMutableBufferPointer { p in
      gradient.withUnsafeBufferPointer { g in
        var pointer: UnsafePointer<Float>? = g.baseAddress
        withUnsafePointer(to: &pointer) { update(p.baseAddress!, gradients: $0, shards: 1, range: 0..<count, c) }
      }
    }
  }
}
