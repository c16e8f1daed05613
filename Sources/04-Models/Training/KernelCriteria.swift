#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif
import GGEPCore
import GGEPPrior

/// The non-adversarial training criteria of docs/mathematics.md §11 with a Gaussian kernel mixture
///
///     K(x, y) = Σ_h exp(−‖x − y‖²/h²)      (one term per bandwidth h),
///
/// for data rows X (n × d) and generated rows Y = G(Z) (m × d):
///
/// * Cauchy–Schwarz. For a positive definite K, (E K(X, Y))² / E K(Y¹, Y²) ≤ E K(X¹, X²) with
///   equality iff the densities agree; the generator maximises the estimate
///
///       Ĵ = c² / s,   c = (1/(nm)) Σᵢ Σⱼ K(Xᵢ, Yⱼ),   s = (1/(m(m−1))) Σ_{i≠j} K(Yᵢ, Yⱼ).
///
///   A trainer should ascend log Ĵ = 2 log c − log s, not Ĵ: both have the same maximisers, but
///   ∇ log Ĵ = 2∇c/c − ∇s/s is a difference of kernel-weighted averages of displacements, of
///   size about 1/h whatever the scale of c, whereas ∇Ĵ = Ĵ ∇ log Ĵ carries the factor Ĵ, which
///   is tiny (c ∝ e^{−‖x−y‖²/h²}) exactly when the generated rows are far from the data and a
///   gradient is needed most, and which changes by orders of magnitude during training.
/// * MMD² (generative moment matching, Li et al. 2015), minimised; the unbiased estimator
///
///       MMD² = (1/(n(n−1))) Σ_{i≠j} K(Xᵢ, Xⱼ) + (1/(m(m−1))) Σ_{i≠j} K(Yᵢ, Yⱼ) − (2/(nm)) Σᵢ Σⱼ K(Xᵢ, Yⱼ).
///
/// The gradients with respect to each generated row Yⱼ follow from
/// ∂K(x, y)/∂y = w(x, y)(x − y), w = Σ_h (2/h²) exp(−‖x − y‖²/h²): every criterion's gradient is
///
///     ∇ⱼ = Σᵢ aᵢⱼ (Xᵢ − Yⱼ) + Σ_{i≠j} bᵢⱼ (Yᵢ − Yⱼ)
///        = (Aᵀ X)ⱼ + (B Y)ⱼ − (Σᵢ aᵢⱼ + Σᵢ bᵢⱼ) Yⱼ
///
/// with a = α w(Xᵢ, Yⱼ), b = β w(Yᵢ, Yⱼ) (β includes the 2 of the symmetric pair sum):
/// log Ĵ: α = 2/(nm c), β = −2/(m(m−1) s); Ĵ: both times Ĵ; MMD²: α = −2/(nm), β = 2/(m(m−1)).
///
/// Squared distances come from one `Float.gemm` each, ‖x‖² + ‖y‖² − 2 X Yᵀ clamped at 0 (the
/// within-set products only on the upper triangle, mirrored, so the kernel matrix is exactly
/// symmetric); each kernel and weight is evaluated in Double from the Float distance (so K stays a
/// normal number up to ‖x − y‖² ≈ 708 h², against ≈ 87 h² in Float), the sums run in Double in row
/// order, and a, b are scaled by α, β before they are rounded to Float for the two gradient
/// GEMMs. Deterministic; cost 2(nm + m² [+ n²])d flops of GEMM and (nm + m²/2 [+ n²/2]) × #h
/// exponentials per call (the bracket for MMD²'s data term); nothing allocated after the
/// `Workspace`.
public struct KernelCriteria: Sendable {
  /// The bandwidths h of the mixture.
  public let bandwidths: [Float]
  /// 1/h² in Double.
  private let inverseSquares: [Double]

  public init(bandwidths: [Float]) {
    precondition(!bandwidths.isEmpty && bandwidths.allSatisfy { $0 > 0 && $0.isFinite }, "bandwidths must be positive")
    self.bandwidths = bandwidths
    inverseSquares = bandwidths.map { 1 / (Double($0) * Double($0)) }
  }

  /// K at squared distance d², in Double.
  public func kernel(squaredDistance d2: Double) -> Double {
    inverseSquares.reduce(0) { $0 + exp(-d2 * $1) }
  }

  /// The two means of the Cauchy–Schwarz criterion, and the criterion from them.
  public struct CauchySchwarzValue: Sendable, Equatable {
    /// c = (1/(nm)) Σᵢ Σⱼ K(Xᵢ, Yⱼ).
    public let crossMean: Double
    /// s = (1/(m(m−1))) Σ_{i≠j} K(Yᵢ, Yⱼ).
    public let generatedMean: Double
    /// Ĵ = c²/s.
    public var ratio: Double { crossMean * crossMean / generatedMean }
    /// log Ĵ = 2 log c − log s (−∞ when every cross kernel underflows).
    public var logRatio: Double { 2 * log(crossMean) - log(generatedMean) }
  }

  /// Which Cauchy–Schwarz quantity `cauchySchwarz` differentiates.
  public enum CauchySchwarzGradient: Sendable {
    /// ∇ Ĵ.
    case ratio
    /// ∇ log Ĵ, what a trainer should ascend (see the type's documentation).
    case logRatio
  }

  /// Buffers for one (n, m, d): squared norms, distance / weight matrices (Float for the GEMMs,
  /// Double for the kernel weights), one 64-byte-aligned allocation each.
  public final class Workspace: @unchecked Sendable {
    // @unchecked: a workspace belongs to one training step on one thread.
    public let dataRows: Int
    public let generatedRows: Int
    public let dimension: Int
    private let arena: AlignedFloats
    let crossWeights: UnsafeMutablePointer<Double>
    let withinWeights: UnsafeMutablePointer<Double>

    public init(dataRows n: Int, generatedRows m: Int, dimension d: Int) {
      precondition(n >= 2 && m >= 2 && d >= 1, "kernel criteria need at least two data and two generated rows")
      dataRows = n
      generatedRows = m
      dimension = d
      arena = AlignedFloats([n, m, n * m, m * m, n * n])
      crossWeights = .allocate(capacity: n * m)
      crossWeights.initialize(repeating: 0, count: n * m)
      withinWeights = .allocate(capacity: m * m)
      withinWeights.initialize(repeating: 0, count: m * m)
    }

    deinit {
      crossWeights.deallocate()
      withinWeights.deallocate()
    }

    var dataNorms: UnsafeMutablePointer<Float> { arena.buffers[0] }
    var generatedNorms: UnsafeMutablePointer<Float> { arena.buffers[1] }
    /// n × m: −2XYᵀ, then the Float coefficients a.
    var cross: UnsafeMutablePointer<Float> { arena.buffers[2] }
    /// m × m: −2YYᵀ, then the Float coefficients b.
    var within: UnsafeMutablePointer<Float> { arena.buffers[3] }
    /// n × n: −2XXᵀ.
    var data: UnsafeMutablePointer<Float> { arena.buffers[4] }
  }

  public func makeWorkspace(dataRows n: Int, generatedRows m: Int, dimension d: Int) -> Workspace {
    Workspace(dataRows: n, generatedRows: m, dimension: d)
  }

  // MARK: - Criteria

  /// Ĵ's two means for data X (n × d) and generated Y (m × d), the sizes of `workspace`; unless
  /// nil, `gradient` (m × d) receives ∇_Y Ĵ or ∇_Y log Ĵ (`of`).
  public func cauchySchwarz(
    data x: UnsafePointer<Float>, generated y: UnsafePointer<Float>, workspace ws: Workspace,
    gradient: UnsafeMutablePointer<Float>?, of quantity: CauchySchwarzGradient = .logRatio
  ) -> CauchySchwarzValue {
    let (n, m) = (ws.dataRows, ws.generatedRows)
    let needWeights = gradient != nil
    let cross = crossSum(x, y, ws, weights: needWeights)
    let within = withinSum(y, rows: m, ws.generatedNorms, ws.within, ws, weights: needWeights ? ws.withinWeights : nil)
    let value = CauchySchwarzValue(crossMean: cross / Double(n * m), generatedMean: within / Double(m * (m - 1)))
    if let gradient {
      let factor = quantity == .ratio ? value.ratio : 1
      assembleGradient(x, y, ws, crossScale: factor * 2 / cross, withinScale: -factor * 2 / within, into: gradient)
    }
    return value
  }

  /// The unbiased MMD² for data X (n × d) and generated Y (m × d), the sizes of `workspace`;
  /// unless nil, `gradient` (m × d) receives ∇_Y MMD².
  public func mmd2(
    data x: UnsafePointer<Float>, generated y: UnsafePointer<Float>, workspace ws: Workspace, gradient: UnsafeMutablePointer<Float>?
  ) -> Double {
    let (n, m) = (ws.dataRows, ws.generatedRows)
    let needWeights = gradient != nil
    let cross = crossSum(x, y, ws, weights: needWeights)
    let within = withinSum(y, rows: m, ws.generatedNorms, ws.within, ws, weights: needWeights ? ws.withinWeights : nil)
    let dataWithin = withinSum(x, rows: n, ws.dataNorms, ws.data, ws, weights: nil)
    if let gradient {
      assembleGradient(x, y, ws, crossScale: -2 / Double(n * m), withinScale: 2 / Double(m * (m - 1)), into: gradient)
    }
    return dataWithin / Double(n * (n - 1)) + within / Double(m * (m - 1)) - 2 * cross / Double(n * m)
  }

  /// (1/(n(n−1))) Σ_{i≠j} K(Xᵢ, Xⱼ) for the data rows of `workspace`: the estimate of
  /// E K(X¹, X²), the Cauchy–Schwarz bound that Ĵ reaches when the densities agree.
  public func dataKernelMean(data x: UnsafePointer<Float>, workspace ws: Workspace) -> Double {
    let n = ws.dataRows
    return withinSum(x, rows: n, ws.dataNorms, ws.data, ws, weights: nil) / Double(n * (n - 1))
  }

  // MARK: - Matrix conveniences (allocate; not for hot loops)

  public func cauchySchwarz(
    data x: Matrix<Float>, generated y: Matrix<Float>, of quantity: CauchySchwarzGradient = .logRatio
  ) -> (value: CauchySchwarzValue, gradient: Matrix<Float>) {
    precondition(x.cols == y.cols)
    let ws = Workspace(dataRows: x.rows, generatedRows: y.rows, dimension: x.cols)
    var gradient = Matrix<Float>(rows: y.rows, cols: y.cols)
    let value = x.storage.withUnsafeBufferPointer { xp in
      y.storage.withUnsafeBufferPointer { yp in
        gradient.storage.withUnsafeMutableBufferPointer {
          cauchySchwarz(data: xp.baseAddress!, generated: yp.baseAddress!, workspace: ws, gradient: $0.baseAddress!, of: quantity)
        }
      }
    }
    return (value, gradient)
  }

  public func mmd2(data x: Matrix<Float>, generated y: Matrix<Float>) -> (value: Double, gradient: Matrix<Float>) {
    precondition(x.cols == y.cols)
    let ws = Workspace(dataRows: x.rows, generatedRows: y.rows, dimension: x.cols)
    var gradient = Matrix<Float>(rows: y.rows, cols: y.cols)
    let value = x.storage.withUnsafeBufferPointer { xp in
      y.storage.withUnsafeBufferPointer { yp in
        gradient.storage.withUnsafeMutableBufferPointer {
          mmd2(data: xp.baseAddress!, generated: yp.baseAddress!, workspace: ws, gradient: $0.baseAddress!)
        }
      }
    }
    return (value, gradient)
  }

  public func dataKernelMean(_ x: Matrix<Float>) -> Double {
    let ws = Workspace(dataRows: x.rows, generatedRows: 2, dimension: x.cols)
    return x.storage.withUnsafeBufferPointer { dataKernelMean(data: $0.baseAddress!, workspace: ws) }
  }

  // MARK: - Implementation

  /// ‖row‖² of each row, summed in Double, rounded once.
  private func squaredNorms(_ a: UnsafePointer<Float>, rows: Int, dimension d: Int, into norms: UnsafeMutablePointer<Float>) {
    for i in 0..<rows {
      var sum = 0.0
      for k in 0..<d { sum += Double(a[i * d + k]) * Double(a[i * d + k]) }
      norms[i] = Float(sum)
    }
  }

  /// K and w = Σ_h (2/h²) K_h at the Float squared distance d².
  @inline(__always)
  private func kernelAndWeight(_ d2: Float) -> (kernel: Double, weight: Double) {
    var kernel = 0.0
    var weight = 0.0
    for s in inverseSquares {
      let e = exp(-Double(d2) * s)
      kernel += e
      weight += 2 * s * e
    }
    return (kernel, weight)
  }

  /// Σᵢ Σⱼ K(Xᵢ, Yⱼ); with `weights`, w(Xᵢ, Yⱼ) into `ws.crossWeights` (n × m).
  private func crossSum(_ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ ws: Workspace, weights: Bool) -> Double {
    let (n, m, d) = (ws.dataRows, ws.generatedRows, ws.dimension)
    squaredNorms(x, rows: n, dimension: d, into: ws.dataNorms)
    squaredNorms(y, rows: m, dimension: d, into: ws.generatedNorms)
    Float.gemm(false, true, n, m, d, -2, x, d, y, d, 0, ws.cross, m)
    var sum = 0.0
    for i in 0..<n {
      for j in 0..<m {
        let d2 = max(ws.cross[i * m + j] + ws.dataNorms[i] + ws.generatedNorms[j], 0)
        let (kernel, weight) = kernelAndWeight(d2)
        sum += kernel
        if weights { ws.crossWeights[i * m + j] = weight }
      }
    }
    return sum
  }

  /// Σ_{i≠j} K(Aᵢ, Aⱼ) over the rows of A (rows × d), from the upper triangle of one GEMM into
  /// `products` (rows × rows); `norms` receives the rows' squared norms. With `weights`, the
  /// symmetric w(Aᵢ, Aⱼ) (zero diagonal) into it.
  private func withinSum(
    _ a: UnsafePointer<Float>, rows: Int, _ norms: UnsafeMutablePointer<Float>, _ products: UnsafeMutablePointer<Float>, _ ws: Workspace,
    weights: UnsafeMutablePointer<Double>?
  ) -> Double {
    let d = ws.dimension
    squaredNorms(a, rows: rows, dimension: d, into: norms)
    Float.gemm(false, true, rows, rows, d, -2, a, d, a, d, 0, products, rows)
    var sum = 0.0
    for i in 0..<rows {
      weights?[i * rows + i] = 0
      for j in (i + 1)..<rows {
        let d2 = max(products[i * rows + j] + norms[i] + norms[j], 0)
        let (kernel, weight) = kernelAndWeight(d2)
        sum += kernel
        if let weights {
          weights[i * rows + j] = weight
          weights[j * rows + i] = weight
        }
      }
    }
    return 2 * sum
  }

  /// ∇ⱼ = (Aᵀ X)ⱼ + (B Y)ⱼ − (Σᵢ aᵢⱼ + Σᵢ bᵢⱼ) Yⱼ with a = crossScale · w(X, Y) and
  /// b = withinScale · w(Y, Y) rounded to Float (the row sums over the same rounded values, so
  /// the two parts cancel as the direct sum Σ a (Xᵢ − Yⱼ) would).
  private func assembleGradient(
    _ x: UnsafePointer<Float>, _ y: UnsafePointer<Float>, _ ws: Workspace, crossScale: Double, withinScale: Double,
    into gradient: UnsafeMutablePointer<Float>
  ) {
    let (n, m, d) = (ws.dataRows, ws.generatedRows, ws.dimension)
    for k in 0..<(n * m) { ws.cross[k] = Float(crossScale * ws.crossWeights[k]) }
    for k in 0..<(m * m) { ws.within[k] = Float(withinScale * ws.withinWeights[k]) }
    Float.gemm(true, false, m, d, n, 1, ws.cross, m, x, d, 0, gradient, d)
    Float.gemm(false, false, m, d, m, 1, ws.within, m, y, d, 1, gradient, d)
    for j in 0..<m {
      var total = 0.0
      for i in 0..<n { total += Double(ws.cross[i * m + j]) }
      for i in 0..<m { total += Double(ws.within[j * m + i]) }
      for k in 0..<d { gradient[j * d + k] = Float(Double(gradient[j * d + k]) - total * Double(y[j * d + k])) }
    }
  }
}
