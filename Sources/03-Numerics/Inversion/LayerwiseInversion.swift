import Foundation
import GGEPCore
import GGEPPrior

/// A generator's layers in Double, as the layer-wise inverters read them (docs/mathematics.md §10): h₀ = z,
/// h_l = act_l(h_{l−1} W_l + b_l), x = h_L.
public struct InversionNetwork: Sendable {
  public struct Layer: Sendable {
    public let weights: Matrix<Double>  // in × out
    public let bias: [Double]  // out, or empty
    public let activation: Activation
  }
  public let layers: [Layer]

  public init(_ generator: some LayeredGenerator) {
    layers = generator.layers.map { l in
      Layer(weights: Matrix(rows: l.inputWidth, cols: l.outputWidth, storage: l.weights.storage.map(Double.init)), bias: l.bias.map(Double.init), activation: l.activation)
    }
  }

  public var latentDimension: Int { layers[0].weights.rows }
  public var outputDimension: Int { layers[layers.count - 1].weights.cols }

  /// Layer `l` with only the output rows (columns of W) where `keep` is true, and `y` cut alike.
  func restrict(_ l: Int, to keep: [Bool], _ y: [Double]) -> (Layer, [Double]) {
    let layer = layers[l]
    let (fanIn, fanOut) = (layer.weights.rows, layer.weights.cols)
    let columns = (0..<fanOut).filter { keep[$0] }
    var w = Matrix<Double>(rows: fanIn, cols: columns.count)
    for i in 0..<fanIn {
      for (c, j) in columns.enumerated() { w.storage[i * columns.count + c] = layer.weights.storage[i * fanOut + j] }
    }
    let b = layer.bias.isEmpty ? [] : columns.map { layer.bias[$0] }
    return (Layer(weights: w, bias: b, activation: layer.activation), columns.map { y[$0] })
  }

  /// Every layer's output for z, in Double: [h₁, …, h_L = x].
  public func forward(_ z: [Double]) -> [[Double]] {
    var h = z
    var outputs: [[Double]] = []
    for layer in layers {
      let (fanIn, fanOut) = (layer.weights.rows, layer.weights.cols)
      var pre = layer.bias.isEmpty ? [Double](repeating: 0, count: fanOut) : layer.bias
      for i in 0..<fanIn where h[i] != 0 {
        let hi = h[i]
        for j in 0..<fanOut { pre[j] += hi * layer.weights.storage[i * fanOut + j] }
      }
      h = pre.map { Double(Self.apply(layer.activation, $0)) }
      outputs.append(h)
    }
    return outputs
  }

  static func apply(_ activation: Activation, _ x: Double) -> Double {
    switch activation {
    case .identity: return x
    case .relu: return max(x, 0)
    case .leakyRelu(let a): return x > 0 ? x : Double(a) * x
    case .softplus: return max(x, 0) + log1p(exp(-Swift.abs(x)))
    case .sigmoid: return 1 / (1 + exp(-x))
    case .tanh: return Foundation.tanh(x)
    case .plu(let a, let c):
      let (alpha, cc) = (Double(a), Double(c))
      return max(alpha * (x + cc) - cc, min(alpha * (x - cc) + cc, x))
    }
  }

  /// Why a layer-wise method cannot invert this network, naming the layer and its activation:
  /// each layer must be ReLU (split by its support) or strictly increasing (inverted entrywise).
  public func unsupportedLayer() -> String? {
    for (l, layer) in layers.enumerated() where layer.activation != .relu && !layer.activation.isInvertible {
      return "layer \(l + 1) (\(layer.weights.rows) → \(layer.weights.cols)) has activation \(layer.activation.name), which a layer-wise "
        + "inversion can neither split by its support (relu) nor invert entrywise (identity, leaky-relu, sigmoid, tanh, plu)"
    }
    return nil
  }
}

/// SNR_dB(a, â) = 20·log₁₀(‖a‖ / ‖â − a‖), capped at 100 dB (an exact recovery), docs/mathematics.md §10.
public func signalToNoiseDB(_ truth: [Double], _ estimate: [Double]) -> Double {
  precondition(truth.count == estimate.count)
  var signal = 0.0, error = 0.0
  for (a, b) in zip(truth, estimate) {
    signal += a * a
    error += (b - a) * (b - a)
  }
  // NaN compares false with everything: without this it would pass `error > 0` as a perfect
  // recovery at the 100 dB cap.
  guard signal.isFinite, error.isFinite else { return .nan }
  guard error > 0 else { return 100 }
  guard signal > 0 else { return -100 }
  return min(100, 10 * log10(signal / error))
}

/// A method that inverts a generator: ẑ with G(ẑ) ≈ x on the observed entries of x
/// (`observed` nil: all; inpainting hides the others).
public protocol LatentInverter: Sendable {
  var name: String { get }
  func invert(_ x: [Double], observed: [Bool]?) throws(InversionFailure) -> [Double]
  /// ẑ and the work it took: solver iterations summed over layers (pursuits), or the layers
  /// solved (LP, oracle: one direct solve each).
  func invertCounting(_ x: [Double], observed: [Bool]?) throws(InversionFailure) -> (z: [Double], iterations: Int)
}

extension LatentInverter {
  public func invert(_ x: [Double]) throws(InversionFailure) -> [Double] { try invert(x, observed: nil) }
}

/// LP inversion from the output down (Lei et al.; docs/mathematics.md §10): each layer by `LPLayerInversion` —
/// a ReLU layer split by its support, a strictly increasing one inverted entrywise first (values
/// clipped into its range) and solved without the split — its input constrained ≥ 0 where it is
/// a ReLU output; the latent is free.
public struct LPInverter: LatentInverter {
  public struct Settings: Hashable, Sendable, Codable {
    /// The noiseless programs (ε = 0) instead of the ℓ∞ ones.
    public var noiseless: Bool
    /// A ReLU layer's support is {j : y_j > threshold·max|y|}; raise it above the noise.
    public var supportThreshold: Double
    public init(noiseless: Bool = false, supportThreshold: Double = 1e-9) {
      self.noiseless = noiseless
      self.supportThreshold = supportThreshold
    }
  }

  public let network: InversionNetwork
  public let settings: Settings
  public var exact: Bool { settings.noiseless }

  public init(network: InversionNetwork, settings: Settings = Settings()) {
    self.network = network
    self.settings = settings
  }

  public init(network: InversionNetwork, exact: Bool) {
    self.init(network: network, settings: Settings(noiseless: exact))
  }

  public var name: String { exact ? "lp-noiseless" : "lp" }

  /// ẑ and the linear programs solved (one per layer).
  public func invertCounting(_ x: [Double], observed: [Bool]?) throws(InversionFailure) -> (z: [Double], iterations: Int) {
    (try invert(x, observed: observed), network.layers.count)
  }

  public func invert(_ x: [Double], observed: [Bool]?) throws(InversionFailure) -> [Double] {
    var y = x
    for l in stride(from: network.layers.count - 1, through: 0, by: -1) {
      var layer = network.layers[l]
      // The output layer keeps only its observed rows (inpainting).
      if l == network.layers.count - 1, let observed {
        (layer, y) = network.restrict(l, to: observed, y)
      }
      let relu = layer.activation == .relu
      if !relu {
        let inverse = y.compactMap { layer.activation.inverse($0) }
        guard inverse.count == y.count else {
          throw InversionFailure(layer: l + 1, reason: "activation \(layer.activation.name) is not invertible")
        }
        y = inverse
      }
      let inputIsReLUOutput = l > 0 && network.layers[l - 1].activation == .relu
      y = try LPLayerInversion.invert(
        weights: layer.weights, bias: layer.bias, output: y, relu: relu, nonnegativeInput: inputIsReLUOutput, exact: exact,
        supportThreshold: settings.supportThreshold, layer: l + 1
      ).h
    }
    return y
  }
}

/// The oracle (Aberdam et al., Alg. 1): the true supports are known, so each layer is a linear
/// system on its support rows, solved by least squares from x down to z. For experiments only:
/// it needs z* (`truth`) to know the supports.
public struct OracleInverter: LatentInverter {
  public let network: InversionNetwork
  public let truth: [Double]

  public init(network: InversionNetwork, truth: [Double]) {
    self.network = network
    self.truth = truth
  }

  public var name: String { "oracle" }

  /// ẑ and the least-squares solves (one per layer).
  public func invertCounting(_ x: [Double], observed: [Bool]?) throws(InversionFailure) -> (z: [Double], iterations: Int) {
    (try invert(x, observed: observed), network.layers.count)
  }

  public func invert(_ x: [Double], observed: [Bool]?) throws(InversionFailure) -> [Double] {
    try network.leastSquaresOnSupports(x, observed: observed, supports: network.forward(truth).map { $0.map { $0 > 0 } })
  }
}

extension InversionNetwork {
  /// The oracle's descent with the supports given (Aberdam et al., Alg. 1; docs/mathematics.md §10): from x
  /// down to z, each layer's input by least squares (`dgels`) on its equations,
  ///
  ///     ReLU layer l:        (h W_l + b_l)_j = y_j     for j ∈ S_l (and observed, at the output)
  ///     invertible layer l:  (h W_l + b_l)_j = φ⁻¹(y_j) for every (observed) j
  ///
  /// with y the estimate of layer l's output from the step above. `supports[l]` marks S_l over
  /// layer l's outputs (read only for ReLU layers). The oracle passes the true supports;
  /// Latent-Pursuit's debiasing step the recovered ones — with every support frozen the
  /// network is linear in z, and this is its least-squares fit.
  func leastSquaresOnSupports(_ x: [Double], observed: [Bool]?, supports: [[Bool]]) throws(InversionFailure) -> [Double] {
    var y = x
    for l in stride(from: layers.count - 1, through: 0, by: -1) {
      let layer = layers[l]
      let fanOut = layer.weights.cols
      let seen: (Int) -> Bool = { j in l < layers.count - 1 || (observed?[j] ?? true) }
      var rows: [Int]
      var target: [Double]
      if layer.activation == .relu {
        rows = (0..<fanOut).filter { supports[l][$0] && seen($0) }
        target = rows.map { y[$0] }
      } else {
        guard layer.activation.isInvertible else {
          throw InversionFailure(layer: l + 1, reason: "activation \(layer.activation.name) is not invertible")
        }
        rows = (0..<fanOut).filter(seen)
        target = rows.map { layer.activation.inverse(y[$0])! }
      }
      // The supports are known for every layer, so the unknowns of h_{l−1} are its active
      // entries only (the others are 0): Aberdam et al.'s Alg. 1. Without this the system can
      // be underdetermined (|S_l| < width of h_{l−1}) and its minimum-norm answer wrong.
      let columns = l > 0 && layers[l - 1].activation == .relu ? (0..<layer.weights.rows).filter { supports[l - 1][$0] } : nil
      y = try leastSquares(l, rows: rows, target: target, columns: columns)
    }
    return y
  }

  /// h minimising Σ_{j ∈ rows} ((h W_l + b_l)_j − target_j)², by QR (`dgels`; the minimum-norm
  /// solution when the rows do not determine h). With `columns`, only those entries of h are
  /// unknown and the rest are 0.
  func leastSquares(_ l: Int, rows: [Int], target: [Double], columns: [Int]? = nil) throws(InversionFailure) -> [Double] {
    let layer = layers[l]
    let (fanIn, fanOut) = (layer.weights.rows, layer.weights.cols)
    let rhs = layer.bias.isEmpty ? target : zip(target, rows).map { $0 - layer.bias[$1] }
    let unknowns = columns ?? Array(0..<fanIn)
    guard !unknowns.isEmpty else { return [Double](repeating: 0, count: fanIn) }
    // A h_U = rhs with A = (W_S)ᵀ restricted to the unknowns U (|S| × |U|).
    var a = Matrix<Double>(rows: rows.count, cols: unknowns.count)
    for (r, j) in rows.enumerated() {
      for (c, i) in unknowns.enumerated() { a.storage[r * unknowns.count + c] = layer.weights.storage[i * fanOut + j] }
    }
    do {
      let solution = try LAPACK.leastSquares(a, rhs)
      guard columns != nil else { return solution }
      var h = [Double](repeating: 0, count: fanIn)
      for (c, i) in unknowns.enumerated() { h[i] = solution[c] }
      return h
    } catch {
      throw InversionFailure(layer: l + 1, reason: "least squares on the support failed: \(error)")
    }
  }

  /// The first layer no layer-wise method can invert, as the failure to throw: `method` names
  /// the inverter, the reason the layer's shape and activation (docs/mathematics.md §10: each layer must be ReLU
  /// or strictly increasing).
  func refuseUnsupported(_ method: String) throws(InversionFailure) {
    for (l, layer) in layers.enumerated() where layer.activation != .relu && !layer.activation.isInvertible {
      throw InversionFailure(
        layer: l + 1,
        reason: "\(method) cannot invert activation \(layer.activation.name) (\(layer.weights.rows) → \(layer.weights.cols)): it is neither "
          + "relu (split by its support) nor strictly increasing (identity, leaky-relu, sigmoid, tanh, plu)")
    }
  }
}
