import Foundation
import _CBLAS

/// The scalar types BLAS computes in, with the level-1/3 kernels ggep uses.
///
/// Everything that touches more than a vector goes through `gemm`: matrix-vector work is batched
/// into matrix-matrix calls wherever several vectors are in flight.
public protocol BLASScalar: BinaryFloatingPoint, Sendable where Self.RawSignificand: FixedWidthInteger {
  static func gemm(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Self,
    _ a: UnsafePointer<Self>, _ lda: Int, _ b: UnsafePointer<Self>, _ ldb: Int, _ beta: Self,
    _ c: UnsafeMutablePointer<Self>, _ ldc: Int)
  static func dot(_ n: Int, _ x: UnsafePointer<Self>, _ y: UnsafePointer<Self>) -> Self
  static func nrm2(_ n: Int, _ x: UnsafePointer<Self>) -> Self
  static func axpy(_ n: Int, _ alpha: Self, _ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>)
  static func scal(_ n: Int, _ alpha: Self, _ x: UnsafeMutablePointer<Self>)
  /// y ← α·op(A)·x + β·y for a row-major m × n matrix A (op(A) = Aᵀ when `trans`), unit strides.
  static func gemv(
    _ trans: Bool, _ m: Int, _ n: Int, _ alpha: Self, _ a: UnsafePointer<Self>, _ lda: Int, _ x: UnsafePointer<Self>,
    _ beta: Self, _ y: UnsafeMutablePointer<Self>)
}

extension Double: BLASScalar {
  @inline(__always)
  public static func gemm(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Double,
    _ a: UnsafePointer<Double>, _ lda: Int, _ b: UnsafePointer<Double>, _ ldb: Int, _ beta: Double,
    _ c: UnsafeMutablePointer<Double>, _ ldc: Int
  ) {
    cblas_dgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }
  @inline(__always)
  public static func dot(_ n: Int, _ x: UnsafePointer<Double>, _ y: UnsafePointer<Double>) -> Double {
    cblas_ddot(Int32(n), x, 1, y, 1)
  }
  @inline(__always)
  public static func nrm2(_ n: Int, _ x: UnsafePointer<Double>) -> Double { cblas_dnrm2(Int32(n), x, 1) }
  @inline(__always)
  public static func axpy(_ n: Int, _ alpha: Double, _ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>) {
    cblas_daxpy(Int32(n), alpha, x, 1, y, 1)
  }
  @inline(__always)
  public static func scal(_ n: Int, _ alpha: Double, _ x: UnsafeMutablePointer<Double>) { cblas_dscal(Int32(n), alpha, x, 1) }
  @inline(__always)
  public static func gemv(
    _ trans: Bool, _ m: Int, _ n: Int, _ alpha: Double, _ a: UnsafePointer<Double>, _ lda: Int, _ x: UnsafePointer<Double>,
    _ beta: Double, _ y: UnsafeMutablePointer<Double>
  ) {
    cblas_dgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
  }
}

extension Float: BLASScalar {
  @inline(__always)
  public static func gemm(
    _ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int, _ alpha: Float,
    _ a: UnsafePointer<Float>, _ lda: Int, _ b: UnsafePointer<Float>, _ ldb: Int, _ beta: Float,
    _ c: UnsafeMutablePointer<Float>, _ ldc: Int
  ) {
    cblas_sgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }
  @inline(__always)
  public static func dot(_ n: Int, _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>) -> Float {
    cblas_sdot(Int32(n), x, 1, y, 1)
  }
  @inline(__always)
  public static func nrm2(_ n: Int, _ x: UnsafePointer<Float>) -> Float { cblas_snrm2(Int32(n), x, 1) }
  @inline(__always)
  public static func axpy(_ n: Int, _ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>) {
    cblas_saxpy(Int32(n), alpha, x, 1, y, 1)
  }
  @inline(__always)
  public static func scal(_ n: Int, _ alpha: Float, _ x: UnsafeMutablePointer<Float>) { cblas_sscal(Int32(n), alpha, x, 1) }
  @inline(__always)
  public static func gemv(
    _ trans: Bool, _ m: Int, _ n: Int, _ alpha: Float, _ a: UnsafePointer<Float>, _ lda: Int, _ x: UnsafePointer<Float>,
    _ beta: Float, _ y: UnsafeMutablePointer<Float>
  ) {
    cblas_sgemv(CblasRowMajor, trans ? CblasTrans : CblasNoTrans, Int32(m), Int32(n), alpha, a, Int32(lda), x, 1, beta, y, 1)
  }
}

/// OpenBLAS's own thread pool. ggep parallelises over jobs with Dispatch and gives BLAS one
/// thread, so the two never oversubscribe the cores; the count is recorded in results because
/// last bits can differ between thread counts.
public enum BLASThreads {
  public static func set(_ count: Int) { openblas_set_num_threads(Int32(count)) }
  public static var current: Int { Int(openblas_get_num_threads()) }
}

/// What decides the last bits of BLAS results on this machine, recorded in every results file.
///
/// OpenBLAS picks its kernels per CPU at load time (`OPENBLAS_CORETYPE` overrides it), and two
/// kernels sum in different orders: a results file is reproducible bit for bit on machines
/// whose core (and thread count) match, and only to rounding elsewhere (docs/reproducibility.md).
public enum MachineInfo {
  /// OpenBLAS's kernel family for this CPU (`Haswell`, `Zen`, `SkylakeX`, …).
  public static let blasCore: String = String(cString: openblas_get_corename())

  /// The CPU's model name from /proc/cpuinfo (`AMD EPYC`), or "unknown".
  public static let cpuModel: String = {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
    for line in text.split(separator: "\n") where line.hasPrefix("model name") {
      if let colon = line.firstIndex(of: ":") {
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      }
    }
    return "unknown"
  }()
}

// MARK: - Matrix products

/// C = op(A)·op(B) for row-major matrices: one BLAS call.
public func matmul<S: BLASScalar>(
  _ a: Matrix<S>, transposeA: Bool = false, _ b: Matrix<S>, transposeB: Bool = false
) -> Matrix<S> {
  let m = transposeA ? a.cols : a.rows
  let k = transposeA ? a.rows : a.cols
  let kb = transposeB ? b.cols : b.rows
  let n = transposeB ? b.rows : b.cols
  precondition(k == kb, "matmul: inner dimensions \(k) and \(kb) differ")
  var c = Matrix<S>(rows: m, cols: n)
  if m == 0 || n == 0 { return c }
  if k == 0 { return c }
  a.storage.withUnsafeBufferPointer { pa in
    b.storage.withUnsafeBufferPointer { pb in
      c.storage.withUnsafeMutableBufferPointer { pc in
        S.gemm(
          transposeA, transposeB, m, n, k, 1, pa.baseAddress!, max(a.cols, 1), pb.baseAddress!,
          max(b.cols, 1), 0, pc.baseAddress!, max(n, 1))
      }
    }
  }
  return c
}

// MARK: - Vectors

public func dot<S: BLASScalar>(_ x: [S], _ y: [S]) -> S {
  precondition(x.count == y.count)
  return x.withUnsafeBufferPointer { px in y.withUnsafeBufferPointer { py in S.dot(x.count, px.baseAddress!, py.baseAddress!) } }
}

public func norm<S: BLASScalar>(_ x: [S]) -> S {
  x.withUnsafeBufferPointer { S.nrm2(x.count, $0.baseAddress!) }
}

public func dot<S: BLASScalar>(_ x: ArraySlice<S>, _ y: ArraySlice<S>) -> S {
  precondition(x.count == y.count)
  return x.withUnsafeBufferPointer { px in y.withUnsafeBufferPointer { py in S.dot(x.count, px.baseAddress!, py.baseAddress!) } }
}

/// x/‖x‖, or nil when ‖x‖ is zero or not finite (the caller decides what that means).
public func normalized<S: BLASScalar>(_ x: [S]) -> [S]? {
  let n = norm(x)
  guard n > 0, n.isFinite else { return nil }
  return x.map { $0 / n }
}
