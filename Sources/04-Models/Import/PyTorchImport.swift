import Foundation
import GGEPCore
import GGEPPrior

/// One module of a PyTorch generator as the config declares it (docs/mathematics.md §3: a generator is any
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
  /// `nn.BatchNorm2d(features)` in eval mode, folded into the preceding ConvTranspose2d or Conv2d.
  case batchNorm2d(features: Int, epsilon: Double, name: String)
  /// `nn.Conv2d(in, out, kernel, stride, padding)`: `name.weight` (out × in × k × k), `name.bias`
  /// (out) when the file has it.
  case conv2d(inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, name: String)
  /// `nn.Unflatten(1, (channels, size, size))` or a `view`: the flat vector read as
  /// channels × size × size (channel-major, so no data moves).
  case reshape(channels: Int, size: Int)
  /// `nn.Flatten()`: an image read as a flat vector again (no data moves).
  case flatten
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


  /// The layer widths, input first (from the Linear and convolution modules; the builder
  /// checks that they chain).
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
      case .conv2d(let i, let o, let k, let s, let p, _):
        if w.isEmpty { w.append(i * size * size) }
        size = (size + 2 * p - k) / s + 1
        w.append(o * size * size)
      case .reshape(_, let s): size = s
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
/// (W transposed to in × out; batch norm folded, docs/mathematics.md §11: W' = W·diag(γ/√(σ² + ε)),
/// b' = (b − μ)·γ/√(σ² + ε) + β), so the result is a `FeedForwardGenerator`: every projector
/// applies, and the layer-wise ones where docs/mathematics.md §10 allows.
public enum PyTorchImport {
  public struct Loaded: Sendable {
    /// A `FeedForwardGenerator` for an MLP, a `ConvolutionalGenerator` when there are convolutions.
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

  /// What a config needs to know about a PyTorch file before any job runs: the checksum, the
  /// generator's dimensions and the tensors the architecture leaves unused.
  public struct Header: Sendable {
    public let checksum: String
    public let latentDimension: Int
    public let outputDimension: Int
    public let unused: [String]
  }

  /// The header of a file read and checked against `architecture` (every shape, every value
  /// finite), as `load` reads it; the network it builds is dropped. Remembered by the file's
  /// stamp and the architecture, since every sweep point names the same file.
  public static func verifiedHeader(_ path: String, architecture: PyTorchArchitecture) throws(SafeTensorsError) -> Header {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let key = FileSystem.stamp(path).flatMap { stamp in (try? encoder.encode(architecture)).map { stamp + "|" + String(decoding: $0, as: UTF8.self) } }
    if let key, let hit = headers.get(key) { return hit }
    let loaded = try load(path, architecture: architecture)
    let header = Header(
      checksum: loaded.checksum, latentDimension: loaded.generator.latentDimension, outputDimension: loaded.generator.outputDimension,
      unused: loaded.unused)
    if let key { headers.set(key, header) }
    return header
  }

  private static let headers = LockedCache<Header>()

  /// An architecture of Linear layers only becomes a `FeedForwardGenerator` (every projector,
  /// and the layer-wise inversions where docs/mathematics.md §10 allows); one with convolutions a
  /// `ConvolutionalGenerator`. Both are read by the one builder below.
  public static func build(_ file: SafeTensorsFile, architecture: PyTorchArchitecture) throws(SafeTensorsError) -> Loaded {
    let (layers, unused) = try buildLayers(file, architecture: architecture)
    let name = (file.path as NSString).lastPathComponent
    let dense = layers.compactMap { layer -> DenseLayer? in
      if case .dense(let l) = layer { return l } else { return nil }
    }
    let generator: any Generator
    if dense.count == layers.count {
      let widths = [dense[0].inputWidth] + dense.map(\.outputWidth)
      generator = FeedForwardGenerator(layers: dense, summary: "pytorch(\(name), \(widths.map(String.init).joined(separator: "-")))")
    } else {
      let shape: String
      switch layers[layers.count - 1] {
      case .dense(let l): shape = String(l.outputWidth)
      case .convolution(let l): shape = "\(l.outChannels)×\(l.outSize)×\(l.outSize)"
      }
      generator = ConvolutionalGenerator(layers: layers, summary: "pytorch(\(name), \(layers[0].inputWidth) → \(shape))")
    }
    return Loaded(generator: generator, unused: unused, checksum: SHA256.hexDigest(file.bytes))
  }

  /// Any chain of Linear [+ BatchNorm1d], ConvTranspose2d / Conv2d [+ BatchNorm2d], each with an
  /// optional activation, and reshapes between them, as a `ConvolutionalGenerator`. Batch norm
  /// is folded per output channel in Double, rounded once: W[c] ·= s_c, b_c = (b_c − μ_c)·s_c + β_c
  /// with s_c = γ_c/√(σ²_c + ε). The input of the first convolution is Cin × s × s with
  /// s = `inputSize` (default 1, a DCGAN's nz × 1 × 1); a convolution after a Linear needs a
  /// `reshape` unless the Linear's width is its channel count (a 1 × 1 image).
  static func buildLayers(_ file: SafeTensorsFile, architecture: PyTorchArchitecture) throws(SafeTensorsError) -> (
    layers: [ConvolutionalLayer], unused: [String]
  ) {
    let weights = StateDict(file, prefix: architecture.prefix)
    enum Kind { case dense, convTranspose, conv }
    struct Pending {
      var kind: Kind
      var inChannels, outChannels, kernel, stride, padding, inSize: Int
      /// dense: in × out; convTranspose: Cin × Cout·K²; conv: Cout × Cin·K².
      var weights: [Float]
      var bias: [Float]
      var name: String
      var folded = false
    }
    var layers: [ConvolutionalLayer] = []
    var pending: Pending?
    /// The current activation as an image (nil: a flat vector) and its width (nil before the first module).
    var image: (channels: Int, size: Int)?
    var width: Int?
    func fail(_ name: String, _ message: String) -> SafeTensorsError {
      SafeTensorsError(file: file.path, tensor: architecture.prefix + name + ".weight", message)
    }
    func flush(_ activation: Activation) {
      guard let p = pending else { return }
      switch p.kind {
      case .dense:
        layers.append(.dense(DenseLayer(weights: Matrix(rows: p.inChannels, cols: p.outChannels, storage: p.weights), bias: p.bias, activation: activation)))
      case .convTranspose, .conv:
        layers.append(.convolution(ConvolutionLayer(
          p.kind == .conv ? .direct : .transposed, inChannels: p.inChannels, outChannels: p.outChannels, kernel: p.kernel, stride: p.stride,
          padding: p.padding, inSize: p.inSize, weights: p.weights, bias: p.bias, activation: activation)))
      }
      pending = nil
    }
    /// The image a convolution with `cin` input channels reads.
    func convolutionInput(_ cin: Int, _ module: String, _ name: String) throws(SafeTensorsError) -> (channels: Int, size: Int) {
      if let image {
        guard image.channels == cin else { throw fail(name, "\(module)(\(cin), …) follows a layer of \(image.channels) channels") }
        return image
      }
      guard let width else { return (cin, architecture.inputSize ?? 1) }
      guard width == cin else {
        throw fail(name, "\(module)(\(cin), …) follows a flat layer of width \(width); declare a reshape to [channels, height, width] before it")
      }
      return (cin, 1)
    }
    for module in architecture.modules {
      switch module {
      case .linear(let fanIn, let fanOut, let name):
        if let width, width != fanIn { throw fail(name, "Linear(\(fanIn), \(fanOut)) follows a layer of width \(width)") }
        flush(.identity)
        let w = try weights.tensor(name + ".weight", shape: [fanOut, fanIn])!
        // PyTorch stores out × in; rows are multiplied by in × out.
        var transposed = [Float](repeating: 0, count: fanIn * fanOut)
        for o in 0..<fanOut { for i in 0..<fanIn { transposed[i * fanOut + o] = w[o * fanIn + i] } }
        pending = Pending(
          kind: .dense, inChannels: fanIn, outChannels: fanOut, kernel: 1, stride: 1, padding: 0, inSize: 1, weights: transposed,
          bias: try weights.tensor(name + ".bias", shape: [fanOut], optional: true) ?? [], name: name)
        image = nil
        width = fanOut
      case .convTranspose2d(let cin, let cout, let k, let s, let p, let name), .conv2d(let cin, let cout, let k, let s, let p, let name):
        let transposed: Bool
        if case .convTranspose2d = module { transposed = true } else { transposed = false }
        let input = try convolutionInput(cin, transposed ? "ConvTranspose2d" : "Conv2d", name)
        flush(.identity)
        let out = transposed ? (input.size - 1) * s - 2 * p + k : (input.size + 2 * p >= k ? (input.size + 2 * p - k) / s + 1 : 0)
        guard out >= 1 else { throw fail(name, "kernel \(k), stride \(s), padding \(p) on \(input.size) × \(input.size) leave no output") }
        pending = Pending(
          kind: transposed ? .convTranspose : .conv, inChannels: cin, outChannels: cout, kernel: k, stride: s, padding: p, inSize: input.size,
          weights: try weights.tensor(name + ".weight", shape: transposed ? [cin, cout, k, k] : [cout, cin, k, k])!,
          bias: try weights.tensor(name + ".bias", shape: [cout], optional: true) ?? [], name: name)
        image = (cout, out)
        width = cout * out * out
      case .batchNorm1d(let features, let epsilon, let name), .batchNorm2d(let features, let epsilon, let name):
        let oneD: Bool
        if case .batchNorm1d = module { oneD = true } else { oneD = false }
        let kind = oneD ? "BatchNorm1d" : "BatchNorm2d"
        guard var p = pending, !p.folded, (p.kind == .dense) == oneD else {
          throw fail(name, "\(kind) must follow a \(oneD ? "Linear" : "ConvTranspose2d or Conv2d") directly (it is folded into it)")
        }
        guard features == p.outChannels else { throw fail(name, "\(kind)(\(features)) follows a layer with \(p.outChannels) outputs") }
        let gamma = try weights.tensor(name + ".weight", shape: [features])!, beta = try weights.tensor(name + ".bias", shape: [features])!
        let mean = try weights.tensor(name + ".running_mean", shape: [features])!, variance = try weights.tensor(name + ".running_var", shape: [features])!
        weights.ignore(name + ".num_batches_tracked")
        // ε as float32, as PyTorch adds it (and as `DenseLayer`'s fold does).
        let scale = (0..<features).map { Double(gamma[$0]) / (Double(variance[$0]) + Double(Float(epsilon))).squareRoot() }
        // Where output channel c's weights sit in each layout.
        let kk = p.kernel * p.kernel
        for index in p.weights.indices {
          let c: Int
          switch p.kind {
          case .dense: c = index % features
          case .convTranspose: c = (index / kk) % features
          case .conv: c = index / (p.inChannels * kk)
          }
          p.weights[index] = Float(Double(p.weights[index]) * scale[c])
        }
        p.bias = (0..<features).map { c in Float(((p.bias.isEmpty ? 0 : Double(p.bias[c])) - Double(mean[c])) * scale[c] + Double(beta[c])) }
        p.folded = true
        pending = p
      case .reshape(let c, let side):
        guard let width, width == c * side * side else {
          throw SafeTensorsError(
            file: file.path, "reshape to \(c) × \(side) × \(side) (\(c * side * side) entries) follows " + (width.map { "a layer of width \($0)" } ?? "nothing"))
        }
        image = (c, side)
      case .flatten:
        image = nil
      case .activation(let activationName):
        guard let activation = Activation(name: activationName) else {
          throw SafeTensorsError(file: file.path, "unknown activation \"\(activationName)\" in the architecture")
        }
        guard pending != nil else {
          throw SafeTensorsError(file: file.path, "activation \(activationName) does not follow a Linear, ConvTranspose2d or Conv2d (two in a row, or one first)")
        }
        flush(activation)
      }
    }
    flush(.identity)
    guard !layers.isEmpty else { throw SafeTensorsError(file: file.path, "the architecture has no Linear, ConvTranspose2d or Conv2d module") }
    return (layers, weights.unused)
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
    let values = try file.floats(full)
    if let problem = FiniteWeights.problem(values) { throw SafeTensorsError(file: file.path, tensor: full, problem) }
    return values
  }

  /// A tensor that is read by no module but is expected (BatchNorm's `num_batches_tracked`).
  func ignore(_ key: String) {
    if file.tensors[prefix + key] != nil { used.insert(prefix + key) }
  }

  /// Tensors of the file no module read, sorted.
  var unused: [String] { file.tensors.keys.filter { !used.contains($0) }.sorted() }
}
