import GGEPCore
/// One realisation of a generalized eigenproblem: the pair (Â, B̂) as operators, the signal v*
/// it was built around, and the population eigenvalues λ1 > λ2 of (A, B).
public struct ProblemInstance: Sendable {
  public let a: any SymmetricOperator
  public let b: any SymmetricOperator
  public let signal: [Double]
  public let lambda1: Double
  public let lambda2: Double
  public var dimension: Int { signal.count }

  public init(a: any SymmetricOperator, b: any SymmetricOperator, signal: [Double], lambda1: Double, lambda2: Double) {
    precondition(a.dimension == signal.count && b.dimension == signal.count)
    self.a = a
    self.b = b
    self.signal = signal
    self.lambda1 = lambda1
    self.lambda2 = lambda2
  }
}

/// A family of problem instances around a unit signal v* (docs/mathematics.md §2, 9): its population pair and
/// its sampled pair from m draws.
public protocol ProblemPair: Sendable {
  /// Population (λ1, λ2) of (A, B) for the unit signal v*.
  func populationEigenvalues(signal: [Double]) -> (lambda1: Double, lambda2: Double)
  /// The exact population operators A, B.
  func population(signal: [Double]) -> ProblemInstance
  /// Â, B̂ from m independent samples drawn from `rng`.
  func sample(signal: [Double], m: Int, rng: inout RandomStream) -> ProblemInstance
}

/// Eq. (24), the spiked pair, with a general within-sample covariance Σ = L Lᵀ:
///
///     x_i = √β z_i Σv* + L w_i,   y_i = L u_i,   Â = XᵀX/m,   B̂ = YᵀY/m
///
/// so A = Σ + β(Σv*)(Σv*)ᵀ, B = Σ, and v* is the leading generalized eigenvector with
/// λ1 = 1 + β v*ᵀΣv*, λ2 = 1. With Σ = Iₙ this is the paper's Eq. (24) (λ1 = 1 + β).
public struct SpikedCovariancePair: ProblemPair {
  public let beta: Double
  public let covariance: Covariance

  public init(beta: Double, covariance: Covariance = .identity) {
    self.beta = beta
    self.covariance = covariance
  }

  public func populationEigenvalues(signal v: [Double]) -> (lambda1: Double, lambda2: Double) {
    (1 + beta * dot(v, covariance.multiply(v)), 1)
  }

  public func population(signal v: [Double]) -> ProblemInstance {
    let n = v.count
    let sv = covariance.multiply(v)
    var a = covariance.dense(dimension: n)
    for i in 0..<n { for j in 0..<n { a.storage[i * n + j] += beta * sv[i] * sv[j] } }
    let (l1, l2) = populationEigenvalues(signal: v)
    return ProblemInstance(
      a: DenseSymmetricOperator(a), b: covariance.populationOperator(dimension: n), signal: v,
      lambda1: l1, lambda2: l2)
  }

  public func sample(signal v: [Double], m: Int, rng: inout RandomStream) -> ProblemInstance {
    let n = v.count
    let sv = covariance.multiply(v)
    let rootBeta = beta.squareRoot()
    // Draw order is part of the reproducibility contract: z, then W, then U.
    let z = rng.normals(m)
    var x = Matrix(rows: m, cols: n, storage: rng.normals(m * n))
    covariance.colorRows(&x)
    for i in 0..<m {
      let c = rootBeta * z[i]
      for j in 0..<n { x.storage[i * n + j] += c * sv[j] }
    }
    var y = Matrix(rows: m, cols: n, storage: rng.normals(m * n))
    covariance.colorRows(&y)
    let (l1, l2) = populationEigenvalues(signal: v)
    return ProblemInstance(
      a: GramOperator(samples: x), b: GramOperator(samples: y), signal: v, lambda1: l1, lambda2: l2)
  }
}

/// Eq. (25), the phase-retrieval pair:
///
///     a_i ~ N(0, Iₙ),  y_i = (a_iᵀv*)² ("square") or |a_iᵀv*| ("abs"),
///     Â = (1/m) Σ y_i a_i a_iᵀ,   B̂ = (1/m) Σ u_i u_iᵀ, u_i ~ N(0, Iₙ)
///
/// Population A = Iₙ + 2v*v*ᵀ (square: λ1 = 3, λ2 = 1) or √(2/π)(Iₙ + v*v*ᵀ)
/// (abs: λ1 = 2√(2/π), λ2 = √(2/π)); B = Iₙ.
public struct PhaseRetrievalPair: ProblemPair {
  public enum Link: String, Sendable, CaseIterable {
    case square, abs
  }
  public let link: Link

  public init(link: Link) { self.link = link }

  public func populationEigenvalues(signal: [Double]) -> (lambda1: Double, lambda2: Double) {
    switch link {
    case .square: return (3, 1)
    case .abs:
      let c = (2 / Double.pi).squareRoot()
      return (2 * c, c)
    }
  }

  public func population(signal v: [Double]) -> ProblemInstance {
    let n = v.count
    // A = c·Iₙ + d·v*v*ᵀ: (c, d) = (1, 2) for square, (√(2/π), √(2/π)) for abs.
    let c = link == .square ? 1 : (2 / Double.pi).squareRoot()
    let d = link == .square ? 2 : c
    var a = Matrix<Double>(rows: n, cols: n)
    for i in 0..<n {
      for j in 0..<n { a.storage[i * n + j] = (i == j ? c : 0) + d * v[i] * v[j] }
    }
    let (l1, l2) = populationEigenvalues(signal: v)
    return ProblemInstance(
      a: DenseSymmetricOperator(a), b: IdentityOperator(dimension: n), signal: v, lambda1: l1, lambda2: l2)
  }

  public func sample(signal v: [Double], m: Int, rng: inout RandomStream) -> ProblemInstance {
    let n = v.count
    // Draw order: the measurement vectors A, then B's samples U.
    let a = Matrix(rows: m, cols: n, storage: rng.normals(m * n))
    let av = matmul(a, Matrix(rows: n, cols: 1, storage: v)).storage
    let y: [Double] = av.map { link == .square ? $0 * $0 : Swift.abs($0) }
    let u = Matrix(rows: m, cols: n, storage: rng.normals(m * n))
    let (l1, l2) = populationEigenvalues(signal: v)
    return ProblemInstance(
      a: GramOperator(samples: a, weights: y), b: GramOperator(samples: u), signal: v, lambda1: l1, lambda2: l2)
  }
}
