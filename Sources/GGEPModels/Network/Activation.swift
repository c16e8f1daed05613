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
    default:
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
    }
  }

  public var description: String { name }

  /// The activations without a parameter, and leaky-relu at its default slope.
  public static let allCases: [Activation] = [.identity, .relu, .leakyRelu(slope: 0.01), .softplus, .sigmoid, .tanh]

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
    }
  }
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
