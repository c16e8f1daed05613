import GGEPCore
import GGEPPrior

/// The generator being trained (docs/mathematics.md §10's MNIST network, docs/mathematics.md §11's priors): dense layers
///
///     h₀ = z,   h_l = act(BN_l(h_{l−1} W_l)),  l < L,      x = φ(h_{L−1} W_L + b_L)
///
/// with training-mode batch norm on the hidden layers (batch statistics; its γ, β take the place
/// of a bias, so hidden layers have none) and the output activation φ (PLU by default). Without
/// batch norm the hidden layers are act(h W + b). The parameters are one flat buffer: the
/// `DenseStack`'s W and b, then each batch norm's γ and β, so one `Adam` updates all of them.
///
/// `folded()` is the trained network in evaluation mode with batch norm folded into W and b
/// (docs/mathematics.md §10), the `DenseLayer`s a model file stores: layer-wise inversion sees affine layers.
public struct TrainableGenerator: Sendable {
  public let stack: DenseStack
  public let hiddenActivation: Activation
  public let outputActivation: Activation
  /// One per hidden layer, empty without batch norm.
  public private(set) var batchNorms: [TrainingBatchNorm]
  public let parameterCount: Int

  public init(widths: [Int], hiddenActivation: Activation, outputActivation: Activation, batchNorm: Bool) {
    precondition(widths.count >= 2)
    let layers = widths.count - 1
    stack = DenseStack(
      widths: widths, activations: [Activation](repeating: .identity, count: layers),
      biases: (0..<layers).map { !batchNorm || $0 == layers - 1 })
    var offset = stack.parameterRange.upperBound
    var norms: [TrainingBatchNorm] = []
    if batchNorm {
      for l in 0..<(layers - 1) {
        norms.append(TrainingBatchNorm(features: widths[l + 1], offset: offset))
        offset += 2 * widths[l + 1]
      }
    }
    batchNorms = norms
    parameterCount = offset
    self.hiddenActivation = hiddenActivation
    self.outputActivation = outputActivation
  }

  public var widths: [Int] { stack.widths }
  public var latentDimension: Int { stack.inputWidth }
  public var outputDimension: Int { stack.outputWidth }

  /// PyTorch's `nn.Linear` initialisation, W and b ~ U(−1/√fan_in, 1/√fan_in), drawn layer by
  /// layer (W row-major, then b); γ = 1, β = 0; running statistics 0 and 1.
  public func initialize(_ parameters: inout [Float], rng: inout RandomStream) {
    precondition(parameters.count == parameterCount)
    for layer in stack.layers {
      let bound = 1 / Double(layer.fanIn).squareRoot()
      for i in 0..<(layer.fanIn * layer.fanOut) { parameters[layer.weightOffset + i] = Float(rng.uniform(-bound, bound)) }
      if layer.hasBias {
        for i in 0..<layer.fanOut { parameters[layer.biasOffset + i] = Float(rng.uniform(-bound, bound)) }
      }
    }
    parameters.withUnsafeMutableBufferPointer { p in for bn in batchNorms { bn.initializeParameters(p.baseAddress!) } }
  }

  /// Buffers of one batch size: every layer's output (kept for the backward pass), a
  /// pre-normalisation scratch, the batch norms' workspaces and the backward's two buffers.
  public final class Workspace: @unchecked Sendable {
    // @unchecked: a workspace belongs to one training loop on one thread.
    public let rows: Int
    let arena: AlignedFloats
    let layers: Int
    let norms: [TrainingBatchNorm.Workspace]
    let ones: [Float]

    init(_ generator: TrainableGenerator, rows: Int) {
      self.rows = rows
      layers = generator.stack.layers.count
      let widest = generator.widths.max()!
      arena = AlignedFloats(generator.stack.layers.map { rows * $0.fanOut } + [rows * widest, rows * widest, rows * widest])
      norms = generator.batchNorms.map { $0.makeWorkspace(rows: rows) }
      ones = [Float](repeating: 1, count: rows)
    }

    /// Layer l's output h_{l+1} (rows × width); the last is x = G(z).
    public func output(_ l: Int) -> UnsafeMutablePointer<Float> { arena.buffers[l] }
    public var samples: UnsafeMutablePointer<Float> { arena.buffers[layers - 1] }
    var scratch: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) {
      (arena.buffers[layers], arena.buffers[layers + 1], arena.buffers[layers + 2])
    }
  }

  public func makeWorkspace(rows: Int) -> Workspace {
    precondition(rows >= 2 || batchNorms.isEmpty, "batch norm needs at least 2 rows")
    return Workspace(self, rows: rows)
  }

  /// x = G(z) in training mode for the `workspace.rows` rows of z, into `workspace.samples`;
  /// with `updateStatistics`, each batch norm's running statistics take this batch in (as a
  /// PyTorch forward in training mode does).
  public mutating func forward(parameters: UnsafePointer<Float>, z: UnsafePointer<Float>, workspace ws: Workspace, updateStatistics: Bool) {
    let r = ws.rows
    var input = z
    for (l, layer) in stack.layers.enumerated() {
      let out = ws.output(l)
      let last = l == stack.layers.count - 1
      if last || batchNorms.isEmpty {
        stack.affine(l, parameters: parameters, input: input, rows: r, output: out)
      } else {
        let pre = ws.scratch.0
        stack.affine(l, parameters: parameters, input: input, rows: r, output: pre)
        batchNorms[l].forward(parameters: parameters, input: pre, output: out, workspace: ws.norms[l])
        if updateStatistics { batchNorms[l].updateRunningStatistics(from: ws.norms[l]) }
      }
      (last ? outputActivation : hiddenActivation).apply(out, r * layer.fanOut)
      input = UnsafePointer(out)
    }
  }

  /// The parameter gradient (every entry overwritten) from g = ∂L/∂x at the last `forward` of
  /// `workspace`.
  public func backward(
    parameters: UnsafePointer<Float>, z: UnsafePointer<Float>, outputGradient g: UnsafePointer<Float>, workspace ws: Workspace,
    gradient: UnsafeMutablePointer<Float>
  ) {
    let r = ws.rows
    let last = stack.layers.count - 1
    var (delta, other, _) = ws.scratch
    delta.update(from: g, count: r * outputDimension)
    outputActivation.multiplyDerivative(delta, outputs: ws.output(last), r * outputDimension)
    ws.ones.withUnsafeBufferPointer { ones in
      for l in stride(from: last, through: 0, by: -1) {
        let fanOut = stack.layers[l].fanOut
        if l < last {
          hiddenActivation.multiplyDerivative(delta, outputs: ws.output(l), r * fanOut)
          if !batchNorms.isEmpty {
            batchNorms[l].backward(parameters: parameters, outputGradient: delta, workspace: ws.norms[l], gradient: gradient, inputGradient: delta)
          }
        }
        stack.layerBackward(
          l, parameters: parameters, input: l == 0 ? z : UnsafePointer(ws.output(l - 1)), delta: delta, rows: r, gradient: gradient,
          ones: ones.baseAddress!, inputGradient: l == 0 ? nil : other)
        swap(&delta, &other)
      }
    }
  }

  /// The network in evaluation mode, batch norm folded: act(h W' + b') per hidden layer with
  /// W' = W·diag(γ/√(σ̄² + ε)), b' = β − μ̄·γ/√(σ̄² + ε) (`DenseLayer(weights:bias:batchNorm:…)`).
  public func folded(_ parameters: [Float]) -> [DenseLayer] {
    parameters.withUnsafeBufferPointer { p in
      stack.layers.enumerated().map { l, layer in
        let w = Matrix(rows: layer.fanIn, cols: layer.fanOut, storage: Array(p[layer.weightOffset..<(layer.weightOffset + layer.fanIn * layer.fanOut)]))
        let bias = layer.hasBias ? Array(p[layer.biasOffset..<(layer.biasOffset + layer.fanOut)]) : []
        let last = l == stack.layers.count - 1
        if !last, !batchNorms.isEmpty {
          return DenseLayer(weights: w, bias: bias, batchNorm: batchNorms[l].evaluationMode(parameters: p.baseAddress!), activation: hiddenActivation)
        }
        return DenseLayer(weights: w, bias: bias, activation: last ? outputActivation : hiddenActivation)
      }
    }
  }

  /// The running statistics of every batch norm, concatenated (means, then variances, layer by
  /// layer), for checkpoints.
  public var runningStatistics: [Float] { batchNorms.flatMap { $0.runningMean + $0.runningVariance } }

  public mutating func restoreRunningStatistics(_ values: [Float]) {
    precondition(values.count == runningStatistics.count)
    var offset = 0
    for l in batchNorms.indices {
      let f = batchNorms[l].features
      batchNorms[l].runningMean = Array(values[offset..<(offset + f)])
      batchNorms[l].runningVariance = Array(values[(offset + f)..<(offset + 2 * f)])
      offset += 2 * f
    }
  }
}
