import GGEPCore
import GGEPPrior

/// A generator of dense layers, transposed convolutions and convolutions in any order (the
/// PyTorch DCGAN generator's shape, and the Linear → reshape → convolutions generators many
/// papers use): z ∈ Rᵏ is the first layer's input (k × 1 × 1 for a DCGAN), G(z) the last
/// layer's output flattened channel-major.
///
/// Every layer is one GEMM for a chunk of rows, never a loop of per-row matrix products: the
/// images of a chunk are packed side by side (channel c of row r at column r·s² of the packed
/// matrix), so a transposed convolution is columns = Wᵀ · X_packed then col2im per image, a
/// convolution im2col per image then W · columns; the pullbacks run the adjoint steps. A chunk
/// holds as many rows as keep its column matrix within `columnBudget` floats. sgemm's blocking
/// depends on the chunk's width, so a row's last bits depend on its chunk; the chunks are a
/// function of the shapes and the batch size only, never of scheduling (docs/mathematics.md §8).
public struct ConvolutionalGenerator: Generator {
  public let layers: [ConvolutionalLayer]
  public let summary: String
  /// Floats of one chunk's column matrix at most, unless a single image needs more.
  public let columnBudget: Int

  /// `columnBudget`: 1 Mi floats (4 MiB, within the L3 cache; 4 Mi measured slower) by default.
  public init(layers: [ConvolutionalLayer], summary: String, columnBudget: Int = 1 << 20) {
    precondition(!layers.isEmpty && columnBudget >= 1)
    for (a, b) in zip(layers, layers.dropFirst()) { precondition(a.outputWidth == b.inputWidth) }
    self.layers = layers
    self.summary = summary
    self.columnBudget = columnBudget
  }

  /// Convolutions only (the DCGAN generator).
  public init(convolutions layers: [ConvolutionLayer], summary: String) {
    for (a, b) in zip(layers, layers.dropFirst()) { precondition(a.outChannels == b.inChannels && a.outSize == b.inSize) }
    self.init(layers: layers.map { .convolution($0) }, summary: summary)
  }

  public var latentDimension: Int { layers[0].inputWidth }
  public var outputDimension: Int { layers[layers.count - 1].outputWidth }
  var widths: [Int] { [latentDimension] + layers.map(\.outputWidth) }
  /// Column-matrix floats per image, the most of any layer.
  var columnsPerRow: Int { layers.compactMap(\.patches).map { $0.columnRows * $0.columnsPerImage }.max() ?? 0 }

  /// Rows per GEMM chunk for a batch of `rows`.
  func chunkRows(_ rows: Int) -> Int {
    let perRow = columnsPerRow
    return perRow == 0 ? rows : max(1, min(rows, columnBudget / perRow))
  }

  /// Each scratch buffer: a layer's gradient for the batch, then the packed images, then one
  /// chunk's column matrix.
  public func makeWorkspace(rows: Int) -> GeneratorWorkspace {
    let widest = widths.max() ?? 0
    return GeneratorWorkspace(rows: rows, widths: widths, scratch: 2 * rows * widest + chunkRows(rows) * columnsPerRow)
  }

  public func forward(_ z: UnsafePointer<Float>, workspace ws: GeneratorWorkspace) {
    let rows = ws.rows, chunk = chunkRows(rows)
    ws.layer(0).baseAddress!.update(from: z, count: rows * latentDimension)
    let packed = ws.scratch.0 + rows * (widths.max() ?? 0)
    let columns = packed + rows * (widths.max() ?? 0)
    for (l, layer) in layers.enumerated() {
      let x = UnsafePointer(ws.layer(l).baseAddress!), y = ws.layer(l + 1).baseAddress!
      let (inW, outW) = (layer.inputWidth, layer.outputWidth)
      switch layer {
      case .dense(let d):
        d.weights.storage.withUnsafeBufferPointer { Float.gemm(false, false, rows, outW, inW, 1, x, inW, $0.baseAddress!, outW, 0, y, outW) }
      case .convolution(let t) where t.isDense:
        t.weights.withUnsafeBufferPointer { Float.gemm(false, false, rows, outW, inW, 1, x, inW, $0.baseAddress!, outW, 0, y, outW) }
      case .convolution(let t) where t.direction == .transposed:
        let g = t.geometry, hw = g.columnsPerImage, m = g.columnRows
        y.update(repeating: 0, count: rows * outW)
        t.weights.withUnsafeBufferPointer { w in
          for r0 in stride(from: 0, to: rows, by: chunk) {
            let count = min(chunk, rows - r0), n = count * hw
            Self.pack(x + r0 * inW, rows: count, channels: t.inChannels, plane: hw, into: packed)
            Float.gemm(true, false, m, n, t.inChannels, 1, w.baseAddress!, m, packed, n, 0, columns, n)
            for r in 0..<count { g.col2im(columns, ld: n, col0: r * hw, addingInto: y + (r0 + r) * outW) }
          }
        }
      case .convolution(let c):
        let g = c.geometry, o2 = g.columnsPerImage, kk = g.columnRows
        c.weights.withUnsafeBufferPointer { w in
          for r0 in stride(from: 0, to: rows, by: chunk) {
            let count = min(chunk, rows - r0), n = count * o2
            for r in 0..<count { g.im2col(x + (r0 + r) * inW, into: columns, ld: n, col0: r * o2) }
            Float.gemm(false, false, c.outChannels, n, kk, 1, w.baseAddress!, kk, columns, n, 0, packed, n)
            Self.unpack(packed, rows: count, channels: c.outChannels, plane: o2, into: y + r0 * outW)
          }
        }
      }
      let (bias, plane) = layer.channelBias
      if !bias.isEmpty {
        for r in 0..<rows {
          for (c, b) in bias.enumerated() {
            let p = y + r * outW + c * plane
            for i in 0..<plane { p[i] += b }
          }
        }
      }
      layer.activation.apply(y, rows * outW)
    }
  }

  public func pullback(_ g: UnsafePointer<Float>, into dz: UnsafeMutablePointer<Float>, workspace ws: GeneratorWorkspace) {
    let rows = ws.rows, chunk = chunkRows(rows), widest = widths.max() ?? 0
    var (current, other) = ws.scratch
    current.update(from: g, count: rows * outputDimension)
    for l in stride(from: layers.count - 1, through: 0, by: -1) {
      let layer = layers[l]
      let (inW, outW) = (layer.inputWidth, layer.outputWidth)
      layer.activation.multiplyDerivative(current, outputs: ws.layer(l + 1).baseAddress!, rows * outW)
      let input = l == 0 ? dz : other
      // The packed images and columns live past the gradient in `current`'s buffer.
      let packed = current + rows * widest, columns = packed + rows * widest
      switch layer {
      case .dense(let d):
        d.weights.storage.withUnsafeBufferPointer { Float.gemm(false, true, rows, inW, outW, 1, current, outW, $0.baseAddress!, outW, 0, input, inW) }
      case .convolution(let t) where t.isDense:
        t.weights.withUnsafeBufferPointer { Float.gemm(false, true, rows, inW, outW, 1, current, outW, $0.baseAddress!, outW, 0, input, inW) }
      case .convolution(let t) where t.direction == .transposed:
        let geometry = t.geometry, hw = geometry.columnsPerImage, m = geometry.columnRows
        t.weights.withUnsafeBufferPointer { w in
          for r0 in stride(from: 0, to: rows, by: chunk) {
            let count = min(chunk, rows - r0), n = count * hw
            for r in 0..<count { geometry.im2col(current + (r0 + r) * outW, into: columns, ld: n, col0: r * hw) }
            Float.gemm(false, false, t.inChannels, n, m, 1, w.baseAddress!, m, columns, n, 0, packed, n)
            Self.unpack(packed, rows: count, channels: t.inChannels, plane: hw, into: input + r0 * inW)
          }
        }
      case .convolution(let c):
        let geometry = c.geometry, o2 = geometry.columnsPerImage, kk = geometry.columnRows
        input.update(repeating: 0, count: rows * inW)
        c.weights.withUnsafeBufferPointer { w in
          for r0 in stride(from: 0, to: rows, by: chunk) {
            let count = min(chunk, rows - r0), n = count * o2
            Self.pack(current + r0 * outW, rows: count, channels: c.outChannels, plane: o2, into: packed)
            Float.gemm(true, false, kk, n, c.outChannels, 1, w.baseAddress!, kk, packed, n, 0, columns, n)
            for r in 0..<count { geometry.col2im(columns, ld: n, col0: r * o2, addingInto: input + (r0 + r) * inW) }
          }
        }
      }
      swap(&current, &other)
    }
  }

  /// packed[c][r·plane + q] = images[r][c][q]: the rows' channel planes side by side.
  static func pack(_ images: UnsafePointer<Float>, rows: Int, channels: Int, plane: Int, into packed: UnsafeMutablePointer<Float>) {
    for r in 0..<rows {
      for c in 0..<channels { (packed + c * rows * plane + r * plane).update(from: images + (r * channels + c) * plane, count: plane) }
    }
  }

  /// images[r][c][q] = packed[c][r·plane + q], the inverse of `pack`.
  static func unpack(_ packed: UnsafePointer<Float>, rows: Int, channels: Int, plane: Int, into images: UnsafeMutablePointer<Float>) {
    for r in 0..<rows {
      for c in 0..<channels { (images + (r * channels + c) * plane).update(from: packed + c * rows * plane + r * plane, count: plane) }
    }
  }
}
