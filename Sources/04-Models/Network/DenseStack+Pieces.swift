import GGEPCore

/// One layer's work cut into pieces that threads can share without ever splitting the batch:
/// every GEMM keeps all the rows of the mini-batch (M or K = batch), and a piece owns a block of
/// the layer's output columns (forward, input gradient) or of its weight rows (weight gradient).
///
/// Why not cut the batch into row shards instead: sgemm on this machine kind runs at 52–62
/// GFLOP/s with 50 rows against 72–83 with 100 (the weight gradient's inner dimension is the
/// row count), and two shards also mean two gradient buffers and two zeroing passes over every
/// weight matrix. Cutting columns keeps the whole batch in each GEMM (half the columns of a
/// layer at 100 rows still run at 82 GFLOP/s).
///
/// A piece's numbers depend on where its block starts and ends (OpenBLAS's edge kernels take
/// other paths), so the cuts are a function of the layer's width and the piece count alone:
/// never of the thread count or of which thread runs which piece.
extension DenseStack {
  /// `width` cut into at most `pieces` consecutive non-empty ranges whose inner boundaries are
  /// multiples of 16 (64 bytes of Float): boundary i is ⌊width · i / pieces / 16⌋ · 16.
  public static func pieceRanges(_ width: Int, pieces: Int) -> [Range<Int>] {
    precondition(width >= 1 && pieces >= 1)
    var bounds = [0]
    for i in 1..<pieces {
      let b = width * i / pieces / 16 * 16
      if b > bounds[bounds.count - 1] && b < width { bounds.append(b) }
    }
    bounds.append(width)
    return (0..<(bounds.count - 1)).map { bounds[$0]..<bounds[$0 + 1] }
  }

  /// Output columns `columns` of layer `l` for `rows` rows: out[:, c] = act(in · W[:, c] + b[c]),
  /// and act'(pre-activation) into `derivative[:, c]` when given. Both buffers are rows × fanOut.
  public func forwardPiece(
    _ l: Int, parameters: UnsafePointer<Float>, input: UnsafePointer<Float>, rows r: Int, columns: Range<Int>,
    output: UnsafeMutablePointer<Float>, derivative: UnsafeMutablePointer<Float>?
  ) {
    let layer = layers[l]
    let (width, stride) = (columns.count, layer.fanOut)
    let first = output + columns.lowerBound
    var beta: Float = 0
    if layer.hasBias {
      let bias = parameters + layer.biasOffset + columns.lowerBound
      for row in 0..<r { (first + row * stride).update(from: bias, count: width) }
      beta = 1
    }
    Float.gemm(
      false, false, r, width, layer.fanIn, 1, input, layer.fanIn, parameters + layer.weightOffset + columns.lowerBound, stride,
      beta, first, stride)
    for row in 0..<r {
      if let derivative {
        layer.activation.apply(first + row * stride, derivative: derivative + columns.lowerBound + row * stride, width)
      } else {
        layer.activation.apply(first + row * stride, width)
      }
    }
  }

  /// Columns `columns` of layer `l`'s input gradient: target[:, c] = δ · W[c, :]ᵀ (target is
  /// rows × fanIn), then ⊙ `derivative[:, c]` (the act' of the layer below) when given.
  public func inputGradientPiece(
    _ l: Int, parameters: UnsafePointer<Float>, delta: UnsafePointer<Float>, rows r: Int, columns: Range<Int>,
    into target: UnsafeMutablePointer<Float>, times derivative: UnsafePointer<Float>?
  ) {
    let layer = layers[l]
    let (width, stride) = (columns.count, layer.fanIn)
    let first = target + columns.lowerBound
    Float.gemm(
      false, true, r, width, layer.fanOut, 1, delta, layer.fanOut, parameters + layer.weightOffset + columns.lowerBound * layer.fanOut,
      layer.fanOut, 0, first, stride)
    if let derivative {
      for row in 0..<r {
        VectorKernels.multiply(first + row * stride, by: derivative + columns.lowerBound + row * stride, width)
      }
    }
  }

  /// Weight rows `weightRows` of layer `l`'s gradient: ∂W[a..<b, :] = input[:, a..<b]ᵀ · δ over
  /// all `rows` rows, into `gradient` (laid out like the parameters). These rows are one
  /// contiguous run of the parameters, `weightRange(l, weightRows)`. With `ontoZeros` the GEMM
  /// adds onto what the buffer holds (β = 1), which the caller promises is zeros: the same bits as
  /// β = 0 (0 + x = x), without OpenBLAS's separate pass that clears C first (sgemm at K = 100
  /// runs 12 % faster so).
  public func weightGradientPiece(
    _ l: Int, input: UnsafePointer<Float>, delta: UnsafePointer<Float>, rows r: Int, weightRows: Range<Int>,
    gradient: UnsafeMutablePointer<Float>, ontoZeros: Bool = false
  ) {
    let layer = layers[l]
    Float.gemm(
      true, false, weightRows.count, layer.fanOut, r, 1, input + weightRows.lowerBound, layer.fanIn, delta, layer.fanOut, ontoZeros ? 1 : 0,
      gradient + layer.weightOffset + weightRows.lowerBound * layer.fanOut, layer.fanOut)
  }

  /// Layer `l`'s bias gradient ∂b = δᵀ · 1 over `rows` rows (`ones` holds at least that many).
  public func biasGradient(
    _ l: Int, delta: UnsafePointer<Float>, rows r: Int, ones: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>
  ) {
    let layer = layers[l]
    guard layer.hasBias else { return }
    Float.gemv(true, r, layer.fanOut, 1, delta, layer.fanOut, ones, 0, gradient + layer.biasOffset)
  }

  /// Where weight rows `weightRows` of layer `l` sit in the parameter buffer.
  public func weightRange(_ l: Int, _ weightRows: Range<Int>) -> Range<Int> {
    let layer = layers[l]
    return (layer.weightOffset + weightRows.lowerBound * layer.fanOut)..<(layer.weightOffset + weightRows.upperBound * layer.fanOut)
  }

  /// Where layer `l`'s bias sits in the parameter buffer (empty without one).
  public func biasRange(_ l: Int) -> Range<Int> {
    let layer = layers[l]
    return layer.hasBias ? layer.biasOffset..<(layer.biasOffset + layer.fanOut) : layer.biasOffset..<layer.biasOffset
  }
}
