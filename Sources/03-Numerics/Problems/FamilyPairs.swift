import GGEPCore
/// Generative PCA (docs/mathematics.md §9, paper Eq. 26): Â as in Eq. (24) with Σ = Iₙ, B̂ = Iₙ exactly:
///
///     x_i = √β z_i v* + w_i,   Â = XᵀX/m,   B̂ = Iₙ (not sampled)
///
/// Population A = Iₙ + βv*v*ᵀ, B = Iₙ: λ1 = 1 + β, λ2 = 1. PPower's home ground.
public struct GPCAPair: ProblemPair {
  public let beta: Double

  public init(beta: Double = 2) { self.beta = beta }

  public func populationEigenvalues(signal: [Double]) -> (lambda1: Double, lambda2: Double) {
    (1 + beta, 1)
  }

  public func population(signal v: [Double]) -> ProblemInstance {
    let n = v.count
    var a = Matrix<Double>.identity(n)
    for i in 0..<n { for j in 0..<n { a.storage[i * n + j] += beta * v[i] * v[j] } }
    let (l1, l2) = populationEigenvalues(signal: v)
    return ProblemInstance(
      a: DenseSymmetricOperator(a), b: IdentityOperator(dimension: n), signal: v, lambda1: l1, lambda2: l2)
  }

  public func sample(signal v: [Double], m: Int, rng: inout RandomStream) -> ProblemInstance {
    let n = v.count
    let rootBeta = beta.squareRoot()
    // Draw order (reproducibility contract): z (m), then W (m × n, row-major). The same
    // draws as Eq. (24)'s Â with Σ = I; nothing is drawn for B̂.
    let z = rng.normals(m)
    var x = Matrix(rows: m, cols: n, storage: rng.normals(m * n))
    for i in 0..<m {
      let c = rootBeta * z[i]
      for j in 0..<n { x.storage[i * n + j] += c * v[j] }
    }
    let (l1, l2) = populationEigenvalues(signal: v)
    return ProblemInstance(
      a: GramOperator(samples: x), b: IdentityOperator(dimension: n), signal: v, lambda1: l1, lambda2: l2)
  }
}

/// Generative Fisher discriminant analysis (docs/mathematics.md §9, paper Eq. 27). Two classes of m/2 samples
/// (m must be even), within-class covariance Σ = LLᵀ, class means μ₁,₂ = ±(δ/2)·Σv*:
///
///     x_i = μ_c(i) + L w_i,   d̂ = x̄₁ − x̄₂,   Â = d̂ d̂ᵀ (rank one),
///     B̂ = CᵀC/(m − 2),   C = the rows x_i − x̄_c(i) (pooled within-class covariance)
///
/// Population A = δ²(Σv*)(Σv*)ᵀ, B = Σ: Σ⁻¹(μ₁ − μ₂) ∝ v*, λ1 = δ²·v*ᵀΣv*, λ2 = 0.
/// (E[Â] = A + (4/m)Σ, a multiple of B: the generalized eigenvectors are unchanged.)
public struct GFDAPair: ProblemPair {
  public let delta: Double
  public let covariance: Covariance

  public init(delta: Double = 2.0.squareRoot(), covariance: Covariance = .identity) {
    self.delta = delta
    self.covariance = covariance
  }

  public func populationEigenvalues(signal v: [Double]) -> (lambda1: Double, lambda2: Double) {
    (delta * delta * dot(v, covariance.multiply(v)), 0)
  }

  public func population(signal v: [Double]) -> ProblemInstance {
    let n = v.count
    let (l1, l2) = populationEigenvalues(signal: v)
    return ProblemInstance(
      a: RankOneOperator(vector: covariance.multiply(v), scale: delta * delta),
      b: covariance.populationOperator(dimension: n), signal: v, lambda1: l1, lambda2: l2)
  }

  public func sample(signal v: [Double], m: Int, rng: inout RandomStream) -> ProblemInstance {
    precondition(m >= 4 && m % 2 == 0, "GFDA needs an even m ≥ 4 (two classes of m/2), got \(m)")
    let n = v.count
    let half = m / 2
    let sv = covariance.multiply(v)
    // Draw order (reproducibility contract): W only (m × n, row-major), colored to L W; rows
    // 0 ..< m/2 are class 1 (mean +(δ/2)Σv*), rows m/2 ..< m class 2 (mean −(δ/2)Σv*). The
    // class labels and means are deterministic, so nothing else is drawn.
    var x = Matrix(rows: m, cols: n, storage: rng.normals(m * n))
    covariance.colorRows(&x)
    for i in 0..<m {
      let c = (i < half ? 0.5 : -0.5) * delta
      for j in 0..<n { x.storage[i * n + j] += c * sv[j] }
    }
    // Class means, then C = X with each row's class mean subtracted (in place).
    var means = [[Double]](repeating: [Double](repeating: 0, count: n), count: 2)
    for i in 0..<m {
      let c = i < half ? 0 : 1
      for j in 0..<n { means[c][j] += x.storage[i * n + j] }
    }
    for c in 0..<2 { for j in 0..<n { means[c][j] /= Double(half) } }
    for i in 0..<m {
      let c = i < half ? 0 : 1
      for j in 0..<n { x.storage[i * n + j] -= means[c][j] }
    }
    let d = zip(means[0], means[1]).map { $0 - $1 }
    let (l1, l2) = populationEigenvalues(signal: v)
    return ProblemInstance(
      a: RankOneOperator(vector: d), b: GramOperator(samples: x, divisor: Double(m - 2)), signal: v,
      lambda1: l1, lambda2: l2)
  }
}
