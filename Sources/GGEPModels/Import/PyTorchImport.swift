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
  /// `nn.ConvTranspose2d(in, out, kernel, stride, padding)`: `name.weight` (in × out × k × k),
  /// `name.bias` (out) when the file has it.
  case convTranspose2d(inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, name: String)
  /// `nn.BatchNorm2d(features)` in eval mode, folded into the preceding ConvTranspose2d.
  case batchNorm2d(features: Int, epsilon: Double, name: String)
}

/// A PyTorch generator's declared architecture: its modules in order, and the prefix every
/// state-dict key carries (`main.`, `generator.`; "" for none).
public struct PyTorchArchitecture: Hashable, Sendable, Codable {
  public var modules: [PyTorchModule]
  public var prefix: String
  /// A convolutional generator's input side: z is Cin × s × s (nil: 1, a DCGAN's nz × 1 × 1).
  /// Optional so that it joins the job key only when set.
  public var inputSize: Int?

  public init(modules: [PyTorchModule], prefix: String = "", inputSize: Int? = nil) {
    self.modules = modules
    self.prefix = prefix
    self.inputSize = inputSize
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

  /// The PyTorch examples' DCGAN generator (`main.0` … `main.13`): z as nz × 1 × 1, then
  /// ConvTranspose2d(nz, 8·ngf, 4, 1, 0) + BatchNorm2d + ReLU, three ConvTranspose2d(·, ·/2, 4, 2, 1)
  /// + BatchNorm2d + ReLU, ConvTranspose2d(ngf, nc, 4, 2, 1) + Tanh: nc × 64 × 64, no biases.
  public static func dcgan(nz: Int, ngf: Int, nc: Int = 3, prefix: String = "main.") -> PyTorchArchitecture {
    var modules: [PyTorchModule] = []
    let channels = [nz, 8 * ngf, 4 * ngf, 2 * ngf, ngf]
    for l in 0..<4 {
      modules.append(.convTranspose2d(
        inChannels: channels[l], outChannels: channels[l + 1], kernel: 4, stride: l == 0 ? 1 : 2, padding: l == 0 ? 0 : 1, name: String(modules.count)))
      modules.append(.batchNorm2d(features: channels[l + 1], epsilon: 1e-5, name: String(modules.count)))
      modules.append(.activation("relu"))
    }
    modules.append(.convTranspose2d(inChannels: ngf, outChannels: nc, kernel: 4, stride: 2, padding: 1, name: String(modules.count)))
    modules.append(.activation("tanh"))
    return PyTorchArchitecture(modules: modules, prefix: prefix)
  }

  var isConvolutional: Bool {
    modules.contains { if case .convTranspose2d = $0 { return true } else { return false } }
  }

  /// The layer widths, input first (from the Linear modules).
  public var widths: [Int] {
    var w: [Int] = []
    var size = inputSize ?? 1
    for module in modules {
      switch module {
      case .linear(let i, let o, _):
        if w.isEmpty { w.append(i) }
        w.append(o)
      case .convTranspose2d(let i, let o, let k, let s, let p, _):
        if w.isEmpty { w.append(i * size * size) }
        size = (size - 1) * s - 2 * p + k
        w.append(o * size * size)
      default: break
      }
    }
    return w
  }

  /// Input and output widths (from the Linear modules).
  public var latentDimension: Int? { widths.first }
  public var outputDimension: Int? { widths.count > 1 ? widths.last : nil }
}

/// Builds a ggep generator from a PyTorch state dict in a safetensors file and a declared
/// architecture. Each `Linear` [+ `BatchNorm1d`] [+ activation] becomes one `DenseLayer`
/// (W transposed to in × out; batch norm folded, SPEC 11: W' = W·diag(γ/√(σ² + ε)),
/// b' = (b − μ)·γ/√(σ² + ε) + β), so the result is a `FeedForwardGenerator`: every projector
/// applies, and the layer-wise ones where SPEC 10 allows.
public enum PyTorchImport {
  public struct Loaded: Sendable {
    /// A `FeedForwardGenerator` for an MLP, a `ConvTransposeGenerator` for a DCGAN.
    public let generator: any Generator
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
    if architecture.isConvolutional { return try buildConvolutional(file, architecture: architecture) }
    let weights = StateDict(file, prefix: architecture.prefix)

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
        let w = try weights.tensor(name + ".weight", shape: [fanOut, fanIn])!
        // PyTorch stores out × in; the network stack multiplies rows by in × out.
        var transposed = Matrix<Float>(rows: fanIn, cols: fanOut)
        for o in 0..<fanOut { for i in 0..<fanIn { transposed.storage[i * fanOut + o] = w[o * fanIn + i] } }
        let bias = try weights.tensor(name + ".bias", shape: [fanOut], optional: true) ?? []
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
          gamma: try weights.tensor(name + ".weight", shape: [features])!, beta: try weights.tensor(name + ".bias", shape: [features])!,
          mean: try weights.tensor(name + ".running_mean", shape: [features])!, variance: try weights.tensor(name + ".running_var", shape: [features])!,
          epsilon: Float(epsilon))
        weights.ignore(name + ".num_batches_tracked")
        pending?.batchNorm = bn
      case .convTranspose2d(_, _, _, _, _, let name), .batchNorm2d(_, _, let name):
        throw SafeTensorsError(file: file.path, tensor: architecture.prefix + name, "a convolutional module in an MLP")
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
    let unused = weights.unused
    let widths = [layers[0].inputWidth] + layers.map(\.outputWidth)
    let generator = FeedForwardGenerator(
      layers: layers, summary: "pytorch(\((file.path as NSString).lastPathComponent), \(widths.map(String.init).joined(separator: "-")))")
    return Loaded(generator: generator, unused: unused, checksum: SHA256.hexDigest(file.bytes))
  }

  /// A stack of ConvTranspose2d [+ BatchNorm2d] [+ activation] on a 1 × 1 input. Batch norm is
  /// folded per output channel: W[·, c, ·, ·] ·= γ_c/√(σ²_c + ε), b_c = (b_c − μ_c)·γ_c/√(σ²_c + ε) + β_c.
  static func buildConvolutional(_ file: SafeTensorsFile, architecture: PyTorchArchitecture) throws(SafeTensorsError) -> Loaded {
    let weights = StateDict(file, prefix: architecture.prefix)
    struct Pending {
      var inChannels, outChannels, kernel, stride, padding, inSize: Int
      var weights: [Float]
      var bias: [Float]
    }
    var layers: [ConvTransposeLayer] = []
    var pending: Pending?
    var size = architecture.inputSize ?? 1
    var channels: Int?
    func flush(_ activation: Activation) {
      guard let p = pending else { return }
      layers.append(ConvTransposeLayer(
        inChannels: p.inChannels, outChannels: p.outChannels, kernel: p.kernel, stride: p.stride, padding: p.padding, inSize: p.inSize,
        weights: p.weights, bias: p.bias, activation: activation))
      pending = nil
    }
    for module in architecture.modules {
      switch module {
      case .convTranspose2d(let cin, let cout, let k, let s, let p, let name):
        if let channels, channels != cin {
          throw SafeTensorsError(file: file.path, tensor: architecture.prefix + name + ".weight", "ConvTranspose2d(\(cin), …) follows a layer of \(channels) channels")
        }
        flush(.identity)
        let out = (size - 1) * s - 2 * p + k
        guard out >= 1 else {
          throw SafeTensorsError(file: file.path, tensor: architecture.prefix + name + ".weight", "kernel \(k), stride \(s), padding \(p) on \(size) × \(size) leave no output")
        }
        pending = Pending(
          inChannels: cin, outChannels: cout, kernel: k, stride: s, padding: p, inSize: size,
          weights: try weights.tensor(name + ".weight", shape: [cin, cout, k, k])!, bias: try weights.tensor(name + ".bias", shape: [cout], optional: true) ?? [])
        size = out
        channels = cout
      case .batchNorm2d(let features, let epsilon, let name):
        guard var p = pending, features == p.outChannels else {
          throw SafeTensorsError(file: file.path, tensor: architecture.prefix + name + ".weight", "BatchNorm2d(\(features)) must follow a ConvTranspose2d with \(features) outputs")
        }
        let gamma = try weights.tensor(name + ".weight", shape: [features])!, beta = try weights.tensor(name + ".bias", shape: [features])!
        let mean = try weights.tensor(name + ".running_mean", shape: [features])!, variance = try weights.tensor(name + ".running_var", shape: [features])!
        weights.ignore(name + ".num_batches_tracked")
        let kk = p.kernel * p.kernel
        var bias = p.bias.isEmpty ? [Float](repeating: 0, count: features) : p.bias
        for c in 0..<features {
          let scale = gamma[c] / (variance[c] + Float(epsilon)).squareRoot()
          for i in 0..<p.inChannels { for u in 0..<kk { p.weights[(i * features + c) * kk + u] *= scale } }
          bias[c] = (bias[c] - mean[c]) * scale + beta[c]
        }
        p.bias = bias
        pending = p
      case .activation(let activationName):
        guard let activation = Activation(name: activationName) else {
          throw SafeTensorsError(file: file.path, "unknown activation \"\(activationName)\" in the architecture")
        }
        guard pending != nil else { throw SafeTensorsError(file: file.path, "activation \(activationName) does not follow a ConvTranspose2d") }
        flush(activation)
      case .linear(_, _, let name), .batchNorm1d(_, _, let name):
        throw SafeTensorsError(file: file.path, tensor: architecture.prefix + name, "Linear and BatchNorm1d cannot be mixed with ConvTranspose2d here")
      }
    }
    flush(.identity)
    let last = layers[layers.count - 1]
    let generator = ConvTransposeGenerator(
      layers: layers,
      summary: "pytorch(\((file.path as NSString).lastPathComponent), \(layers[0].inChannels) → \(last.outChannels)×\(last.outSize)×\(last.outSize))")
    return Loaded(generator: generator, unused: weights.unused, checksum: SHA256.hexDigest(file.bytes))
  }
}

/// A state dict being read against a declared architecture: each tensor fetched by its key
/// (the prefix added) and shape-checked, and the ones no module read kept for the warning.
final class StateDict {
  let file: SafeTensorsFile
  let prefix: String
  private var used: Set<String> = []

  init(_ file: SafeTensorsFile, prefix: String) {
    self.file = file
    self.prefix = prefix
  }

  /// The tensor `prefix + key` as Float, which must have `shape`; nil when `optional` and absent.
  func tensor(_ key: String, shape: [Int], optional: Bool = false) throws(SafeTensorsError) -> [Float]? {
    let full = prefix + key
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

  /// A tensor that is read by no module but is expected (BatchNorm's `num_batches_tracked`).
  func ignore(_ key: String) {
    if file.tensors[prefix + key] != nil { used.insert(prefix + key) }
  }

  /// Tensors of the file no module read, sorted.
  var unused: [String] { file.tensors.keys.filter { !used.contains($0) }.sorted() }
}
