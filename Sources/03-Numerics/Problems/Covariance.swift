import GGEPCore
/// An SPD covariance Σ = L Lᵀ with the operations the problem builders need, each in its
/// structured form (docs/mathematics.md §2, "The covariance choices"):
///
/// * `identity`: Σ = Iₙ.
/// * `diagonal(d)`: Σ = diag(d), L = diag(√d).
/// * `toeplitz(r)`: Σ_ij = r^|i−j|, the AR(1) covariance, whose Cholesky factor has the closed
///   form L_i0 = r^i, L_ij = √(1−r²)·r^(i−j) for 1 ≤ j ≤ i; so L u is the AR(1) recursion
///   x₀ = u₀, x_i = r x_{i−1} + √(1−r²) u_i, O(n) per vector.
/// * `spike(w, γ)`: Σ = Iₙ + γ w wᵀ (‖w‖ = 1), L = Iₙ + (√(1+γ) − 1) w wᵀ (symmetric, not
///   triangular, but L Lᵀ = Σ, which is all sampling needs).
public enum Covariance: Sendable {
  case identity
  case diagonal([Double])
  case toeplitz(r: Double)
  case spike(direction: [Double], gamma: Double)

  /// Σ v.
  public func multiply(_ v: [Double]) -> [Double] {
    let n = v.count
    switch self {
    case .identity:
      return v
    case .diagonal(let d):
      return (0..<n).map { d[$0] * v[$0] }
    case .toeplitz(let r):
      // Σ v = (lower part incl. diagonal) + (strict upper part), each a first-order recursion.
      var out = [Double](repeating: 0, count: n)
      var acc = 0.0
      for i in 0..<n { acc = r * acc + v[i]; out[i] = acc }
      acc = 0
      for i in stride(from: n - 1, through: 0, by: -1) {
        out[i] += r * acc
        acc = r * acc + v[i]
      }
      return out
    case .spike(let w, let gamma):
      let c = gamma * dot(w, v)
      return (0..<n).map { v[$0] + c * w[$0] }
    }
  }

  /// Replaces each row u of `block` (p × n) by L u: samples with covariance Σ from N(0, I) rows.
  public func colorRows(_ block: inout Matrix<Double>) {
    let (p, n) = (block.rows, block.cols)
    switch self {
    case .identity:
      return
    case .diagonal(let d):
      let s = d.map { $0.squareRoot() }
      for i in 0..<p { for j in 0..<n { block.storage[i * n + j] *= s[j] } }
    case .toeplitz(let r):
      let c = (1 - r * r).squareRoot()
      block.storage.withUnsafeMutableBufferPointer { b in
        for i in 0..<p {
          let row = b.baseAddress! + i * n
          var prev = row[0]
          for j in 1..<max(n, 1) {
            prev = r * prev + c * row[j]
            row[j] = prev
          }
        }
      }
    case .spike(let w, let gamma):
      let c = (1 + gamma).squareRoot() - 1
      for i in 0..<p {
        let proj = c * dot(block.row(i), w[...])
        for j in 0..<n { block.storage[i * n + j] += proj * w[j] }
      }
    }
  }

  /// The dense Σ (checks at small n, population operators).
  public func dense(dimension n: Int) -> Matrix<Double> {
    var s = Matrix<Double>(rows: n, cols: n)
    switch self {
    case .identity:
      return .identity(n)
    case .diagonal(let d):
      for i in 0..<n { s[i, i] = d[i] }
    case .toeplitz(let r):
      for i in 0..<n { for j in 0..<n { s[i, j] = pow(r, Double(abs(i - j))) } }
    case .spike(let w, let gamma):
      for i in 0..<n { for j in 0..<n { s[i, j] = (i == j ? 1 : 0) + gamma * w[i] * w[j] } }
    }
    return s
  }

  /// Σ as an operator: free for the identity, dense otherwise (population pairs only).
  public func populationOperator(dimension n: Int) -> any SymmetricOperator {
    if case .identity = self { return IdentityOperator(dimension: n) }
    return DenseSymmetricOperator(dense(dimension: n))
  }
}

#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif
