#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif
import GGEPCore

/// Elementwise nonlinearities whose derivative is a function of the output, so the pullback
/// needs only the stored activations: relu' = [y > 0], softplus' = σ(x) = 1 − e^(−y),
/// sigmoid' = y(1 − y).
public enum Activation: String, Sendable, Codable, CaseIterable {
  case identity, relu, softplus, sigmoid

  @inline(__always)
  func apply(_ p: UnsafeMutablePointer<Float>, _ count: Int) {
    switch self {
    case .identity: return
    case .relu: for i in 0..<count { p[i] = max(p[i], 0) }
    case .softplus:
      // log(1 + eˣ) = max(x, 0) + log1p(e^(−|x|)): no overflow for large |x|. Vectorised, and
      // each element's result is independent of its position (VectorKernels).
      VectorKernels.softplus(p, count)
    case .sigmoid:
      // (x ≥ 0 ? 1 : e) / (1 + e), e = e^(−|x|).
      VectorKernels.sigmoid(p, count)
    }
  }

  /// g ← g ⊙ act'(from the outputs y).
  @inline(__always)
  func multiplyDerivative(_ g: UnsafeMutablePointer<Float>, outputs y: UnsafePointer<Float>, _ count: Int) {
    switch self {
    case .identity: return
    case .relu: for i in 0..<count where y[i] <= 0 { g[i] = 0 }
    case .softplus: VectorKernels.multiplySoftplusDerivative(g, outputs: y, count)
    case .sigmoid: VectorKernels.multiplySigmoidDerivative(g, outputs: y, count)
    }
  }
}

/// One affine layer h ↦ act(h W + b) on row batches; W is stored in × out so the forward pass is
/// a plain GEMM on row-major batches.
public struct DenseLayer: Sendable {
  public let weights: Matrix<Float>  // in × out
  public let bias: [Float]  // out, or empty for none
  public let activation: Activation

  public init(weights: Matrix<Float>, bias: [Float] = [], activation: Activation) {
    precondition(bias.isEmpty || bias.count == weights.cols)
    self.weights = weights
    self.bias = bias
    self.activation = activation
  }
  public var inputWidth: Int { weights.rows }
  public var outputWidth: Int { weights.cols }
}

/// A multilayer perceptron generator: `linear` (one layer, identity), `relu-random`
/// (k → h → n, ReLU then identity), and the VAE decoder (softplus, softplus, sigmoid) are all
/// this type with different layers.
///
/// Cost per batch of r rows: forward 2r·Σ(in·out) flops, pullback the same, in one sgemm per
/// layer each way; no allocations after `makeWorkspace`.
public struct FeedForwardGenerator: Generator {
  public let layers: [DenseLayer]
  public let summary: String

  public init(layers: [DenseLayer], summary: String) {
    precondition(!layers.isEmpty)
    for (a, b) in zip(layers, layers.dropFirst()) { precondition(a.outputWidth == b.inputWidth) }
    self.layers = layers
    self.summary = summary
  }

  public var latentDimension: Int { layers[0].inputWidth }
  public var outputDimension: Int { layers[layers.count - 1].outputWidth }

  public func makeWorkspace(rows: Int) -> GeneratorWorkspace {
    GeneratorWorkspace(rows: rows, widths: [latentDimension] + layers.map(\.outputWidth))
  }

  public func forward(_ z: UnsafePointer<Float>, workspace ws: GeneratorWorkspace) {
    let r = ws.rows
    ws.activations[0].withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: z, count: r * latentDimension) }
    for (l, layer) in layers.enumerated() {
      let (fanIn, fanOut) = (layer.inputWidth, layer.outputWidth)
      let input = ws.activations[l]
      ws.activations[l + 1].withUnsafeMutableBufferPointer { out in
        let o = out.baseAddress!
        var beta: Float = 0
        if !layer.bias.isEmpty {
          layer.bias.withUnsafeBufferPointer { b in
            for i in 0..<r { (o + i * fanOut).update(from: b.baseAddress!, count: fanOut) }
          }
          beta = 1
        }
        input.withUnsafeBufferPointer { h in
          layer.weights.storage.withUnsafeBufferPointer { w in
            Float.gemm(false, false, r, fanOut, fanIn, 1, h.baseAddress!, fanIn, w.baseAddress!, fanOut, beta, o, fanOut)
          }
        }
        layer.activation.apply(o, r * fanOut)
      }
    }
  }

  public func pullback(_ g: UnsafePointer<Float>, into dz: UnsafeMutablePointer<Float>, workspace ws: GeneratorWorkspace) {
    let r = ws.rows
    let last = layers.count - 1
    // Ping-pong between two scratch buffers: `current` holds ∂L/∂(pre-activation) of layer l.
    var current = ws.gradientA
    var next = ws.gradientB
    ws.gradientA = []
    ws.gradientB = []
    defer {
      ws.gradientA = current
      ws.gradientB = next
    }
    current.withUnsafeMutableBufferPointer { c in
      c.baseAddress!.update(from: g, count: r * outputDimension)
      ws.activations[last + 1].withUnsafeBufferPointer { y in
        layers[last].activation.multiplyDerivative(c.baseAddress!, outputs: y.baseAddress!, r * outputDimension)
      }
    }
    for l in stride(from: last, through: 0, by: -1) {
      let layer = layers[l]
      let (fanIn, fanOut) = (layer.inputWidth, layer.outputWidth)
      let target: UnsafeMutablePointer<Float>
      if l == 0 {
        target = dz
        current.withUnsafeBufferPointer { c in
          layer.weights.storage.withUnsafeBufferPointer { w in
            Float.gemm(false, true, r, fanIn, fanOut, 1, c.baseAddress!, fanOut, w.baseAddress!, fanOut, 0, target, fanIn)
          }
        }
      } else {
        next.withUnsafeMutableBufferPointer { nx in
          current.withUnsafeBufferPointer { c in
            layer.weights.storage.withUnsafeBufferPointer { w in
              Float.gemm(false, true, r, fanIn, fanOut, 1, c.baseAddress!, fanOut, w.baseAddress!, fanOut, 0, nx.baseAddress!, fanIn)
            }
          }
          ws.activations[l].withUnsafeBufferPointer { y in
            layers[l - 1].activation.multiplyDerivative(nx.baseAddress!, outputs: y.baseAddress!, r * fanIn)
          }
        }
        swap(&current, &next)
      }
    }
  }
}

// MARK: - Built-in generators

extension FeedForwardGenerator {
  /// `linear`: G(z) = W z with W an n × k matrix with orthonormal columns (QR of a seeded
  /// Gaussian matrix). Range(Ĝ) is the unit sphere of a k-dimensional subspace, so the exact
  /// projection is known (`ExactLinearProjector`).
  public static func linear(n: Int, k: Int, seed: UInt64) throws -> (generator: FeedForwardGenerator, basis: Matrix<Double>) {
    var rng = RandomStream(seed: seed, key: "linear(n=\(n),k=\(k))", purpose: "weights")
    let gaussian = Matrix(rows: n, cols: k, storage: rng.normals(n * k))
    let w = try LAPACK.orthonormalColumns(gaussian)  // n × k
    let layer = DenseLayer(weights: w.transposed.asFloat, activation: .identity)  // stored in × out = k × n
    return (FeedForwardGenerator(layers: [layer], summary: "linear(n=\(n),k=\(k),seed=\(seed))"), w)
  }

  /// `relu-random`: G(z) = W₂ relu(W₁ z), W₁ ∈ R^(h×k) with N(0, 1/h) entries and
  /// W₂ ∈ R^(n×h) with N(0, 1/n) entries, no biases: the expansive Gaussian network of
  /// Hand & Voroninski (papers/inverting-generative-models.txt).
  public static func reluRandom(n: Int, k: Int, hidden h: Int, seed: UInt64) -> FeedForwardGenerator {
    var rng = RandomStream(seed: seed, key: "relu-random(n=\(n),k=\(k),h=\(h))", purpose: "weights")
    let w1 = Matrix(rows: k, cols: h, storage: rng.normals(k * h, scale: 1 / Double(h).squareRoot())).asFloat
    let w2 = Matrix(rows: h, cols: n, storage: rng.normals(h * n, scale: 1 / Double(n).squareRoot())).asFloat
    return FeedForwardGenerator(
      layers: [DenseLayer(weights: w1, activation: .relu), DenseLayer(weights: w2, activation: .identity)],
      summary: "relu-random(n=\(n),k=\(k),hidden=\(h),seed=\(seed))")
  }
}
