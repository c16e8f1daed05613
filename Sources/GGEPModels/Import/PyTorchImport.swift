import Foundation
import GGEPCore

/// One module of a PyTorch generator as the config declares it (SPEC 3: a generator is any
/// map Rᵏ → Rⁿ; these are the modules an MLP saved from `nn.Sequential` is made of). `name` is
/// the module's key in the state dict (`nn.Sequential` numbers its modules `0`, `1`, …).
public enum PyTorchModule: Hashable, Sendable, Codable {
  /// `nn.Linear(in, out)`: `name.weight` (out × in), `name.bias` (out) when the file has it.
  case linear(inFeatures: Int, outFeatures: Int, name: String)
  /// `nn.BatchNorm1d(features)` in eval mode: `name.weight`, `.bias`, `.running_mean`,
  /// `.running_var` (`.num_batches_tracked` is ignored), folded into the preceding Linear.
  case batchNorm1d(features: Int, epsilon: Double, name: String)
  /// A parameter-free activation (`relu`, `leaky-relu(0.2)`, `tanh`, `sigmoid`, `identity`).
  case activation(String)
}

/// A PyTorch generator's declared architecture: its modules in order, and the prefix every
/// state-dict key carries (`main.`, `generator.`; "" for none).
public struct PyTorchArchitecture: Hashable, Sendable, Codable {
  public var modules: [PyTorchModule]
  public var prefix: String

  public init(modules: [PyTorchModule], prefix: String = "") {
    self.modules = modules
    self.prefix = prefix
  }

  /// The layout `nn.Sequential` gives an MLP: per layer `Linear`, then `BatchNorm1d` for hidden
  /// layers when `batchNorm`, then the activation; modules numbered from 0 in that order.
  public static func sequentialMLP(widths: [Int], activations: [String], batchNorm: Bool = false, prefix: String = "") -> PyTorchArchitecture {
    precondition(widths.count >= 2 && activations.count == widths.count - 1)
    var modules: [PyTorchModule] = []
    for l in 0..<(widths.count - 1) {
      modules.append(.linear(inFeatures: widths[l], outFeatures: widths[l + 1], name: String(modules.count)))
      if batchNorm && l < widths.count - 2 { modules.append(.batchNorm1d(features: widths[l + 1], epsilon: 1e-5, name: String(modules.count))) }
      if activations[l] != "identity" { modules.append(.activation(activations[l])) }
    }
    return PyTorchArchitecture(modules: modules, prefix: prefix)
  }

  /// The layer widths, input first (from the Linear modules).
  public var widths: [Int] {
    var w: [Int] = []
    for case .linear(let i, let o, _) in modules {
      if w.isEmpty { w.append(i) }
      w.append(o)
    }
    return w
  }

  /// Input and output widths (from the Linear modules).
  public var latentDimension: Int? {
    for case .linear(let i, _, _) in modules { return i }
    return nil
  }
  public var outputDimension: Int? {
    for case .linear(_, let o, _) in modules.reversed() { return o }
    return nil
  }
}

/// Builds a ggep generator from a PyTorch state dict in a safetensors file and a declared
/// architecture. Each `Linear` [+ `BatchNorm1d`] [+ activation] becomes one `DenseLayer`
/// (W transposed to in × out; batch norm folded, SPEC 11: W' = W·diag(γ/√(σ² + ε)),
/// b' = (b − μ)·γ/√(σ² + ε) + β), so the result is a `FeedForwardGenerator`: every projector
/// applies, and the layer-wise ones where SPEC 10 allows.
public enum PyTorchImport {
  public struct Loaded: Sendable {
    public let generator: FeedForwardGenerator
    /// Tensors in the file the architecture does not use (warnings, not errors).
    public let unused: [String]
    /// SHA-256 of the file's bytes.
    public let checksum: String
  }

  public static func load(_ path: String, architecture: PyTorchArchitecture) throws(SafeTensorsError) -> Loaded {
    let file = try SafeTensorsFile(path: path)
    return try build(file, architecture: architecture)
  }

  public static func build(_ file: SafeTensorsFile, architecture: PyTorchArchitecture) throws(SafeTensorsError) -> Loaded {
    var used: Set<String> = []
    func tensor(_ key: String, shape: [Int], optional: Bool = false) throws(SafeTensorsError) -> [Float]? {
      let full = architecture.prefix + key
      guard let t = file.tensors[full] else {
        if optional { return nil }
        throw SafeTensorsError(file: file.path, tensor: full, "missing from the file (the architecture needs it with shape \(shape))")
      }
      guard t.shape == shape else {
        throw SafeTensorsError(file: file.path, tensor: full, "has shape \(t.shape) in the file, but the declared architecture needs \(shape)")
      }
      guard t.dtype != .i64 else {
        throw SafeTensorsError(file: file.path, tensor: full, "is I64, but weights must be floating point")
      }
      used.insert(full)
      return try file.floats(full)
    }

    var layers: [DenseLayer] = []
    var pending: (weights: Matrix<Float>, bias: [Float], batchNorm: BatchNorm?, name: String)?
    var width: Int?
    func flush(_ activation: Activation) {
      guard let p = pending else { return }
      layers.append(
        p.batchNorm.map { DenseLayer(weights: p.weights, bias: p.bias, batchNorm: $0, activation: activation) }
          ?? DenseLayer(weights: p.weights, bias: p.bias, activation: activation))
      pending = nil
    }
    for module in architecture.modules {
      switch module {
      case .linear(let fanIn, let fanOut, let name):
        if let width, width != fanIn {
          throw SafeTensorsError(file: file.path, tensor: architecture.prefix + name + ".weight", "Linear(\(fanIn), \(fanOut)) follows a layer of width \(width)")
        }
        flush(.identity)
        let w = try tensor(name + ".weight", shape: [fanOut, fanIn])!
        // PyTorch stores out × in; the network stack multiplies rows by in × out.
        var transposed = Matrix<Float>(rows: fanIn, cols: fanOut)
        for o in 0..<fanOut { for i in 0..<fanIn { transposed.storage[i * fanOut + o] = w[o * fanIn + i] } }
        let bias = try tensor(name + ".bias", shape: [fanOut], optional: true) ?? []
        pending = (transposed, bias, nil, name)
        width = fanOut
      case .batchNorm1d(let features, let epsilon, let name):
        guard let p = pending, p.batchNorm == nil else {
          throw SafeTensorsError(
            file: file.path, tensor: architecture.prefix + name + ".weight", "BatchNorm1d must follow a Linear (it is folded into it), with no activation between")
        }
        guard features == p.weights.cols else {
          throw SafeTensorsError(file: file.path, tensor: architecture.prefix + name + ".weight", "BatchNorm1d(\(features)) follows a Linear with \(p.weights.cols) outputs")
        }
        let bn = BatchNorm(
          gamma: try tensor(name + ".weight", shape: [features])!, beta: try tensor(name + ".bias", shape: [features])!,
          mean: try tensor(name + ".running_mean", shape: [features])!, variance: try tensor(name + ".running_var", shape: [features])!,
          epsilon: Float(epsilon))
        if file.tensors[architecture.prefix + name + ".num_batches_tracked"] != nil { used.insert(architecture.prefix + name + ".num_batches_tracked") }
        pending?.batchNorm = bn
      case .activation(let activationName):
        guard let activation = Activation(name: activationName) else {
          throw SafeTensorsError(file: file.path, "unknown activation \"\(activationName)\" in the architecture")
        }
        guard pending != nil else {
          throw SafeTensorsError(file: file.path, "activation \(activationName) does not follow a Linear (two activations in a row, or one first)")
        }
        flush(activation)
      }
    }
    flush(.identity)
    guard !layers.isEmpty else { throw SafeTensorsError(file: file.path, "the architecture has no Linear module") }
    let unused = file.tensors.keys.filter { !used.contains($0) }.sorted()
    let widths = [layers[0].inputWidth] + layers.map(\.outputWidth)
    let generator = FeedForwardGenerator(
      layers: layers, summary: "pytorch(\((file.path as NSString).lastPathComponent), \(widths.map(String.init).joined(separator: "-")))")
    return Loaded(generator: generator, unused: unused, checksum: SHA256.hexDigest(file.bytes))
  }
}
