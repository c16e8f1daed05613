import Foundation
import GGEPCore
import GGEPPrior

// The two first-order solvers shared by Layered Basis-Pursuit and Latent-Pursuit (docs/mathematics.md §10):
// FISTA for a layer with equations only, the linearized ADMM for a ReLU layer whose inactive
// outputs add inequalities. One implementation of each, and of the proximal maps they share.

/// The penalty on a layer's input and its proximal map (docs/mathematics.md §10).
enum PursuitPenalty: Equatable, Sendable {
  /// λ‖h‖₁ with h ≥ 0: a hidden layer's input is a ReLU output, sparse and nonnegative.
  case sparseNonnegative(Double)
  /// (γ/2)‖h‖², h free: Latent-Pursuit's MAP term for z ~ N(0, I); γ = 0 is no penalty.
  case ridge(Double)

  /// v ← prox_{t·penalty}(v) = argmin_h penalty(h) + ‖h − v‖²/(2t): max(0, v − tλ) (the projected
  /// soft threshold), or v/(1 + tγ).
  func prox(_ v: inout [Double], step t: Double) {
    switch self {
    case .sparseNonnegative(let lambda):
      let shift = t * lambda
      for i in v.indices { v[i] = max(0, v[i] - shift) }
    case .ridge(let gamma):
      guard gamma != 0 else { return }
      let shrink = 1 / (1 + t * gamma)
      for i in v.indices { v[i] *= shrink }
    }
  }
}

/// One layer's equations for its input h ∈ Rⁿ (docs/mathematics.md §10), with y = act(h W + b) the layer's
/// output (W in × out, as `InversionNetwork` stores it):
///
///     equality rows E:    φ((h W + b)_j) ≈ y_j     (φ = identity for a ReLU layer's support)
///     inequality rows I:  (h W + b)_j ≤ 0          (a ReLU layer's inactive outputs)
///
/// W's columns E then I are gathered into one dense n × (|E| + |I|) matrix, so one GEMM gives
/// every row's pre-activation and one the pullback.
struct PursuitLayer {
  let weights: Matrix<Double>  // n × (|E| + |I|), columns E first
  let bias: [Double]  // |E| + |I|
  let target: [Double]  // |E|
  let equalities: Int
  let activation: Activation  // φ on the equality rows

  init(_ layer: InversionNetwork.Layer, equalityRows: [Int], target: [Double], inequalityRows: [Int] = [], activation: Activation = .identity) {
    precondition(target.count == equalityRows.count)
    let (fanIn, fanOut) = (layer.weights.rows, layer.weights.cols)
    let columns = equalityRows + inequalityRows
    var w = Matrix<Double>(rows: fanIn, cols: columns.count)
    for i in 0..<fanIn {
      for (c, j) in columns.enumerated() { w.storage[i * columns.count + c] = layer.weights.storage[i * fanOut + j] }
    }
    weights = w
    bias = layer.bias.isEmpty ? [Double](repeating: 0, count: columns.count) : columns.map { layer.bias[$0] }
    self.target = target
    equalities = equalityRows.count
    self.activation = activation
  }

  /// A problem given directly by its matrix (n × rows, equality columns first), for tests.
  init(weights: Matrix<Double>, bias: [Double], target: [Double], equalities: Int, activation: Activation = .identity) {
    precondition(bias.count == weights.cols && target.count == equalities && equalities <= weights.cols)
    self.weights = weights
    self.bias = bias
    self.target = target
    self.equalities = equalities
    self.activation = activation
  }

  var inputDimension: Int { weights.rows }
  var rows: Int { weights.cols }

  /// h W + b over every row (one GEMM).
  func preactivation(_ h: [Double]) -> [Double] {
    var pre = bias
    let (n, m) = (weights.rows, weights.cols)
    guard n > 0, m > 0 else { return pre }
    h.withUnsafeBufferPointer { ph in
      weights.storage.withUnsafeBufferPointer { pw in
        pre.withUnsafeMutableBufferPointer { pp in
          Double.gemm(false, false, 1, m, n, 1, ph.baseAddress!, n, pw.baseAddress!, m, 1, pp.baseAddress!, m)
        }
      }
    }
    return pre
  }

  /// W r ∈ Rⁿ for r over every row (one GEMM): the pullback of a gradient in the rows.
  func pullback(_ r: [Double]) -> [Double] {
    let (n, m) = (weights.rows, weights.cols)
    var g = [Double](repeating: 0, count: n)
    guard n > 0, m > 0 else { return g }
    r.withUnsafeBufferPointer { pr in
      weights.storage.withUnsafeBufferPointer { pw in
        g.withUnsafeMutableBufferPointer { pg in
          Double.gemm(false, true, 1, n, m, 1, pr.baseAddress!, m, pw.baseAddress!, m, 0, pg.baseAddress!, n)
        }
      }
    }
    return g
  }

  /// The gradient of the data term ½Σ_{j ∈ E} (φ(pre_j) − y_j)² with respect to pre, on the
  /// equality rows (zero on the others): φ'(pre_j)(φ(pre_j) − y_j).
  func dataResidual(_ pre: [Double]) -> [Double] {
    var r = [Double](repeating: 0, count: rows)
    if activation == .identity {
      for j in 0..<equalities { r[j] = pre[j] - target[j] }
    } else {
      for j in 0..<equalities {
        r[j] = Pursuit.derivative(activation, pre[j]) * (InversionNetwork.apply(activation, pre[j]) - target[j])
      }
    }
    return r
  }

  /// ‖∇ data term at h = 0‖∞: the smallest λ at which h = 0 solves the (unconstrained) ℓ1
  /// problem. λ relative to it means the same at every scale of W, b and y.
  var lambdaScale: Double {
    pullback(dataResidual(bias)).reduce(0) { max($0, Swift.abs($1)) }
  }

  /// The columns of W scaled: E by 1, I by √ρ (the matrix whose ‖·‖₂² bounds the ADMM's
  /// linearised quadratic).
  func scaledInequalities(_ rho: Double) -> Matrix<Double> {
    guard rho != 1, equalities < rows else { return weights }
    var w = weights
    let s = rho.squareRoot()
    for i in 0..<w.rows { for c in equalities..<rows { w.storage[i * rows + c] *= s } }
    return w
  }
}

/// A pursuit's answer for one layer.
struct PursuitSolution {
  var h: [Double]
  var iterations: Int
  /// Whether the tolerance was met before the budget ran out.
  var converged: Bool
  /// The ADMM's multipliers ν ≥ 0 of the inequality rows (empty for FISTA).
  var multipliers: [Double] = []
  /// The exact ADMM's scaled multipliers of h = g, for a warm start (empty otherwise).
  var scaledHMultipliers: [Double] = []
}

enum Pursuit {
  /// φ'(t) of the strictly increasing activations (1 for identity; relu's and softplus's are
  /// not needed: a ReLU layer is split by its support, softplus is refused).
  static func derivative(_ activation: Activation, _ t: Double) -> Double {
    switch activation {
    case .identity: return 1
    case .relu: return t > 0 ? 1 : 0
    case .leakyRelu(let a): return t > 0 ? 1 : Double(a)
    case .softplus, .sigmoid:
      let s = 1 / (1 + exp(-t))
      return activation == .softplus ? s : s * (1 - s)
    case .tanh:
      let y = Foundation.tanh(t)
      return 1 - y * y
    case .plu(let a, let c): return Swift.abs(t) <= Double(c) ? 1 : Double(a)
    }
  }

  /// A bound on d²/dt² ½(φ(t) − y)² = φ'² + (φ − y)φ'' over t, for the targets y: with W's norm,
  /// the Lipschitz constant of the data term's gradient. The piecewise-linear φ (identity,
  /// leaky-relu, PLU) have slopes ≤ 1 and φ'' = 0 between their kinks; sigmoid has φ' ≤ 1/4,
  /// |φ''| ≤ 1/(6√3) and residuals ≤ max(|y|, |1 − y|); tanh φ' ≤ 1, |φ''| ≤ 4/(3√3), residuals
  /// ≤ 1 + |y|.
  static func curvature(_ activation: Activation, targets: [Double]) -> Double {
    switch activation {
    case .sigmoid:
      let r = targets.reduce(0) { max($0, Swift.abs($1), Swift.abs(1 - $1)) }
      return 1.0 / 16 + r / (6 * 3.0.squareRoot())
    case .tanh:
      let r = targets.reduce(0) { max($0, 1 + Swift.abs($1)) }
      return 1 + 4 * r / (3 * 3.0.squareRoot())
    default: return 1
    }
  }

  static func spectralNormSquared(_ w: Matrix<Double>, layer: Int) throws(InversionFailure) -> Double {
    do {
      let s = try LAPACK.spectralNorm(w)
      return s * s
    } catch {
      throw InversionFailure(layer: layer, reason: "the spectral norm of the layer's rows failed: \(error)")
    }
  }

  /// FISTA (Beck & Teboulle 2009; Aberdam et al., Alg. 3) on the equality rows only:
  ///
  ///     minimise  ½ Σ_{j ∈ E} (φ((h W + b)_j) − y_j)² + penalty(h),
  ///
  /// step t = 1/L with L = c_φ‖W_E‖₂² (`curvature`, ‖·‖₂ by `dgesdd`):
  ///
  ///     x_{k+1} = prox_{t·penalty}(v_k − t ∇(v_k)),  s_{k+1} = (1 + √(1 + 4s_k²))/2,
  ///     v_{k+1} = x_{k+1} + ((s_k − 1)/s_{k+1})(x_{k+1} − x_k),
  ///
  /// from x₀ = 0 (or `start`), with the adaptive restart of O'Donoghue & Candès (momentum reset to s = 1
  /// whenever (v_k − x_{k+1})·(x_{k+1} − x_k) > 0), which keeps FISTA's O(1/k²) and makes it
  /// linear on the strongly convex layers of an expansive net. Stops when the prox-gradient step
  /// ‖x_{k+1} − v_k‖ (the optimality residual: zero exactly at a minimiser) is at most
  /// `tolerance`·‖x_{k+1}‖, or after `iterations` steps.
  static func fista(
    _ p: PursuitLayer, penalty: PursuitPenalty, iterations: Int, tolerance: Double, layer: Int, start: [Double]? = nil
  ) throws(InversionFailure) -> PursuitSolution {
    precondition(p.equalities == p.rows, "FISTA takes equality rows only")
    let n = p.inputDimension
    var x = start ?? [Double](repeating: 0, count: n)
    let lipschitz = try curvature(p.activation, targets: p.target) * spectralNormSquared(p.weights, layer: layer)
    // No rows: the data term is zero and x = 0 minimises every penalty.
    guard lipschitz > 0, n > 0 else { return PursuitSolution(h: x, iterations: 0, converged: true) }
    let t = 1 / lipschitz
    var v = x
    var s = 1.0
    for k in 1...max(iterations, 1) {
      let g = p.pullback(p.dataResidual(p.preactivation(v)))
      var next = v
      for i in 0..<n { next[i] -= t * g[i] }
      penalty.prox(&next, step: t)
      var step = 0.0, size = 0.0, restart = 0.0
      for i in 0..<n {
        step += (next[i] - v[i]) * (next[i] - v[i])
        size += next[i] * next[i]
        restart += (v[i] - next[i]) * (next[i] - x[i])
      }
      if step <= tolerance * tolerance * size || step == 0 {
        return PursuitSolution(h: next, iterations: k, converged: true)
      }
      if restart > 0 {
        s = 1
        v = next
      } else {
        let sNext = (1 + (1 + 4 * s * s).squareRoot()) / 2
        let beta = (s - 1) / sNext
        for i in 0..<n { v[i] = next[i] + beta * (next[i] - x[i]) }
        s = sNext
      }
      x = next
    }
    return PursuitSolution(h: x, iterations: max(iterations, 1), converged: false)
  }

  /// The linearized ADMM (alternating-direction proximal method of multipliers; Beck, First-Order
  /// Methods in Optimization, ch. 15; Aberdam et al., Alg. 4) for a ReLU layer:
  ///
  ///     minimise  ½‖W_Eᵀh + b_E − y_E‖² + penalty(h)   s.t.   u = W_Iᵀh + b_I,  u ≤ 0.
  ///
  /// With the scaled multiplier v/ρ, each step is
  ///
  ///     h ← prox_{μ·penalty}(h − μ[W_E(W_Eᵀh + b_E − y_E) + W_I(ρ(W_Iᵀh + b_I − u) + v)])
  ///     u ← min(0, W_Iᵀh + b_I + v/ρ)
  ///     v ← v + ρ(W_Iᵀh + b_I − u)
  ///
  /// where the proximal term ½‖h − h_k‖²_Q with Q = I/μ − W_E W_Eᵀ − ρW_I W_Iᵀ turns the
  /// h-step into one prox of the penalty (no matrix inverse); Q ⪰ 0 needs
  /// 1/μ ≥ ‖[W_E, √ρ W_I]‖₂², taken with equality (`dgesdd`) — for ρ = 1 that is ‖W‖₂² of the
  /// rows in use. From h = 0, u = min(0, b_I), v = 0. v stays ≥ 0 and is the KKT multiplier of
  /// the inequalities at the limit. Stops when ‖Δh‖ ≤ `tolerance`·‖h‖ and the constraint
  /// residual ‖W_Iᵀh + b_I − u‖ ≤ `tolerance`·‖Wᵀh + b‖, or after `iterations` steps.
  ///
  /// `start` warm-starts h and the multipliers v from an earlier solution (a continuation's
  /// previous stage); u then starts at min(0, W_Iᵀh + b_I + v/ρ), its value after that step.
  static func linearizedADMM(
    _ p: PursuitLayer, penalty: PursuitPenalty, rho: Double, iterations: Int, tolerance: Double, layer: Int,
    start: PursuitSolution? = nil
  ) throws(InversionFailure) -> PursuitSolution {
    precondition(p.activation == .identity && rho > 0)
    let (n, m, q) = (p.inputDimension, p.equalities, p.rows - p.equalities)
    var h = start?.h ?? [Double](repeating: 0, count: n)
    var pre = p.preactivation(h)
    var v = start.map { $0.multipliers.count == q ? $0.multipliers : [Double](repeating: 0, count: q) } ?? [Double](repeating: 0, count: q)
    var u = (0..<q).map { min(0, pre[m + $0] + v[$0] / rho) }
    let normSquared = try spectralNormSquared(p.scaledInequalities(rho), layer: layer)
    guard normSquared > 0, n > 0 else { return PursuitSolution(h: h, iterations: 0, converged: true, multipliers: v) }
    let mu = 1 / normSquared
    var r = [Double](repeating: 0, count: p.rows)
    for k in 1...max(iterations, 1) {
      for j in 0..<m { r[j] = pre[j] - p.target[j] }
      for i in 0..<q { r[m + i] = rho * (pre[m + i] - u[i]) + v[i] }
      let g = p.pullback(r)
      var next = h
      for i in 0..<n { next[i] -= mu * g[i] }
      penalty.prox(&next, step: mu)
      pre = p.preactivation(next)
      var residual = 0.0
      for i in 0..<q {
        u[i] = min(0, pre[m + i] + v[i] / rho)
        let d = pre[m + i] - u[i]
        v[i] += rho * d
        residual += d * d
      }
      var step = 0.0, size = 0.0
      for i in 0..<n {
        step += (next[i] - h[i]) * (next[i] - h[i])
        size += next[i] * next[i]
      }
      h = next
      let scale = pre.reduce(0) { $0 + $1 * $1 }
      if (step <= tolerance * tolerance * size || step == 0) && (residual <= tolerance * tolerance * scale || residual == 0) {
        return PursuitSolution(h: h, iterations: k, converged: true, multipliers: v)
      }
    }
    return PursuitSolution(h: h, iterations: max(iterations, 1), converged: false, multipliers: v)
  }

  /// ADMM with an exact h-step (Boyd et al., "Distributed optimization … ADMM", §5; the
  /// splitting, not Aberdam et al.'s linearisation) for a ReLU layer:
  ///
  ///     minimise  ½‖W_Eᵀh + b_E − y_E‖² + penalty(g)   s.t.   h = g,  u = W_Iᵀh + b_I,  u ≤ 0.
  ///
  /// With scaled multipliers a (of h = g) and c (of the inequality rows), each step is
  ///
  ///     h ← K⁻¹ [W_E(y_E − b_E) + ρ(g − a) + ρW_I(u − b_I − c)],   K = W_E W_Eᵀ + ρ(I + W_I W_Iᵀ)
  ///     g ← prox_{penalty/ρ}(h + a),    u ← min(0, W_Iᵀh + b_I + c)
  ///     a ← a + h − g,                  c ← c + W_Iᵀh + b_I − u
  ///
  /// K is factored once (`dpotrf`) and each h-step is two triangular solves, so the step is as
  /// cheap as the linearised one's GEMMs while it moves the whole way in the data term's flat
  /// directions — where an underdetermined layer (fewer active rows than inputs) leaves the
  /// linearised step only λ's small push, and it stalls far from the solution. ρ is relative:
  /// ρ_abs = ρ · trace(W Wᵀ)/n, the mean eigenvalue, so one value fits every scale. Returns g
  /// (sparse and ≥ 0 exactly). Stops when ‖h − g‖, the rows' constraint residual and the change
  /// of g are each at most `tolerance` relative to ‖g‖ (the residual to ‖Wᵀg + b‖), or after
  /// `iterations` steps; `start` warm-starts g, a, c from a continuation's previous stage.
  static func admm(
    _ p: PursuitLayer, penalty: PursuitPenalty, rho: Double, iterations: Int, tolerance: Double, layer: Int,
    start: PursuitSolution? = nil
  ) throws(InversionFailure) -> PursuitSolution {
    precondition(p.activation == .identity && rho > 0)
    let (n, m, q) = (p.inputDimension, p.equalities, p.rows - p.equalities)
    guard n > 0 else { return PursuitSolution(h: [], iterations: 0, converged: true) }
    let w = p.weights
    // K = W_E W_Eᵀ + ρ(I + W_I W_Iᵀ) with ρ relative to the mean eigenvalue of W Wᵀ.
    var trace = 0.0
    for x in w.storage { trace += x * x }
    let rhoAbs = rho * max(trace / Double(n), .leastNormalMagnitude)
    var scaled = w
    let s = rhoAbs.squareRoot()
    for i in 0..<n { for c in m..<(m + q) { scaled.storage[i * (m + q) + c] *= s } }
    var k = matmul(scaled, scaled, transposeB: true)
    for i in 0..<n { k.storage[i * n + i] += rhoAbs }
    let factor: Matrix<Double>
    do {
      factor = try LAPACK.cholesky(k)
    } catch {
      throw InversionFailure(layer: layer, reason: "the ADMM's system matrix could not be factored: \(error)")
    }
    // The data term's fixed part, W_E (y_E − b_E).
    var fixed = [Double](repeating: 0, count: p.rows)
    for j in 0..<m { fixed[j] = p.target[j] - p.bias[j] }
    let dataPart = p.pullback(fixed)

    var g = start?.h ?? [Double](repeating: 0, count: n)
    var a = start.map { $0.scaledHMultipliers.count == n ? $0.scaledHMultipliers : [Double](repeating: 0, count: n) } ?? [Double](repeating: 0, count: n)
    var c = start.map { $0.multipliers.count == q ? $0.multipliers.map { $0 / rhoAbs } : [Double](repeating: 0, count: q) } ?? [Double](repeating: 0, count: q)
    var u = [Double](repeating: 0, count: q)
    let preStart = p.preactivation(g)
    for i in 0..<q { u[i] = min(0, preStart[m + i] + c[i]) }
    var r = [Double](repeating: 0, count: p.rows)
    for step in 1...max(iterations, 1) {
      for i in 0..<q { r[m + i] = rhoAbs * (u[i] - p.bias[m + i] - c[i]) }
      let inequalityPart = p.pullback(r)
      var rhs = dataPart
      for i in 0..<n { rhs[i] += rhoAbs * (g[i] - a[i]) + inequalityPart[i] }
      let h: [Double]
      do {
        h = try LAPACK.choleskySolve(factor, rhs)
      } catch {
        throw InversionFailure(layer: layer, reason: "the ADMM's h-step failed: \(error)")
      }
      var next = h
      for i in 0..<n { next[i] += a[i] }
      penalty.prox(&next, step: 1 / rhoAbs)
      var change = 0.0, gap = 0.0, size = 0.0
      for i in 0..<n {
        change += (next[i] - g[i]) * (next[i] - g[i])
        gap += (h[i] - next[i]) * (h[i] - next[i])
        size += next[i] * next[i]
        a[i] += h[i] - next[i]
      }
      g = next
      let pre = p.preactivation(h)
      var residual = 0.0
      for i in 0..<q {
        u[i] = min(0, pre[m + i] + c[i])
        let d = pre[m + i] - u[i]
        c[i] += d
        residual += d * d
      }
      let scale = pre.reduce(0) { $0 + $1 * $1 }
      let tol2 = tolerance * tolerance
      if (gap <= tol2 * size || gap == 0) && (change <= tol2 * size || change == 0) && (residual <= tol2 * scale || residual == 0) {
        return PursuitSolution(h: g, iterations: step, converged: true, multipliers: c.map { $0 * rhoAbs }, scaledHMultipliers: a)
      }
    }
    return PursuitSolution(h: g, iterations: max(iterations, 1), converged: false, multipliers: c.map { $0 * rhoAbs }, scaledHMultipliers: a)
  }

  /// The active rows of a ReLU layer's output estimate: y_j > τ with τ = `threshold`·max|y|
  /// over the rows considered, so a pursuit's round-off above zero does not join the support
  /// (a false active row forces a negative pre-activation to zero; a missed one only relaxes
  /// an equation into an inequality).
  static func support(_ y: [Double], considered: (Int) -> Bool, threshold: Double) -> [Bool] {
    var scale = 0.0
    for j in y.indices where considered(j) { scale = max(scale, Swift.abs(y[j])) }
    let tau = threshold * scale
    return y.indices.map { considered($0) && y[$0] > tau }
  }
}
