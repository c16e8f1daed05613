#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif
import GGEPCore

/// The elementwise nonlinearities of a dense layer, each with its derivative written as a
/// function of the layer's output y = act(x), so a pullback needs only the stored outputs:
///
///     identity    y = x                       y' = 1
///     relu        y = max(x, 0)               y' = [y > 0]
///     leaky-relu  y = x (x > 0), a·x (else)   y' = 1 (y > 0), a (else)      (0 < a < 1)
///     softplus    y = log(1 + eˣ)             y' = σ(x) = 1 − e^(−y)
///     sigmoid     y = 1/(1 + e^(−x))          y' = y(1 − y)
///     tanh        y = tanh(x)                 y' = 1 − y²
///     plu         y = max(α(x + c) − c, min(α(x − c) + c, x))    y' = 1 (|y| ≤ c), α (else)
///
/// PLU (piecewise linear unit, docs/mathematics.md §3; α = 0.1, c = 1 by default) is the identity on [−c, c]
/// and has slope α outside; it is strictly increasing, so it inverts in closed form (`inverse`).
///
/// Softplus and sigmoid run on the vectorised kernels (`VectorKernels`, tails padded), the
/// others elementwise in Swift; either way an element's result depends only on its own input,
/// never on its place in the batch. Softplus can also hand its derivative σ(x) over from the
/// forward pass (`apply(_:derivative:_:)`), which training uses.
public enum Activation: Hashable, Sendable, CustomStringConvertible {
  case identity
  case relu
  case leakyRelu(slope: Float)
  case softplus
  case sigmoid
  case tanh
  case plu(alpha: Float, c: Float)

  /// The names a model file or config writes: `identity`, `relu`, `leaky-relu` (slope 0.01),
  /// `leaky-relu(0.2)`, `softplus`, `sigmoid`, `tanh`.
  public init?(name: String) {
    switch name {
    case "identity": self = .identity
    case "relu": self = .relu
    case "leaky-relu": self = .leakyRelu(slope: 0.01)
    case "softplus": self = .softplus
    case "sigmoid": self = .sigmoid
    case "tanh": self = .tanh
    case "plu": self = .plu(alpha: 0.1, c: 1)
    default:
      if name.hasPrefix("plu("), name.hasSuffix(")") {
        let parts = name.dropFirst(4).dropLast().split(separator: ",").map { Float($0.trimmingCharacters(in: .whitespaces)) }
        guard parts.count == 2, let alpha = parts[0], let c = parts[1], alpha > 0, alpha < 1, c > 0 else { return nil }
        self = .plu(alpha: alpha, c: c)
        return
      }
      guard name.hasPrefix("leaky-relu("), name.hasSuffix(")"),
        let slope = Float(name.dropFirst("leaky-relu(".count).dropLast()), slope > 0, slope < 1
      else { return nil }
      self = .leakyRelu(slope: slope)
    }
  }

  public var name: String {
    switch self {
    case .identity: return "identity"
    case .relu: return "relu"
    case .leakyRelu(let slope): return "leaky-relu(\(slope))"
    case .softplus: return "softplus"
    case .sigmoid: return "sigmoid"
    case .tanh: return "tanh"
    case .plu(let alpha, let c): return alpha == 0.1 && c == 1 ? "plu" : "plu(\(alpha),\(c))"
    }
  }

  public var description: String { name }

  /// The activations without a parameter, and leaky-relu at its default slope.
  public static let allCases: [Activation] = [.identity, .relu, .leakyRelu(slope: 0.01), .softplus, .sigmoid, .tanh, .plu(alpha: 0.1, c: 1)]

  /// y = act(x) in place.
  @inline(__always)
  public func apply(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
    switch self {
    case .identity: return
    case .relu: for i in 0..<count { p[i] = max(p[i], 0) }
    case .leakyRelu(let a): for i in 0..<count where p[i] < 0 { p[i] *= a }
    case .softplus:
      // log(1 + eˣ) = max(x, 0) + log1p(e^(−|x|)): no overflow for large |x|.
      VectorKernels.softplus(p, count)
    case .sigmoid:
      // (x ≥ 0 ? 1 : e) / (1 + e), e = e^(−|x|).
      VectorKernels.sigmoid(p, count)
    case .tanh: for i in 0..<count { p[i] = tanhf(p[i]) }
    case .plu(let a, let c): for i in 0..<count { p[i] = max(a * (p[i] + c) - c, min(a * (p[i] - c) + c, p[i])) }
    }
  }

  /// y = act(x) in place, and d = act'(x) for a later `multiply(_:byDerivative:_:)`.
  @inline(__always)
  public func apply(_ p: UnsafeMutablePointer<Float>, derivative d: UnsafeMutablePointer<Float>, _ count: Int) {
    if case .softplus = self {
      VectorKernels.softplus(p, derivative: d, count)
      return
    }
    apply(p, count)
    d.update(repeating: 1, count: count)
    multiplyDerivative(d, outputs: p, count)
  }

  /// g ← g ⊙ act'(from the outputs y).
  @inline(__always)
  public func multiplyDerivative(_ g: UnsafeMutablePointer<Float>, outputs y: UnsafePointer<Float>, _ count: Int) {
    switch self {
    case .identity: return
    case .relu: for i in 0..<count where y[i] <= 0 { g[i] = 0 }
    case .leakyRelu(let a): for i in 0..<count where y[i] <= 0 { g[i] *= a }
    case .softplus: VectorKernels.multiplySoftplusDerivative(g, outputs: y, count)
    case .sigmoid: VectorKernels.multiplySigmoidDerivative(g, outputs: y, count)
    case .tanh: for i in 0..<count { g[i] *= 1 - y[i] * y[i] }
    case .plu(let a, let c): for i in 0..<count where abs(y[i]) > c { g[i] *= a }
    }
  }

  /// x with act(x) = y, for the strictly increasing activations (identity, leaky-relu, sigmoid,
  /// tanh, PLU), y first clipped into the activation's open range; nil for the others (relu's
  /// zeros and softplus's are not inverted entrywise here).
  public func inverse(_ y: Double) -> Double? {
    switch self {
    case .identity: return y
    case .leakyRelu(let a): return y > 0 ? y : y / Double(a)
    case .sigmoid:
      let p = min(max(y, 1e-7), 1 - 1e-7)
      return log(p / (1 - p))
    case .tanh: return atanh(min(max(y, -1 + 1e-7), 1 - 1e-7))
    case .plu(let a, let c):
      let (alpha, cc) = (Double(a), Double(c))
      if y < -cc { return (y + cc) / alpha - cc }
      if y > cc { return (y - cc) / alpha + cc }
      return y
    case .relu, .softplus: return nil
    }
  }

  /// Whether `inverse` inverts it.
  public var isInvertible: Bool { inverse(0.5) != nil }
}

extension Activation: Codable {
  public init(from decoder: any Decoder) throws {
    let name = try decoder.singleValueContainer().decode(String.self)
    guard let activation = Activation(name: name) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown activation \"\(name)\""))
    }
    self = activation
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(name)
  }
}
