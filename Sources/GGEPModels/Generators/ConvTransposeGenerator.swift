import GGEPCore

/// One `nn.ConvTranspose2d` layer on square images, batch norm folded, then an activation.
///
/// Input Cin × s × s (channel-major, as PyTorch), output Cout × s' × s' with
/// s' = (s − 1)·stride − 2·padding + kernel, and
///
///     y[c, i·stride − p + u, j·stride − p + v] += Σ_cin W[cin, c, u, v] · x[cin, i, j]
///
/// computed as one GEMM per row, cols = Wᵀ X (Cout·K² × s², W flattened Cin × Cout·K²), then
/// a scatter-add of the columns (col2im); the pullback gathers the output gradient into columns
/// (im2col) and multiplies by W. A 1 × 1 input with no padding (a DCGAN's first layer) is one
/// GEMM for the whole batch: rows × Cin times Cin × Cout·K².
public struct ConvTransposeLayer: Sendable {
  public let inChannels: Int
  public let outChannels: Int
  public let kernel: Int
  public let stride: Int
  public let padding: Int
  public let inSize: Int
  /// Cin × (Cout·K·K), PyTorch's (Cin, Cout, K, K) weight flattened.
  public let weights: [Float]
  /// Per output channel (empty: none).
  public let bias: [Float]
  public let activation: Activation

  public init(
    inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, inSize: Int, weights: [Float], bias: [Float], activation: Activation
  ) {
    precondition(weights.count == inChannels * outChannels * kernel * kernel && (bias.isEmpty || bias.count == outChannels))
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

  public var outSize: Int { (inSize - 1) * stride - 2 * padding + kernel }
  public var inputWidth: Int { inChannels * inSize * inSize }
  public var outputWidth: Int { outChannels * outSize * outSize }
  var columnCount: Int { outChannels * kernel * kernel }
  /// One GEMM for the batch: a 1 × 1 input, no padding (the columns are the output).
  var isDense: Bool { inSize == 1 && padding == 0 }
  /// Multiply-adds of the forward (or the pullback) per row.
  public var multiplyAdds: Int { inChannels * columnCount * inSize * inSize }
}

/// A generator of transposed convolutions (the PyTorch DCGAN generator's shape): z ∈ Rᵏ is the
/// k × 1 × 1 input, G(z) the last layer's C × s × s output flattened channel-major.
public struct ConvTransposeGenerator: Generator {
  public let layers: [ConvTransposeLayer]
  public let summary: String

  public init(layers: [ConvTransposeLayer], summary: String) {
    precondition(!layers.isEmpty)
    for (a, b) in zip(layers, layers.dropFirst()) { precondition(a.outChannels == b.inChannels && a.outSize == b.inSize) }
    self.layers = layers
    self.summary = summary
  }

  public var latentDimension: Int { layers[0].inputWidth }
  public var outputDimension: Int { layers[layers.count - 1].outputWidth }
  var widths: [Int] { [latentDimension] + layers.map(\.outputWidth) }
  /// Columns of one row's GEMM, the most of any layer (each scratch buffer holds a layer's
  /// gradient for the batch and, after it, one row's columns).
  var columnScratch: Int { layers.filter { !$0.isDense }.map { $0.columnCount * $0.inSize * $0.inSize }.max() ?? 0 }

  public func makeWorkspace(rows: Int) -> GeneratorWorkspace {
    GeneratorWorkspace(rows: rows, widths: widths, scratch: rows * (widths.max() ?? 0) + columnScratch)
  }

  public func forward(_ z: UnsafePointer<Float>, workspace ws: GeneratorWorkspace) {
    let rows = ws.rows
    ws.layer(0).baseAddress!.update(from: z, count: rows * latentDimension)
    let columns = ws.scratch.0
    for (l, layer) in layers.enumerated() {
      let x = UnsafePointer(ws.layer(l).baseAddress!), y = ws.layer(l + 1).baseAddress!
      let (m, hw, outW) = (layer.columnCount, layer.inSize * layer.inSize, layer.outputWidth)
      layer.weights.withUnsafeBufferPointer { w in
        if layer.isDense {
          Float.gemm(false, false, rows, m, layer.inChannels, 1, x, layer.inChannels, w.baseAddress!, m, 0, y, m)
        } else {
          y.update(repeating: 0, count: rows * outW)
          for r in 0..<rows {
            Float.gemm(true, false, m, hw, layer.inChannels, 1, w.baseAddress!, m, x + r * layer.inputWidth, hw, 0, columns, hw)
            Self.col2im(layer, columns, into: y + r * outW)
          }
        }
      }
      let plane = layer.outSize * layer.outSize
      if !layer.bias.isEmpty {
        for r in 0..<rows {
          for c in 0..<layer.outChannels {
            let b = layer.bias[c], p = y + r * outW + c * plane
            for i in 0..<plane { p[i] += b }
          }
        }
      }
      layer.activation.apply(y, rows * outW)
    }
  }

  public func pullback(_ g: UnsafePointer<Float>, into dz: UnsafeMutablePointer<Float>, workspace ws: GeneratorWorkspace) {
    let rows = ws.rows
    let gradientSize = rows * (widths.max() ?? 0)
    var (current, other) = ws.scratch
    current.update(from: g, count: rows * outputDimension)
    for l in stride(from: layers.count - 1, through: 0, by: -1) {
      let layer = layers[l]
      let (m, hw, outW) = (layer.columnCount, layer.inSize * layer.inSize, layer.outputWidth)
      layer.activation.multiplyDerivative(current, outputs: ws.layer(l + 1).baseAddress!, rows * outW)
      let input = l == 0 ? dz : other
      let columns = other + gradientSize
      layer.weights.withUnsafeBufferPointer { w in
        if layer.isDense {
          Float.gemm(false, true, rows, layer.inChannels, m, 1, current, m, w.baseAddress!, m, 0, input, layer.inChannels)
        } else {
          for r in 0..<rows {
            Self.im2col(layer, current + r * outW, into: columns)
            Float.gemm(false, false, layer.inChannels, hw, m, 1, w.baseAddress!, m, columns, hw, 0, input + r * layer.inputWidth, hw)
          }
        }
      }
      swap(&current, &other)
    }
  }

  /// y[c, i·s − p + u, j·s − p + v] += cols[(c·K + u)·K + v, i·n + j] where in range.
  static func col2im(_ layer: ConvTransposeLayer, _ cols: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
    let (k, s, p, n, o) = (layer.kernel, layer.stride, layer.padding, layer.inSize, layer.outSize)
    for c in 0..<layer.outChannels {
      for u in 0..<k {
        for v in 0..<k {
          let row = cols + ((c * k + u) * k + v) * n * n
          let plane = y + c * o * o
          for i in 0..<n {
            let oi = i * s - p + u
            guard oi >= 0 && oi < o else { continue }
            for j in 0..<n {
              let oj = j * s - p + v
              if oj >= 0 && oj < o { plane[oi * o + oj] += row[i * n + j] }
            }
          }
        }
      }
    }
  }

  /// cols[(c·K + u)·K + v, i·n + j] = g[c, i·s − p + u, j·s − p + v] (0 outside).
  static func im2col(_ layer: ConvTransposeLayer, _ g: UnsafePointer<Float>, into cols: UnsafeMutablePointer<Float>) {
    let (k, s, p, n, o) = (layer.kernel, layer.stride, layer.padding, layer.inSize, layer.outSize)
    for c in 0..<layer.outChannels {
      for u in 0..<k {
        for v in 0..<k {
          let row = cols + ((c * k + u) * k + v) * n * n
          let plane = g + c * o * o
          for i in 0..<n {
            let oi = i * s - p + u
            for j in 0..<n {
              let oj = j * s - p + v
              row[i * n + j] = oi >= 0 && oi < o && oj >= 0 && oj < o ? plane[oi * o + oj] : 0
            }
          }
        }
      }
    }
  }
}
