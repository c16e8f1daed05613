import Foundation
import GGEPPrior

/// Layered Basis-Pursuit (Aberdam, Simon, Elad, Alg. 2; docs/mathematics.md §10): the network inverted from the
/// output down, one sparse coding problem per layer.
///
/// * An invertible output (identity, leaky-relu, sigmoid, tanh, PLU) is inverted entrywise
///   first (values clipped into φ's range: `Activation.inverse`) and all its (observed) rows
///   used; a ReLU layer keeps the rows S of its output estimate's support (for the output: the
///   support of the observed x). Zeros of ŷ are not used (Latent-Pursuit adds them).
/// * A hidden input h_{l−1} (a ReLU output) is estimated by
///
///       min_{h ≥ 0} ½‖(hW + b)_S − ŷ_S‖² + λ_l‖h‖₁        (FISTA, `Pursuit.fista`)
///
///   with λ_l relative to the layer's ‖∇(data term)(0)‖∞ (see `Settings.lambdas`);
/// * the latent (and a hidden input that is not a ReLU output) by least squares on S (`dgels`).
public struct LayeredBasisPursuit: LatentInverter {
  /// The defaults are Latent-Pursuit's, for the same reasons (`LatentPursuit.Settings`): on
  /// noiseless 20-100-625 nets the latent SNR is 100 dB (capped) at λ ≤ 1e-6, ≈ 89 dB at 1e-5
  /// and 69 dB at 1e-4 while the supports are right, and from λ = 3e-5 the lasso's bias puts a
  /// false entry into ĥ₁'s support on 3 of 9 draws (10–26 dB).
  public struct Settings: Hashable, Sendable, Codable {
    /// λ_l for h_l, l = 1 … L−1 (first hidden layer first), relative: λ_abs = λ_l·‖W_S(b_S −
    /// ŷ_S)‖∞, the value above which h = 0 is the lasso's answer. One value applies to every
    /// hidden layer.
    public var lambdas: [Double]
    /// The FISTA budget of each layer.
    public var iterations: Int
    /// FISTA's relative stopping tolerance (the prox-gradient step over ‖h‖).
    public var tolerance: Double
    /// A ReLU layer's estimated support is {j : ŷ_j > threshold·max|ŷ|}.
    public var supportThreshold: Double

    public init(lambdas: [Double] = [1e-6], iterations: Int = 2000, tolerance: Double = 1e-10, supportThreshold: Double = 1e-5) {
      self.lambdas = lambdas
      self.iterations = iterations
      self.tolerance = tolerance
      self.supportThreshold = supportThreshold
    }
  }

  public let network: InversionNetwork
  public let settings: Settings

  public init(network: InversionNetwork, settings: Settings = Settings()) {
    self.network = network
    self.settings = settings
  }

  public var name: String { "layered-bp" }

  public func invert(_ x: [Double], observed: [Bool]?) throws(InversionFailure) -> [Double] {
    try invertCounting(x, observed: observed).z
  }

  /// ẑ and the FISTA iterations of every layer, summed (least-squares steps are direct).
  public func invertCounting(_ x: [Double], observed: [Bool]?) throws(InversionFailure) -> (z: [Double], iterations: Int) {
    try network.refuseUnsupported(name)
    let depth = network.layers.count
    guard settings.lambdas.count == 1 || settings.lambdas.count == depth - 1 else {
      throw InversionFailure(
        layer: depth, reason: "\(name) has \(settings.lambdas.count) λ values for \(depth - 1) hidden layers (give one, or one per hidden layer)")
    }
    precondition(x.count == network.outputDimension && (observed?.count ?? x.count) == x.count)
    var y = x
    var total = 0
    for l in stride(from: depth - 1, through: 0, by: -1) {
      let layer = network.layers[l]
      let considered: (Int) -> Bool = { j in l < depth - 1 || (observed?[j] ?? true) }
      var rows = (0..<layer.weights.cols).filter(considered)
      let target: [Double]
      if layer.activation == .relu {
        let support = Pursuit.support(y, considered: considered, threshold: settings.supportThreshold)
        rows = rows.filter { support[$0] }
        target = rows.map { y[$0] }
      } else {
        // refuseUnsupported has let only invertible activations through.
        target = rows.map { layer.activation.inverse(y[$0])! }
      }
      if l > 0 && network.layers[l - 1].activation == .relu {
        let problem = PursuitLayer(layer, equalityRows: rows, target: target)
        let lambda = settings.lambdas.count == 1 ? settings.lambdas[0] : settings.lambdas[l - 1]
        let solution = try Pursuit.fista(
          problem, penalty: .sparseNonnegative(lambda * problem.lambdaScale), iterations: settings.iterations,
          tolerance: settings.tolerance, layer: l + 1)
        y = solution.h
        total += solution.iterations
      } else {
        y = try network.leastSquares(l, rows: rows, target: target)
      }
    }
    return (y, total)
  }
}
