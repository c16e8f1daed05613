import GGEPCore
import GGEPPrior

/// The discriminator of docs/mathematics.md §11's adversarial training: a dense network (LeakyReLU(0.2) hidden,
/// one raw output t per row, no output activation: the loss maps t to D) whose every weight
/// matrix is used spectrally normalised, W/σ(W), σ by one power iteration per training forward
/// (Miyato et al. 2018, as Aberdam et al. train their MNIST GAN). The raw parameters are what
/// Adam updates; `normalized` holds W/σ and the biases as the forward pass reads them.
public struct SpectralDiscriminator: Sendable {
  public let stack: DenseStack
  public private(set) var normalizations: [SpectralNormalization]
  public let powerIterations: Int

  public init(widths: [Int], slope: Float = 0.2, powerIterations: Int = 1, rng: inout RandomStream) {
    precondition(widths.count >= 2 && widths.last == 1 && powerIterations >= 1)
    stack = DenseStack(
      widths: widths, activations: [Activation](repeating: .leakyRelu(slope: slope), count: widths.count - 2) + [.identity])
    normalizations = stack.layers.map { SpectralNormalization(rows: $0.fanIn, cols: $0.fanOut, rng: &rng) }
    self.powerIterations = powerIterations
  }

  public var parameterCount: Int { stack.parameterCount }
  public var inputWidth: Int { stack.inputWidth }

  /// PyTorch's `nn.Linear` initialisation, U(−1/√fan_in, 1/√fan_in) for W and b.
  public func initialize(_ parameters: inout [Float], rng: inout RandomStream) {
    for layer in stack.layers {
      let bound = 1 / Double(layer.fanIn).squareRoot()
      for i in 0..<(layer.fanIn * layer.fanOut + layer.fanOut) { parameters[layer.weightOffset + i] = Float(rng.uniform(-bound, bound)) }
    }
  }

  /// One power iteration per layer from the raw parameters, then W/σ (and the biases) into
  /// `normalized`: what a forward pass in training mode starts with.
  public mutating func normalize(_ parameters: UnsafePointer<Float>, into normalized: UnsafeMutablePointer<Float>) {
    for (l, layer) in stack.layers.enumerated() {
      normalizations[l].powerIteration(weights: parameters + layer.weightOffset, iterations: powerIterations)
      normalizations[l].normalize(weights: parameters + layer.weightOffset, into: normalized + layer.weightOffset)
      (normalized + layer.biasOffset).update(from: parameters + layer.biasOffset, count: layer.fanOut)
    }
  }

  /// ∂L/∂(raw parameters) from ∂L/∂(normalised parameters), layer by layer through W/σ(W).
  public func rawGradient(
    _ normalizedGradient: UnsafePointer<Float>, normalized: UnsafePointer<Float>, into gradient: UnsafeMutablePointer<Float>
  ) {
    for (l, layer) in stack.layers.enumerated() {
      normalizations[l].backward(
        gradient: normalizedGradient + layer.weightOffset, normalizedWeights: normalized + layer.weightOffset, into: gradient + layer.weightOffset)
      (gradient + layer.biasOffset).update(from: normalizedGradient + layer.biasOffset, count: layer.fanOut)
    }
  }

  /// The left singular vectors u of every layer, concatenated (for checkpoints).
  public var singularVectors: [Float] { normalizations.flatMap(\.u) }

  public mutating func restoreSingularVectors(_ values: [Float]) {
    precondition(values.count == singularVectors.count)
    var offset = 0
    for l in normalizations.indices {
      let n = normalizations[l].rows
      normalizations[l] = SpectralNormalization(rows: n, cols: normalizations[l].cols, u: Array(values[offset..<(offset + n)]))
      offset += n
    }
  }
}
