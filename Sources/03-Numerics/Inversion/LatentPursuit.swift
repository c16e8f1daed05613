import Foundation
import GGEPPrior

/// Latent-Pursuit (Aberdam, Simon, Elad; Algs. 3–5; docs/mathematics.md §10): the network inverted from the
/// output down, each layer's input estimated from the estimate ŷ of its output with the
/// layer's nonlinearity kept, not inverted:
///
/// * a strictly increasing φ (the output's identity, sigmoid, tanh, PLU, leaky-relu):
///   min ½‖φ(hW + b) − ŷ‖² + penalty(h) over the (observed) rows, by FISTA (Alg. 3);
/// * a ReLU layer, S = support of ŷ: min ½‖(hW + b)_S − ŷ_S‖² + penalty(h) subject to
///   (hW + b)_{S^c} ≤ 0 — the zeros of ŷ used as inequalities — by the linearized ADMM (Alg. 4);
///
/// with penalty λ‖h‖₁, h ≥ 0 when h is a hidden ReLU output, (γ/2)‖z‖² (the MAP term of
/// z ~ N(0, I)) and no sign constraint for the latent, and no penalty for a hidden layer with
/// an invertible activation (dense, of either sign). Debiasing (Alg. 5, optional) then freezes
/// every recovered support — the network is linear in z on them — and solves the oracle's
/// least squares with those supports (`InversionNetwork.leastSquaresOnSupports`). Inpainting:
/// only the observed outputs enter the last layer.
public struct LatentPursuit: LatentInverter {
  /// The defaults are for noiseless (or nearly noiseless) data, docs/mathematics.md §10's random nets: there λ
  /// and γ only break ties and every bit of them biases ẑ. Measured on 20-100-625 nets (three
  /// nets × three z*, threshold 1e-5): plain Latent-Pursuit's latent SNR is 100 dB (capped) at
  /// λ ≤ 1e-6, ≈ 89 dB at 1e-5, 79 at 3e-5, 69 at 1e-4, 49 at 1e-3 while the supports are
  /// right; but from λ = 3e-5 the lasso's bias lifts a true zero of ĥ₁ (to ≈ 0.2·λ_abs) above the
  /// threshold, on 3–4 of the 9 draws, and that false support entry ruins ẑ (12–41 dB,
  /// debiased too). λ = 1e-6 stays over a decade below that; γ = 1e-6 costs nothing measurable
  /// (γ = 1e-4: ≈ 82 dB, 1e-2: ≈ 42 dB). With noise, raise λ to the noise's level, γ to its
  /// variance and the threshold above it.
  public struct Settings: Hashable, Sendable, Codable {
    /// λ for the hidden layers, relative: λ_abs = λ·‖∇(data term)(0)‖∞ of the layer's problem
    /// (for a ReLU layer ‖W_S(b_S − ŷ_S)‖∞), the value above which h = 0 is the unconstrained
    /// lasso's answer — so one value fits every layer and scale.
    public var lambda: Double
    /// γ of the latent's MAP term (γ/2)‖z‖², absolute: with z ~ N(0, I) and Gaussian noise of
    /// variance σ² on ĥ₁ the MAP estimate has γ = σ²; 0 is plain least squares.
    public var gamma: Double
    /// The ADMM's penalty ρ on the inequality rows; with ρ = 1 its step is 1/‖W_rows‖₂².
    public var rho: Double
    /// The iteration budget of each layer's solver (FISTA or ADMM).
    public var iterations: Int
    /// The relative stopping tolerance of each layer's solver (step and constraint residual).
    public var tolerance: Double
    /// A ReLU layer's estimated support is {j : ŷ_j > threshold·max|ŷ|}: what the solvers
    /// leave above zero by round-off or by λ's bias must not join the support.
    public var supportThreshold: Double
    /// The debiasing step: least squares on the recovered supports.
    public var debias: Bool
    /// Stages of the continuation on λ for a sparse layer: λ goes geometrically from
    /// `lambdaStart` down to `lambda`, each stage warm-started from the last and given
    /// `iterations / continuation` steps. 1: no continuation (one solve at `lambda`).
    public var continuation: Int
    /// The first stage's λ, relative as `lambda` is.
    public var lambdaStart: Double
    /// The solver of a ReLU layer: Aberdam et al.'s linearized ADMM (Alg. 4), or the ADMM with
    /// an exact h-step (`Pursuit.admm`).
    public var solver: Solver

    public enum Solver: String, Hashable, Sendable, Codable, CaseIterable {
      case linearizedADMM = "linearized-admm"
      case admm
    }

    public init(
      lambda: Double = 1e-6, gamma: Double = 1e-6, rho: Double = 1, iterations: Int = 2000, tolerance: Double = 1e-10,
      supportThreshold: Double = 1e-5, debias: Bool = false, continuation: Int = 1, lambdaStart: Double = 0.1,
      solver: Solver = .linearizedADMM
    ) {
      self.solver = solver
      self.lambda = lambda
      self.gamma = gamma
      self.rho = rho
      self.iterations = iterations
      self.tolerance = tolerance
      self.supportThreshold = supportThreshold
      self.debias = debias
      self.continuation = continuation
      self.lambdaStart = lambdaStart
    }

    /// λ of each stage: λ_s = λ₀ (λ/λ₀)^{s/(S−1)}, s = 0 … S − 1 (just λ when S = 1).
    public var lambdaStages: [Double] {
      guard continuation > 1 else { return [lambda] }
      return (0..<continuation).map { s in
        s == continuation - 1 ? lambda : lambdaStart * pow(lambda / lambdaStart, Double(s) / Double(continuation - 1))
      }
    }

    enum CodingKeys: String, CodingKey {
      case lambda, gamma, rho, iterations, tolerance, supportThreshold, debias, continuation, lambdaStart, solver
    }

    public init(from decoder: any Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      self.init(
        lambda: try c.decode(Double.self, forKey: .lambda), gamma: try c.decode(Double.self, forKey: .gamma),
        rho: try c.decode(Double.self, forKey: .rho), iterations: try c.decode(Int.self, forKey: .iterations),
        tolerance: try c.decode(Double.self, forKey: .tolerance), supportThreshold: try c.decode(Double.self, forKey: .supportThreshold),
        debias: try c.decode(Bool.self, forKey: .debias), continuation: try c.decodeIfPresent(Int.self, forKey: .continuation) ?? 1,
        lambdaStart: try c.decodeIfPresent(Double.self, forKey: .lambdaStart) ?? 0.1,
        solver: try c.decodeIfPresent(Solver.self, forKey: .solver) ?? .linearizedADMM)
    }

    /// Without a continuation and with the linearized ADMM, the encoding is the one jobs were
    /// keyed by before either setting existed.
    public func encode(to encoder: any Encoder) throws {
      var c = encoder.container(keyedBy: CodingKeys.self)
      try c.encode(lambda, forKey: .lambda)
      try c.encode(gamma, forKey: .gamma)
      try c.encode(rho, forKey: .rho)
      try c.encode(iterations, forKey: .iterations)
      try c.encode(tolerance, forKey: .tolerance)
      try c.encode(supportThreshold, forKey: .supportThreshold)
      try c.encode(debias, forKey: .debias)
      if continuation != 1 {
        try c.encode(continuation, forKey: .continuation)
        try c.encode(lambdaStart, forKey: .lambdaStart)
      }
      if solver != .linearizedADMM { try c.encode(solver, forKey: .solver) }
    }
  }

  public let network: InversionNetwork
  public let settings: Settings

  public init(network: InversionNetwork, settings: Settings = Settings()) {
    self.network = network
    self.settings = settings
  }

  public var name: String { settings.debias ? "latent-pursuit-debiased" : "latent-pursuit" }

  public func invert(_ x: [Double], observed: [Bool]?) throws(InversionFailure) -> [Double] {
    try invertCounting(x, observed: observed).z
  }

  /// ẑ and the iterations every layer's solver took, summed (debiasing is direct).
  public func invertCounting(_ x: [Double], observed: [Bool]?) throws(InversionFailure) -> (z: [Double], iterations: Int) {
    try network.refuseUnsupported(name)
    let depth = network.layers.count
    precondition(x.count == network.outputDimension && (observed?.count ?? x.count) == x.count)
    var y = x
    var supports = [[Bool]](repeating: [], count: depth)
    var total = 0
    for l in stride(from: depth - 1, through: 0, by: -1) {
      let layer = network.layers[l]
      // The output layer keeps only its observed rows (inpainting).
      let considered: (Int) -> Bool = { j in l < depth - 1 || (observed?[j] ?? true) }
      let rows = (0..<layer.weights.cols).filter(considered)
      let problem: PursuitLayer
      if layer.activation == .relu {
        let support = Pursuit.support(y, considered: considered, threshold: settings.supportThreshold)
        supports[l] = support
        let active = rows.filter { support[$0] }
        problem = PursuitLayer(layer, equalityRows: active, target: active.map { y[$0] }, inequalityRows: rows.filter { !support[$0] })
      } else {
        problem = PursuitLayer(layer, equalityRows: rows, target: rows.map { y[$0] }, activation: layer.activation)
      }
      // A sparse layer runs the continuation's stages (each warm-started from the last); the
      // latent's ridge and a dense layer's plain least squares have one stage.
      let sparse = l > 0 && network.layers[l - 1].activation == .relu
      let stages: [PursuitPenalty] =
        sparse
        ? settings.lambdaStages.map { .sparseNonnegative($0 * problem.lambdaScale) }
        : [l == 0 ? .ridge(settings.gamma) : .ridge(0)]
      let budget = max(1, settings.iterations / stages.count)
      var solution: PursuitSolution?
      for penalty in stages {
        solution =
          layer.activation != .relu
          ? try Pursuit.fista(
            problem, penalty: penalty, iterations: stages.count == 1 ? settings.iterations : budget, tolerance: settings.tolerance,
            layer: l + 1, start: solution?.h)
          : settings.solver == .admm
            ? try Pursuit.admm(
              problem, penalty: penalty, rho: settings.rho, iterations: stages.count == 1 ? settings.iterations : budget,
              tolerance: settings.tolerance, layer: l + 1, start: solution)
            : try Pursuit.linearizedADMM(
              problem, penalty: penalty, rho: settings.rho, iterations: stages.count == 1 ? settings.iterations : budget,
              tolerance: settings.tolerance, layer: l + 1, start: solution)
        total += solution!.iterations
      }
      y = solution!.h
    }
    if settings.debias {
      y = try network.leastSquaresOnSupports(x, observed: observed, supports: supports)
    }
    return (y, total)
  }
}
