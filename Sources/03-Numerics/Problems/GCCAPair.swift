import GGEPCore
/// Block operators for two-view problems (GCCA, docs/mathematics.md §9): vectors of dimension n = n₁ + n₂
/// are split into their halves (first n₁ entries, last n₂ entries).

/// The columns [start, start + count) of a block of row vectors.
func columns(_ v: Matrix<Double>, from start: Int, count: Int) -> Matrix<Double> {
  var out = Matrix<Double>(rows: v.rows, cols: count)
  for r in 0..<v.rows {
    for j in 0..<count { out.storage[r * count + j] = v.storage[r * v.cols + start + j] }
  }
  return out
}

/// [left | right], side by side.
func joinColumns(_ left: Matrix<Double>, _ right: Matrix<Double>) -> Matrix<Double> {
  precondition(left.rows == right.rows)
  let n = left.cols + right.cols
  var out = Matrix<Double>(rows: left.rows, cols: n)
  for r in 0..<left.rows {
    for j in 0..<left.cols { out.storage[r * n + j] = left.storage[r * left.cols + j] }
    for j in 0..<right.cols { out.storage[r * n + left.cols + j] = right.storage[r * right.cols + j] }
  }
  return out
}

/// The block cross-covariance (1/d)[[0, XᵀY], [YᵀX, 0]] from sample matrices X (m × n₁) and
/// Y (m × n₂), rows paired. For p vectors (v₁; v₂): out₁ = (V₂Yᵀ)X/d, out₂ = (V₁Xᵀ)Y/d, four
/// GEMMs, never the n × n matrix.
public struct CrossCovarianceOperator: SymmetricOperator {
  public let x: Matrix<Double>
  public let y: Matrix<Double>
  public let divisor: Double
  public var dimension: Int { x.cols + y.cols }

  public init(x: Matrix<Double>, y: Matrix<Double>, divisor: Double? = nil) {
    precondition(x.rows == y.rows)
    self.x = x
    self.y = y
    self.divisor = divisor ?? Double(x.rows)
  }

  public func apply(_ v: Matrix<Double>) -> Matrix<Double> {
    precondition(v.cols == dimension)
    let v1 = columns(v, from: 0, count: x.cols)
    let v2 = columns(v, from: x.cols, count: y.cols)
    var t2 = matmul(v2, y, transposeB: true)  // p × m
    var t1 = matmul(v1, x, transposeB: true)
    let scale = 1 / divisor
    for i in t1.storage.indices { t1.storage[i] *= scale }
    for i in t2.storage.indices { t2.storage[i] *= scale }
    return joinColumns(matmul(t2, x), matmul(t1, y))
  }

  public func dense() -> Matrix<Double> {
    let (n1, n2) = (x.cols, y.cols)
    let n = n1 + n2
    let xy = matmul(x, transposeA: true, y)  // n₁ × n₂
    var out = Matrix<Double>(rows: n, cols: n)
    for i in 0..<n1 {
      for j in 0..<n2 {
        let value = xy.storage[i * n2 + j] / divisor
        out.storage[i * n + n1 + j] = value
        out.storage[(n1 + j) * n + i] = value
      }
    }
    return out
  }
}

/// blockdiag(M₁, M₂), each block applied to its half.
public struct BlockDiagonalOperator: SymmetricOperator {
  public let first: any SymmetricOperator
  public let second: any SymmetricOperator
  public var dimension: Int { first.dimension + second.dimension }

  public init(_ first: any SymmetricOperator, _ second: any SymmetricOperator) {
    self.first = first
    self.second = second
  }

  public func apply(_ v: Matrix<Double>) -> Matrix<Double> {
    precondition(v.cols == dimension)
    let n1 = first.dimension
    return joinColumns(
      first.apply(columns(v, from: 0, count: n1)), second.apply(columns(v, from: n1, count: second.dimension)))
  }

  public func dense() -> Matrix<Double> {
    let (d1, d2) = (first.dense(), second.dense())
    let (n1, n) = (first.dimension, dimension)
    var out = Matrix<Double>(rows: n, cols: n)
    for i in 0..<n1 { for j in 0..<n1 { out.storage[i * n + j] = d1.storage[i * n1 + j] } }
    let n2 = second.dimension
    for i in 0..<n2 { for j in 0..<n2 { out.storage[(n1 + i) * n + n1 + j] = d2.storage[i * n2 + j] } }
    return out
  }
}

/// Generative canonical correlation analysis (docs/mathematics.md §9, paper Eqs. 28-30). Two views of
/// dimension n_view each, unit view signals a*, b*, a shared factor ζ_i ~ N(0, 1) and the
/// within-view covariance Σ = LLᵀ (the same for both views):
///
///     x_i = α ζ_i Σa* + L w_i,   y_i = α ζ_i Σb* + L w'_i
///     Â = (1/m)[[0, XᵀY], [YᵀX, 0]],   B̂ = (1/m) blockdiag(XᵀX, YᵀY)
///
/// Population (Cov x = Σ + α²(Σa*)(Σa*)ᵀ, Cov(x, y) = α²(Σa*)(Σb*)ᵀ):
/// A = [[0, α²(Σa)(Σb)ᵀ], [α²(Σb)(Σa)ᵀ, 0]], B = blockdiag(Σ + α²(Σa)(Σa)ᵀ, Σ + α²(Σb)(Σb)ᵀ).
/// With s_a = a*ᵀΣa*, s_b = b*ᵀΣb*: v* ∝ (a*; c·b*), c = √(s_a(1+α²s_a)) / √(s_b(1+α²s_b)),
/// λ1 = α²√(s_a s_b)/√((1+α²s_a)(1+α²s_b)), λ2 = 0 (λn = −λ1). Â is indefinite.
///
/// The `signal` argument of the `ProblemPair` methods is ignored: the instance's signal is v*
/// (`vStar`), built from the pair's own a*, b*.
public struct GCCAPair: ProblemPair {
  public let alpha2: Double
  public let covariance: Covariance
  public let viewA: [Double]
  public let viewB: [Double]
  public var viewDimension: Int { viewA.count }

  public init(alpha2: Double = 2, covariance: Covariance = .identity, a: [Double], b: [Double]) {
    precondition(a.count == b.count)
    self.alpha2 = alpha2
    self.covariance = covariance
    self.viewA = a
    self.viewB = b
  }

  var sA: Double { dot(viewA, covariance.multiply(viewA)) }
  var sB: Double { dot(viewB, covariance.multiply(viewB)) }

  /// c of v* ∝ (a*; c·b*).
  public var c: Double { (sA * (1 + alpha2 * sA)).squareRoot() / (sB * (1 + alpha2 * sB)).squareRoot() }

  /// The unit leading generalized eigenvector (a*; c·b*)/‖·‖.
  public var vStar: [Double] { normalized(viewA + viewB.map { c * $0 }) ?? [] }

  public var lambda1: Double {
    alpha2 * (sA * sB).squareRoot() / ((1 + alpha2 * sA) * (1 + alpha2 * sB)).squareRoot()
  }

  public func populationEigenvalues(signal: [Double]) -> (lambda1: Double, lambda2: Double) { (lambda1, 0) }

  /// |⟨a*, â⟩|, |⟨b*, b̂⟩| for the normalised halves of an estimate of dimension 2·n_view
  /// (NaN for a zero half).
  public func viewCosines(_ estimate: [Double]) -> (Double, Double) {
    let nv = viewDimension
    guard estimate.count == 2 * nv else { return (.nan, .nan) }
    func cosine(_ half: ArraySlice<Double>, _ truth: [Double]) -> Double {
      guard let unit = normalized(Array(half)) else { return .nan }
      return Swift.abs(dot(unit, truth))
    }
    return (cosine(estimate[0..<nv], viewA), cosine(estimate[nv...], viewB))
  }

  public func population(signal: [Double]) -> ProblemInstance {
    let nv = viewDimension
    let pa = covariance.multiply(viewA)
    let pb = covariance.multiply(viewB)
    let a = CrossCovarianceOperator(
      x: Matrix(rows: 1, cols: nv, storage: pa.map { alpha2 * $0 }), y: Matrix(rows: 1, cols: nv, storage: pb), divisor: 1)
    func block(_ p: [Double]) -> DenseSymmetricOperator {
      var s = covariance.dense(dimension: nv)
      for i in 0..<nv { for j in 0..<nv { s.storage[i * nv + j] += alpha2 * p[i] * p[j] } }
      return DenseSymmetricOperator(s)
    }
    return ProblemInstance(
      a: a, b: BlockDiagonalOperator(block(pa), block(pb)), signal: vStar, lambda1: lambda1, lambda2: 0)
  }

  public func sample(signal: [Double], m: Int, rng: inout RandomStream) -> ProblemInstance {
    let nv = viewDimension
    let alpha = alpha2.squareRoot()
    let pa = covariance.multiply(viewA)
    let pb = covariance.multiply(viewB)
    // Draw order (reproducibility contract): ζ (m), then W (m × n_view), then W' (m × n_view).
    let zeta = rng.normals(m)
    var x = Matrix(rows: m, cols: nv, storage: rng.normals(m * nv))
    covariance.colorRows(&x)
    var y = Matrix(rows: m, cols: nv, storage: rng.normals(m * nv))
    covariance.colorRows(&y)
    for i in 0..<m {
      let s = alpha * zeta[i]
      for j in 0..<nv {
        x.storage[i * nv + j] += s * pa[j]
        y.storage[i * nv + j] += s * pb[j]
      }
    }
    return ProblemInstance(
      a: CrossCovarianceOperator(x: x, y: y), b: BlockDiagonalOperator(GramOperator(samples: x), GramOperator(samples: y)),
      signal: vStar, lambda1: lambda1, lambda2: 0)
  }
}

/// GCCA's default step size, chosen by a small sweep (docs/choices.md).
///
/// λ1 = α²/(1+α²) = 2/3 at Σ = I, λ2 = 0, λn = −λ1: the gap is small, so section 5's 0.2 is
/// slow. PRFM on the population pair, linear product generator (n_view = 100, k = 8 per factor,
/// views pair, u₀ = ones), |⟨u_t, v*⟩| after 10 and 30 iterations
/// (`GCCATests.testStepSizeSweepOnPopulation` prints them):
///
///     η = 0.2: 0.8043, 0.9993    η = 0.5: 0.9978, 1.0000    η = 1: 0.8665, 0.8660
///     η = 1.5: 0.8189, 0.8165    η = 2:   0.8117, 0.7920
///
/// η ≥ 1 stalls (the product projection's θ overshoots and settles at a wrong view balance,
/// cos = √3/2 at η = 1), η = 0.2 needs ~30 iterations; η = 0.5 converges in ~10. Default 0.5.
public enum GCCADefaults {
  public static let eta = 0.5
}
