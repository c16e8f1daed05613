import Foundation
import GGEPCore

/// One affine layer h ↦ act(h W + b) on row batches, as a projector or a model file sees it:
/// W is stored in × out so the forward pass is a plain GEMM on row-major batches.
public struct DenseLayer: Sendable {
  public let weights: Matrix<Float>  // in × out
  public let bias: [Float]  // out, or empty for none
  public let activation: Activation

  public init(weights: Matrix<Float>, bias: [Float] = [], activation: Activation) {
    precondition(bias.isEmpty || bias.count == weights.cols)
    self.weights = weights
    self.bias = bias
    self.activation = activation
  }
  public var inputWidth: Int { weights.rows }
  public var outputWidth: Int { weights.cols }
}

/// Batch normalisation in evaluation mode: y = γ (x − μ)/√(σ² + ε) + β per output unit, with the
/// running mean μ and variance σ² it was trained to.
public struct BatchNorm: Sendable {
  public let gamma: [Float]
  public let beta: [Float]
  public let mean: [Float]
  public let variance: [Float]
  public let epsilon: Float

  public init(gamma: [Float], beta: [Float], mean: [Float], variance: [Float], epsilon: Float = 1e-5) {
    precondition(Set([gamma.count, beta.count, mean.count, variance.count]).count == 1)
    self.gamma = gamma
    self.beta = beta
    self.mean = mean
    self.variance = variance
    self.epsilon = epsilon
  }
}

extension DenseLayer {
  /// The layer act(BN(h W + b)) with the batch norm folded into the affine map, so that
  /// layer-wise inversion (docs/mathematics.md §10) sees a plain affine layer:
  ///
  ///     s = γ / √(σ² + ε),   W' = W · diag(s),   b' = (b − μ) ⊙ s + β
  ///
  /// computed in Double and rounded once to Float.
  public init(weights: Matrix<Float>, bias: [Float] = [], batchNorm bn: BatchNorm, activation: Activation) {
    let (fanIn, fanOut) = (weights.rows, weights.cols)
    precondition(bn.gamma.count == fanOut && (bias.isEmpty || bias.count == fanOut))
    let scale = (0..<fanOut).map { Double(bn.gamma[$0]) / (Double(bn.variance[$0]) + Double(bn.epsilon)).squareRoot() }
    var folded = Matrix<Float>(rows: fanIn, cols: fanOut)
    for i in 0..<fanIn {
      for j in 0..<fanOut { folded.storage[i * fanOut + j] = Float(Double(weights.storage[i * fanOut + j]) * scale[j]) }
    }
    let foldedBias = (0..<fanOut).map { j in
      Float(((bias.isEmpty ? 0 : Double(bias[j])) - Double(bn.mean[j])) * scale[j] + Double(bn.beta[j]))
    }
    self.init(weights: folded, bias: foldedBias, activation: activation)
  }
}
