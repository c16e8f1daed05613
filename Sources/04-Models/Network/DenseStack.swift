import Foundation
import GGEPCore
import GGEPPrior

/// A stack of dense layers, the one network implementation of ggep:
///
///     h₀ = input,   h_{l+1} = act_l(h_l W_l + b_l)          (rows are samples; W_l is in × out)
///
/// Its parameters live in a flat Float buffer the caller owns, layer by layer — W_l row-major,
/// then b_l — starting at `parameterRange.lowerBound`, so several stacks can share one buffer
/// (the VAE's encoder, heads and decoder) and one `Adam` call updates everything. Three passes,
/// each a GEMM per layer over the whole batch, nothing allocated:
///
/// * `forward`: the outputs of every layer (and, for training, each act'(pre-activation));
/// * `pullback`: dx = (∂h_L/∂h₀)ᵀ g, from the stored outputs — what a projector needs of a
///   generator;
/// * `backward`: ∂L/∂W_l = h_lᵀ δ_l, ∂L/∂b_l = δ_lᵀ 1, and (optionally) ∂L/∂h₀ — what training
///   needs.
///
/// Cost per batch of r rows: forward 2r·Σ(in·out) flops, pullback the same, backward twice that.
/// Every operation has a fixed shape and order, so a result is the same bits for the same batch.
public struct DenseStack: Sendable {
  public struct Layer: Sendable {
    public let fanIn: Int
    public let fanOut: Int
    public let activation: Activation
    public let hasBias: Bool
    /// Offsets of W (fanIn × fanOut) and b (fanOut) in the parameter buffer.
    public let weightOffset: Int
    public let biasOffset: Int
  }

  public let layers: [Layer]
  /// Where the stack's parameters sit in the buffer.
  public let parameterRange: Range<Int>

  /// Layers of `widths` (input first) with `activations` (one per layer), laid out from
  /// `offset`; a layer whose `biases` entry is false has no bias (and no bias slots).
  public init(widths: [Int], activations: [Activation], biases: [Bool]? = nil, offset: Int = 0) {
    precondition(widths.count >= 2 && activations.count == widths.count - 1 && widths.allSatisfy { $0 >= 1 })
    let biases = biases ?? [Bool](repeating: true, count: activations.count)
    precondition(biases.count == activations.count)
    var next = offset
    var layers: [Layer] = []
    for l in 0..<(widths.count - 1) {
      let (i, o) = (widths[l], widths[l + 1])
      layers.append(Layer(fanIn: i, fanOut: o, activation: activations[l], hasBias: biases[l], weightOffset: next, biasOffset: next + i * o))
      next += i * o + (biases[l] ? o : 0)
    }
    self.layers = layers
    parameterRange = offset..<next
  }

  public var inputWidth: Int { layers[0].fanIn }
  public var outputWidth: Int { layers[layers.count - 1].fanOut }
  /// input, then each layer's output width.
  public var widths: [Int] { [inputWidth] + layers.map(\.fanOut) }
  public var parameterCount: Int { parameterRange.count }

  // MARK: - One layer

  /// out = in·W + b for `rows` rows: the bias broadcast first, then one GEMM with β = 1 (β = 0
  /// without a bias).
  @inline(__always)
  public func affine(
    _ l: Int, parameters: UnsafePointer<Float>, input: UnsafePointer<Float>, rows r: Int, output: UnsafeMutablePointer<Float>
  ) {
    let layer = layers[l]
    var beta: Float = 0
    if layer.hasBias {
      let bias = parameters + layer.biasOffset
      for row in 0..<r { (output + row * layer.fanOut).update(from: bias, count: layer.fanOut) }
      beta = 1
    }
    Float.gemm(
      false, false, r, layer.fanOut, layer.fanIn, 1, input, layer.fanIn, parameters + layer.weightOffset, layer.fanOut, beta,
      output, layer.fanOut)
  }

  /// ∂W = inputᵀ·δ and ∂b = δᵀ·1 into `gradient` (laid out like the parameters), and, unless
  /// nil, inputGradient = δ·Wᵀ. `ones` holds at least `rows` ones.
  @inline(__always)
  public func layerBackward(
    _ l: Int, parameters: UnsafePointer<Float>, input: UnsafePointer<Float>, delta: UnsafePointer<Float>, rows r: Int,
    gradient: UnsafeMutablePointer<Float>, ones: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?
  ) {
    let layer = layers[l]
    Float.gemm(true, false, layer.fanIn, layer.fanOut, r, 1, input, layer.fanIn, delta, layer.fanOut, 0, gradient + layer.weightOffset, layer.fanOut)
    if layer.hasBias {
      Float.gemv(true, r, layer.fanOut, 1, delta, layer.fanOut, ones, 0, gradient + layer.biasOffset)
    }
    if let inputGradient { self.inputGradient(l, parameters: parameters, delta: delta, rows: r, into: inputGradient) }
  }

  /// inputGradient = δ·Wᵀ for layer `l`.
  @inline(__always)
  public func inputGradient(
    _ l: Int, parameters: UnsafePointer<Float>, delta: UnsafePointer<Float>, rows r: Int, into target: UnsafeMutablePointer<Float>
  ) {
    let layer = layers[l]
    Float.gemm(false, true, r, layer.fanIn, layer.fanOut, 1, delta, layer.fanOut, parameters + layer.weightOffset, layer.fanOut, 0, target, layer.fanIn)
  }

  // MARK: - The whole stack

  /// Every layer forward: `outputs[l]` (rows × fanOut_l) receives layer l's output; with
  /// `derivatives`, `derivatives[l]` receives act_l'(pre-activation) for `backward`.
  public func forward(
    parameters: UnsafePointer<Float>, input: UnsafePointer<Float>, rows r: Int, outputs: [UnsafeMutablePointer<Float>],
    derivatives: [UnsafeMutablePointer<Float>]? = nil
  ) {
    precondition(outputs.count == layers.count)
    var current = input
    for (l, layer) in layers.enumerated() {
      affine(l, parameters: parameters, input: current, rows: r, output: outputs[l])
      if let derivatives {
        layer.activation.apply(outputs[l], derivative: derivatives[l], r * layer.fanOut)
      } else {
        layer.activation.apply(outputs[l], r * layer.fanOut)
      }
      current = UnsafePointer(outputs[l])
    }
  }

  /// dx = (∂h_L/∂h₀)ᵀ g for every row, at the point of the last `forward` (its `outputs`):
  /// g ⊙ act', one GEMM, ⊙ act' of the layer below, … `scratch` is two buffers of rows × the
  /// widest layer.
  public func pullback(
    parameters: UnsafePointer<Float>, gradient g: UnsafePointer<Float>, outputs: [UnsafePointer<Float>], rows r: Int,
    into dx: UnsafeMutablePointer<Float>, scratch: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)
  ) {
    let last = layers.count - 1
    var current = scratch.0
    var next = scratch.1
    current.update(from: g, count: r * outputWidth)
    layers[last].activation.multiplyDerivative(current, outputs: outputs[last], r * outputWidth)
    for l in stride(from: last, through: 0, by: -1) {
      if l == 0 {
        inputGradient(0, parameters: parameters, delta: current, rows: r, into: dx)
      } else {
        inputGradient(l, parameters: parameters, delta: current, rows: r, into: next)
        layers[l - 1].activation.multiplyDerivative(next, outputs: outputs[l - 1], r * layers[l].fanIn)
        swap(&current, &next)
      }
    }
  }

  /// The parameter gradient of every layer into `gradient` (laid out like the parameters), from
  /// δ = ∂L/∂(pre-activation of the last layer), and, unless nil, ∂L/∂h₀ into `inputGradient`.
  /// Each layer's act' comes from `derivatives` (saved by `forward`) or else from `outputs`.
  /// `scratch` is two buffers of rows × the widest layer; `ones` at least `rows` ones.
  public func backward(
    parameters: UnsafePointer<Float>, input: UnsafePointer<Float>, outputs: [UnsafePointer<Float>],
    derivatives: [UnsafePointer<Float>]?, delta: UnsafePointer<Float>, rows r: Int, gradient: UnsafeMutablePointer<Float>,
    ones: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
    scratch: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>)
  ) {
    var delta = delta
    var spare = scratch.0
    var other = scratch.1
    for l in stride(from: layers.count - 1, through: 0, by: -1) {
      let layerInput = l == 0 ? input : outputs[l - 1]
      let target = l == 0 ? inputGradient : spare
      layerBackward(l, parameters: parameters, input: layerInput, delta: delta, rows: r, gradient: gradient, ones: ones, inputGradient: target)
      if l > 0 {
        let count = r * layers[l].fanIn
        if let derivatives {
          VectorKernels.multiply(spare, by: derivatives[l - 1], count)
        } else {
          layers[l - 1].activation.multiplyDerivative(spare, outputs: outputs[l - 1], count)
        }
        delta = UnsafePointer(spare)
        swap(&spare, &other)
      }
    }
  }
}
