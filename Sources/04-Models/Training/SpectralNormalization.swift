import GGEPCore

/// Spectral normalisation of one weight matrix (docs/mathematics.md §11; Miyato et al. 2018): the layer uses
/// W_sn = W/σ(W), σ(W) the largest singular value, so every layer of the discriminator is
/// 1-Lipschitz in the Euclidean norm. σ is estimated by power iteration with a left vector u
/// that persists across training steps, so one iteration per step suffices once training has
/// warmed it up:
///
///     v ← Wᵀu / ‖Wᵀu‖,   u ← W v / ‖W v‖,   σ = uᵀ W v  (= ‖W v‖ after the update of u)
///
/// W is stored in × out like `DenseStack` (the layer's map is h ↦ h W), so u has fan-in entries
/// and v fan-out entries. (PyTorch stores the weight out × in and its u has fan-out entries; σ is
/// the same.) Both products are `Float.gemm` calls with one column, the norms are summed in
/// Double in index order, and a norm below 1e-12 is replaced by 1e-12 as in PyTorch, so a step is
/// the same bits on every run. Cost per iteration: 4·in·out flops; nothing is allocated.
///
/// The backward treats u and v as constants, as PyTorch does (no gradient through the power
/// iteration): with σ = uᵀWv, ∂σ/∂W = u vᵀ, so for G = ∂L/∂W_sn
///
///     ∂L/∂W = (G − ⟨G, W_sn⟩ u vᵀ) / σ.
///
/// This is the exact gradient of L(W/σ_max(W)) when u, v are the converged top singular vectors
/// (then ∂σ_max/∂W = u vᵀ); with one iteration per step it is the usual approximation.
public struct SpectralNormalization: Sendable {
  /// W's shape: rows = fan-in, cols = fan-out.
  public let rows: Int
  public let cols: Int
  /// The left singular vector estimate (rows entries, unit norm).
  public private(set) var u: [Float]
  /// The right singular vector estimate of the last `powerIteration` (cols entries, unit norm;
  /// zero before the first).
  public private(set) var v: [Float]
  /// σ of the last `powerIteration` (0 before the first).
  public private(set) var sigma: Float = 0

  /// Below this a norm is taken as this, so a zero column product does not divide by zero.
  public static let normFloor = 1e-12

  /// u drawn from N(0, I) of `rng` and normalised (PyTorch's initialisation).
  public init(rows: Int, cols: Int, rng: inout RandomStream) {
    precondition(rows >= 1 && cols >= 1)
    var start = rng.normals(rows)
    let length = max(start.reduce(0) { $0 + $1 * $1 }.squareRoot(), Self.normFloor)
    for i in start.indices { start[i] /= length }
    self.init(rows: rows, cols: cols, u: start.map(Float.init))
  }

  /// A saved left vector (a model file's, to continue training where it stopped).
  public init(rows: Int, cols: Int, u: [Float]) {
    precondition(rows >= 1 && cols >= 1 && u.count == rows)
    self.rows = rows
    self.cols = cols
    self.u = u
    v = [Float](repeating: 0, count: cols)
  }

  /// `iterations` ≥ 1 power iterations on W (rows × cols, row-major) from the stored u; updates
  /// u, v and σ and returns σ.
  @discardableResult
  public mutating func powerIteration(weights w: UnsafePointer<Float>, iterations: Int = 1) -> Float {
    precondition(iterations >= 1)
    let (r, c) = (rows, cols)
    var norm = 0.0
    u.withUnsafeMutableBufferPointer { uBuffer in
      v.withUnsafeMutableBufferPointer { vBuffer in
        let (u, v) = (uBuffer.baseAddress!, vBuffer.baseAddress!)
        for _ in 0..<iterations {
          Float.gemm(true, false, c, 1, r, 1, w, c, u, 1, 0, v, 1)  // v = Wᵀu
          Self.normalize(v, c)
          Float.gemm(false, false, r, 1, c, 1, w, c, v, 1, 0, u, 1)  // u = W v
          norm = Self.normalize(u, r)
        }
      }
    }
    // uᵀ(Wv) with u = Wv/‖Wv‖ is ‖Wv‖: the norm just taken, without another pass.
    sigma = Float(norm)
    return sigma
  }

  /// W_sn = W/σ (rows × cols) with the σ of the last `powerIteration`.
  public func normalize(weights w: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>) {
    precondition(sigma > 0, "spectral normalisation before a power iteration, or of a zero matrix")
    for k in 0..<(rows * cols) { target[k] = w[k] / sigma }
  }

  /// ∂L/∂W = (G − ⟨G, W_sn⟩ u vᵀ)/σ from G = ∂L/∂W_sn and the W_sn of the last `normalize`,
  /// with the u, v, σ of the last `powerIteration`: ⟨G, W_sn⟩ summed in Double in storage order,
  /// then G/σ and a rank-one `Float.gemm` update. 4·in·out flops.
  public func backward(
    gradient g: UnsafePointer<Float>, normalizedWeights wsn: UnsafePointer<Float>, into target: UnsafeMutablePointer<Float>
  ) {
    precondition(sigma > 0, "spectral normalisation backward before a power iteration")
    var inner = 0.0
    for k in 0..<(rows * cols) { inner += Double(g[k]) * Double(wsn[k]) }
    for k in 0..<(rows * cols) { target[k] = g[k] / sigma }
    let alpha = Float(-inner / Double(sigma))
    u.withUnsafeBufferPointer { u in
      v.withUnsafeBufferPointer { v in
        Float.gemm(false, false, rows, cols, 1, alpha, u.baseAddress!, 1, v.baseAddress!, cols, 1, target, cols)
      }
    }
  }

  // MARK: - Matrix conveniences (allocate; not for hot loops)

  /// `iterations` power iterations on W, then W/σ.
  public mutating func normalized(_ w: Matrix<Float>, iterations: Int = 1) -> Matrix<Float> {
    precondition(w.rows == rows && w.cols == cols)
    var out = Matrix<Float>(rows: rows, cols: cols)
    w.storage.withUnsafeBufferPointer { wp in
      powerIteration(weights: wp.baseAddress!, iterations: iterations)
      out.storage.withUnsafeMutableBufferPointer { normalize(weights: wp.baseAddress!, into: $0.baseAddress!) }
    }
    return out
  }

  /// `backward` on matrices.
  public func weightGradient(_ g: Matrix<Float>, normalizedWeights wsn: Matrix<Float>) -> Matrix<Float> {
    precondition(g.rows == rows && g.cols == cols && wsn.rows == rows && wsn.cols == cols)
    var out = Matrix<Float>(rows: rows, cols: cols)
    g.storage.withUnsafeBufferPointer { gp in
      wsn.storage.withUnsafeBufferPointer { wp in
        out.storage.withUnsafeMutableBufferPointer { backward(gradient: gp.baseAddress!, normalizedWeights: wp.baseAddress!, into: $0.baseAddress!) }
      }
    }
    return out
  }

  /// x ← x / max(‖x‖, 1e-12), the norm summed in Double in index order; returns ‖x‖.
  @discardableResult
  private static func normalize(_ x: UnsafeMutablePointer<Float>, _ count: Int) -> Double {
    var sum = 0.0
    for i in 0..<count { sum += Double(x[i]) * Double(x[i]) }
    let norm = sum.squareRoot()
    let divisor = max(norm, normFloor)
    for i in 0..<count { x[i] = Float(Double(x[i]) / divisor) }
    return norm
  }
}
