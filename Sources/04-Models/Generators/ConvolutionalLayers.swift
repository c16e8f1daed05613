import GGEPCore
import GGEPPrior

/// One `nn.ConvTranspose2d` or `nn.Conv2d` layer on square images, batch norm folded, then an
/// activation. Input Cin × s × s, output Cout × s' × s', both flattened channel-major as PyTorch.
///
/// Transposed (s' = (s − 1)·stride − 2·padding + K):
///
///     y[c, i·stride − p + u, j·stride − p + v] += Σ_cin W[cin, c, u, v] · x[cin, i, j]
///
/// columns = Wᵀ X (Cout·K² × s², W flattened Cin × Cout·K²), then col2im of the columns into y
/// (`PatchGeometry` with the output as its large plane); the pullback is im2col of the output
/// gradient and W · columns.
///
/// Direct (s' = ⌊(s + 2p − K)/stride⌋ + 1):
///
///     y[c, i, j] = Σ_{cin, u, v} W[c, cin, u, v] · x[cin, i·stride − p + u, j·stride − p + v]
///
/// columns = im2col(x) (the input is the large plane), y = W · columns (W flattened
/// Cout × Cin·K²); the pullback is columns = Wᵀ g and col2im into the input gradient.
public struct ConvolutionLayer: Sendable {
  public enum Direction: Sendable { case direct, transposed }

  public let direction: Direction
  public let inChannels: Int
  public let outChannels: Int
  public let kernel: Int
  public let stride: Int
  public let padding: Int
  public let inSize: Int
  /// PyTorch's weight flattened: (Cin, Cout, K, K) transposed, (Cout, Cin, K, K) direct.
  public let weights: [Float]
  /// Per output channel (empty: none).
  public let bias: [Float]
  public let activation: Activation

  public init(
    _ direction: Direction, inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, inSize: Int, weights: [Float], bias: [Float],
    activation: Activation
  ) {
    precondition(weights.count == inChannels * outChannels * kernel * kernel && (bias.isEmpty || bias.count == outChannels))
    precondition(direction == .transposed || inSize + 2 * padding >= kernel)
    self.direction = direction
    self.inChannels = inChannels
    self.outChannels = outChannels
    self.kernel = kernel
    self.stride = stride
    self.padding = padding
    self.inSize = inSize
    self.weights = weights
    self.bias = bias
    self.activation = activation
  }

  public var outSize: Int {
    direction == .transposed ? (inSize - 1) * stride - 2 * padding + kernel : (inSize + 2 * padding - kernel) / stride + 1
  }
  public var inputWidth: Int { inChannels * inSize * inSize }
  public var outputWidth: Int { outChannels * outSize * outSize }
  /// The windows: on the output plane of a transposed convolution, on the input of a direct one.
  public var geometry: PatchGeometry {
    direction == .transposed
      ? PatchGeometry(channels: outChannels, large: outSize, small: inSize, kernel: kernel, stride: stride, padding: padding)
      : PatchGeometry(channels: inChannels, large: inSize, small: outSize, kernel: kernel, stride: stride, padding: padding)
  }
  /// A transposed convolution of a 1 × 1 input with no padding (a DCGAN's first layer): the
  /// columns are the output, so the layer is one GEMM rows × Cin times Cin × Cout·K², no col2im.
  var isDense: Bool { direction == .transposed && inSize == 1 && padding == 0 }
  /// Multiply-adds of the forward (or the pullback) per row.
  public var multiplyAdds: Int { inChannels * outChannels * kernel * kernel * geometry.columnsPerImage }
}

/// One layer of a `ConvolutionalGenerator`. A dense layer reads and writes flat vectors; a
/// convolution reads C × s × s flattened channel-major, which is the same memory, so a
/// reshape between them (PyTorch's `view`, `nn.Unflatten`, `nn.Flatten`) is no layer at all.
public enum ConvolutionalLayer: Sendable {
  case dense(DenseLayer)
  case convolution(ConvolutionLayer)

  public var inputWidth: Int {
    switch self {
    case .dense(let l): return l.inputWidth
    case .convolution(let l): return l.inputWidth
    }
  }

  public var outputWidth: Int {
    switch self {
    case .dense(let l): return l.outputWidth
    case .convolution(let l): return l.outputWidth
    }
  }

  public var activation: Activation {
    switch self {
    case .dense(let l): return l.activation
    case .convolution(let l): return l.activation
    }
  }

  /// Multiply-adds of the forward (or the pullback) per row.
  public var multiplyAdds: Int {
    switch self {
    case .dense(let l): return l.inputWidth * l.outputWidth
    case .convolution(let l): return l.multiplyAdds
    }
  }

  /// The patch geometry of a convolution that needs a column matrix (nil: a dense GEMM).
  var patches: PatchGeometry? {
    if case .convolution(let l) = self, !l.isDense { return l.geometry }
    return nil
  }

  /// Per-channel bias and the size of a channel's plane (a dense layer: one unit per channel).
  var channelBias: (bias: [Float], plane: Int) {
    switch self {
    case .dense(let l): return (l.bias, 1)
    case .convolution(let l): return (l.bias, l.outSize * l.outSize)
    }
  }
}
