import GGEPCore
/// A symmetric n×n matrix known by its products with blocks of vectors.
///
/// Vectors are the rows of a block `V` (p × n); `apply` returns `V·M`, which for symmetric M is
/// the block of products `M v` as rows. Sampled operators keep their m × n sample matrices and
/// never form M (docs/mathematics.md §2, "operators, not matrices"): a product costs two GEMMs, 4mnp flops,
/// instead of 2n²p and n² storage.
public protocol SymmetricOperator: Sendable {
  var dimension: Int { get }
  func apply(_ v: Matrix<Double>) -> Matrix<Double>
  /// The dense matrix, for checks at small n (LAPACK, tests). Costs O(n²) memory.
  func dense() -> Matrix<Double>
}

extension SymmetricOperator {
  /// M v for one vector.
  public func apply(_ v: [Double]) -> [Double] {
    apply(Matrix(rows: 1, cols: v.count, storage: v)).storage
  }
}

/// (1/d) Xᵀ diag(w) X from the m × n sample matrix X (rows are samples), optional weights w
/// and a divisor d, by default the sample count m.
///
/// Eq. (24)'s Â, B̂ (no weights), Eq. (25)'s Â (w_i = y_i) and GFDA's pooled within-class
/// covariance (d = m − 2). Applying it to p vectors: T = V Xᵀ (p × m), T ← T·diag(w)/d,
/// result T X: two GEMMs.
public struct GramOperator: SymmetricOperator {
  public let samples: Matrix<Double>
  public let weights: [Double]?
  /// The d of (1/d) XᵀX: m unless given.
  public let divisor: Double
  public var dimension: Int { samples.cols }
  public var sampleCount: Int { samples.rows }

  public init(samples: Matrix<Double>, weights: [Double]? = nil, divisor: Double? = nil) {
    precondition(weights == nil || weights!.count == samples.rows)
    precondition(divisor.map { $0 > 0 } ?? true)
    self.samples = samples
    self.weights = weights
    self.divisor = divisor ?? Double(samples.rows)
  }

  public func apply(_ v: Matrix<Double>) -> Matrix<Double> {
    precondition(v.cols == dimension)
    if v.rows == 1 { return applySingle(v) }
    var t = matmul(v, samples, transposeB: true)
    let m = samples.rows
    let scale = 1 / divisor
    t.storage.withUnsafeMutableBufferPointer { pt in
      for r in 0..<v.rows {
        let row = pt.baseAddress! + r * m
        if let w = weights {
          for i in 0..<m { row[i] *= w[i] * scale }
        } else {
          for i in 0..<m { row[i] *= scale }
        }
      }
    }
    return matmul(t, samples)
  }

  /// One vector, in one pass over X: for each sample row x_i, t = ⟨x_i, v⟩ then
  /// out += (w_i t / m) x_i while x_i is still in cache. The algorithms apply Â and B̂ to one
  /// iterate at a time, and two passes (X v, then Xᵀ t) would read the m × n samples from
  /// memory twice: this product is memory-bound, so one pass is twice as fast.
  private func applySingle(_ v: Matrix<Double>) -> Matrix<Double> {
    let (m, n) = (samples.rows, samples.cols)
    var out = [Double](repeating: 0, count: n)
    let scale = 1 / divisor
    samples.storage.withUnsafeBufferPointer { x in
      v.storage.withUnsafeBufferPointer { vp in
        out.withUnsafeMutableBufferPointer { o in
          for i in 0..<m {
            let row = x.baseAddress! + i * n
            let t = Double.dot(n, row, vp.baseAddress!) * (weights?[i] ?? 1) * scale
            Double.axpy(n, t, row, o.baseAddress!)
          }
        }
      }
    }
    return Matrix(rows: 1, cols: n, storage: out)
  }

  public func dense() -> Matrix<Double> {
    var weighted = samples
    let (m, n) = (samples.rows, samples.cols)
    for i in 0..<m {
      let w = (weights?[i] ?? 1) / divisor
      for j in 0..<n { weighted.storage[i * n + j] *= w }
    }
    return matmul(weighted, transposeA: true, samples)
  }
}

/// A stored dense symmetric matrix (population pairs at moderate n).
public struct DenseSymmetricOperator: SymmetricOperator {
  public let matrix: Matrix<Double>
  public var dimension: Int { matrix.rows }
  public init(_ matrix: Matrix<Double>) {
    precondition(matrix.rows == matrix.cols)
    self.matrix = matrix
  }
  public func apply(_ v: Matrix<Double>) -> Matrix<Double> { matmul(v, matrix) }
  public func dense() -> Matrix<Double> { matrix }
}

/// The rank-one c·d dᵀ, applied as c·d (dᵀu) (GFDA's Â = d̂ d̂ᵀ): O(n) per vector.
public struct RankOneOperator: SymmetricOperator {
  public let vector: [Double]
  public let scale: Double
  public var dimension: Int { vector.count }

  public init(vector: [Double], scale: Double = 1) {
    self.vector = vector
    self.scale = scale
  }

  public func apply(_ v: Matrix<Double>) -> Matrix<Double> {
    precondition(v.cols == dimension)
    let n = dimension
    var out = Matrix<Double>(rows: v.rows, cols: n)
    for r in 0..<v.rows {
      let c = scale * dot(v.row(r), vector[...])
      for j in 0..<n { out.storage[r * n + j] = c * vector[j] }
    }
    return out
  }

  public func dense() -> Matrix<Double> {
    let n = dimension
    var out = Matrix<Double>(rows: n, cols: n)
    for i in 0..<n { for j in 0..<n { out.storage[i * n + j] = scale * vector[i] * vector[j] } }
    return out
  }
}

/// Iₙ, applied for free.
public struct IdentityOperator: SymmetricOperator {
  public let dimension: Int
  public init(dimension: Int) { self.dimension = dimension }
  public func apply(_ v: Matrix<Double>) -> Matrix<Double> { v }
  public func dense() -> Matrix<Double> { .identity(dimension) }
}
