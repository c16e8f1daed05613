import _LAPACKE

/// A LAPACK routine reported failure; `info` is its INFO code.
public struct LAPACKError: UserFacingError {
  public let routine: String
  public let info: Int32
  public var description: String {
    switch (routine, info) {
    case ("dpotrf", let i) where i > 0:
      return "dpotrf: the matrix is not positive definite (leading minor \(i))"
    case ("dsygvd", let i) where i > 0:
      return "dsygvd: B is not positive definite or the eigensolver did not converge (info \(i))"
    default:
      return "\(routine) failed with info \(info)"
    }
  }
}

public enum LAPACK {
  /// All generalized eigenvalues of the symmetric-definite pair A v = λ B v (`dsygvd`, itype 1),
  /// sorted in decreasing order, with the eigenvectors as columns of `vectors` (B-orthonormal,
  /// same order). Dense and O(n³): an independent check of population λ1, λ2 at small n, never
  /// part of an algorithm.
  public static func generalizedEigen(_ a: Matrix<Double>, _ b: Matrix<Double>) throws
    -> (values: [Double], vectors: Matrix<Double>)
  {
    let n = a.rows
    precondition(a.cols == n && b.rows == n && b.cols == n)
    var aw = a.storage
    var bw = b.storage
    var w = [Double](repeating: 0, count: n)
    let info = LAPACKE_dsygvd(
      LAPACK_ROW_MAJOR, 1, Int8(UInt8(ascii: "V")), Int8(UInt8(ascii: "U")), Int32(n), &aw, Int32(n), &bw,
      Int32(n), &w)
    guard info == 0 else { throw LAPACKError(routine: "dsygvd", info: info) }
    // dsygvd returns ascending order; reverse to λ1 ≥ λ2 ≥ …
    var vectors = Matrix<Double>(rows: n, cols: n)
    for i in 0..<n {
      for j in 0..<n { vectors[i, j] = aw[i * n + (n - 1 - j)] }
    }
    return (w.reversed(), vectors)
  }

  /// The lower Cholesky factor L of an SPD matrix (Σ = L Lᵀ), by `dpotrf`.
  public static func cholesky(_ s: Matrix<Double>) throws -> Matrix<Double> {
    let n = s.rows
    precondition(s.cols == n)
    var l = s.storage
    let info = LAPACKE_dpotrf(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), Int32(n), &l, Int32(n))
    guard info == 0 else { throw LAPACKError(routine: "dpotrf", info: info) }
    for i in 0..<n { for j in (i + 1)..<n { l[i * n + j] = 0 } }  // dpotrf leaves the upper triangle as it was
    return Matrix(rows: n, cols: n, storage: l)
  }

  /// x with (L Lᵀ) x = b, from the lower Cholesky factor L of `cholesky`, by `dpotrs`.
  public static func choleskySolve(_ l: Matrix<Double>, _ b: [Double]) throws -> [Double] {
    let n = l.rows
    precondition(l.cols == n && b.count == n)
    guard n > 0 else { return [] }
    var x = b
    var factor = l.storage
    let info = LAPACKE_dpotrs(LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "L")), Int32(n), 1, &factor, Int32(n), &x, 1)
    guard info == 0 else { throw LAPACKError(routine: "dpotrs", info: info) }
    return x
  }

  /// An `rows × cols` matrix with orthonormal columns: the Q of a QR factorisation
  /// (`dgeqrf` + `dorgqr`) of the given full-rank matrix.
  public static func orthonormalColumns(_ a: Matrix<Double>) throws -> Matrix<Double> {
    let (m, n) = (a.rows, a.cols)
    precondition(m >= n)
    var q = a.storage
    var tau = [Double](repeating: 0, count: n)
    var info = LAPACKE_dgeqrf(LAPACK_ROW_MAJOR, Int32(m), Int32(n), &q, Int32(n), &tau)
    guard info == 0 else { throw LAPACKError(routine: "dgeqrf", info: info) }
    info = LAPACKE_dorgqr(LAPACK_ROW_MAJOR, Int32(m), Int32(n), Int32(n), &q, Int32(n), &tau)
    guard info == 0 else { throw LAPACKError(routine: "dorgqr", info: info) }
    return Matrix(rows: m, cols: n, storage: q)
  }

  /// The singular values of A (m × n), in decreasing order, by `dgesdd` without vectors
  /// (jobz 'N'). Deterministic for a given BLAS core and thread count; O(mn·min(m, n)).
  public static func singularValues(_ a: Matrix<Double>) throws -> [Double] {
    let (m, n) = (a.rows, a.cols)
    guard m > 0, n > 0 else { return [] }
    var matrix = a.storage
    var s = [Double](repeating: 0, count: min(m, n))
    // U and Vᵀ are not referenced with jobz 'N', but row-major LAPACKE checks ldvt ≥ n anyway.
    var u = [Double](repeating: 0, count: 1)
    var vt = [Double](repeating: 0, count: n)
    let info = LAPACKE_dgesdd(
      LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "N")), Int32(m), Int32(n), &matrix, Int32(n), &s, &u, 1, &vt, Int32(n))
    guard info == 0 else { throw LAPACKError(routine: "dgesdd", info: info) }
    return s
  }

  /// The spectral norm ‖A‖₂ (the largest singular value; 0 for an empty matrix).
  public static func spectralNorm(_ a: Matrix<Double>) throws -> Double { try singularValues(a).first ?? 0 }

  /// The least-squares solution x of min ‖A x − b‖₂ for A m × n (m ≥ n, full column rank), by
  /// QR (`dgels`); for m < n the minimum-norm solution of the underdetermined system.
  public static func leastSquares(_ a: Matrix<Double>, _ b: [Double]) throws -> [Double] {
    let (m, n) = (a.rows, a.cols)
    precondition(b.count == m)
    var matrix = a.storage
    var rhs = b + [Double](repeating: 0, count: max(0, n - m))
    let info = LAPACKE_dgels(
      LAPACK_ROW_MAJOR, Int8(UInt8(ascii: "N")), Int32(m), Int32(n), 1, &matrix, Int32(n), &rhs, 1)
    guard info == 0 else { throw LAPACKError(routine: "dgels", info: info) }
    return Array(rhs.prefix(n))
  }
}