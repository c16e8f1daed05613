#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif
import GGEPCore
import GGEPPrior

/// A multilayer perceptron generator on the one network stack (`DenseStack`): `linear` (one
/// layer, identity), `relu-random` (k → h → n, ReLU then identity), and the VAE decoder
/// (softplus, softplus, sigmoid) are all this type with different layers.
///
/// Cost per batch of r rows: forward 2r·Σ(in·out) flops, pullback the same, in one sgemm per
/// layer each way; no allocations after `makeWorkspace`. A projector can see its layers
/// (`LayeredGenerator`): weights, biases, activations.
public struct FeedForwardGenerator: LayeredGenerator {
  public let stack: DenseStack
  /// The stack's parameters, flat (W₁, b₁, W₂, …).
  public let parameters: [Float]
  public let summary: String

  public init(layers: [DenseLayer], summary: String) {
    precondition(!layers.isEmpty)
    for (a, b) in zip(layers, layers.dropFirst()) { precondition(a.outputWidth == b.inputWidth) }
    stack = DenseStack(
      widths: [layers[0].inputWidth] + layers.map(\.outputWidth), activations: layers.map(\.activation),
      biases: layers.map { !$0.bias.isEmpty })
    parameters = layers.flatMap { $0.weights.storage + $0.bias }
    self.summary = summary
  }

  public var layers: [DenseLayer] {
    stack.layers.map { l in
      DenseLayer(
        weights: Matrix(rows: l.fanIn, cols: l.fanOut, storage: Array(parameters[l.weightOffset..<(l.weightOffset + l.fanIn * l.fanOut)])),
        bias: l.hasBias ? Array(parameters[l.biasOffset..<(l.biasOffset + l.fanOut)]) : [], activation: l.activation)
    }
  }

  public var latentDimension: Int { stack.inputWidth }
  public var outputDimension: Int { stack.outputWidth }

  public func makeWorkspace(rows: Int) -> GeneratorWorkspace {
    GeneratorWorkspace(rows: rows, widths: stack.widths)
  }

  public func forward(_ z: UnsafePointer<Float>, workspace ws: GeneratorWorkspace) {
    let input = ws.layer(0).baseAddress!
    input.update(from: z, count: ws.rows * latentDimension)
    parameters.withUnsafeBufferPointer { p in
      stack.forward(parameters: p.baseAddress!, input: input, rows: ws.rows, outputs: ws.layerOutputs)
    }
  }

  public func pullback(_ g: UnsafePointer<Float>, into dz: UnsafeMutablePointer<Float>, workspace ws: GeneratorWorkspace) {
    parameters.withUnsafeBufferPointer { p in
      stack.pullback(
        parameters: p.baseAddress!, gradient: g, outputs: ws.layerOutputs.map { UnsafePointer($0) }, rows: ws.rows, into: dz,
        scratch: ws.scratch)
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

  /// `relu-mlp` (docs/mathematics.md §10): layers of `widths` (k first, n last) with `activations`, weights
  /// W_l ~ N(0, 1/fan_in) drawn layer by layer (and, with `bias`, b_l ~ N(0, 1/fan_in) after
  /// each W_l) from the generator's seed.
  public static func reluMLP(widths: [Int], bias: Bool, activations: [Activation], seed: UInt64) -> FeedForwardGenerator {
    precondition(widths.count >= 2 && activations.count == widths.count - 1)
    let name = "relu-mlp(\(widths.map(String.init).joined(separator: "-")),\(activations.map(\.name).joined(separator: ",")),bias=\(bias),seed=\(seed))"
    var rng = RandomStream(seed: seed, key: name, purpose: "weights")
    var layers: [DenseLayer] = []
    for l in 0..<(widths.count - 1) {
      let (i, o) = (widths[l], widths[l + 1])
      let scale = 1 / Double(i).squareRoot()
      let w = Matrix(rows: i, cols: o, storage: rng.normals(i * o, scale: scale)).asFloat
      let b = bias ? rng.normals(o, scale: scale).map(Float.init) : []
      layers.append(DenseLayer(weights: w, bias: b, activation: activations[l]))
    }
    return FeedForwardGenerator(layers: layers, summary: name)
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
