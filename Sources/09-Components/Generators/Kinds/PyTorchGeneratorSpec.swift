import Foundation
import Synchronization
import GGEPCore
import GGEPPrior
import GGEPModels
import GGEPConfig
import GGEPPipeline

/// `generator: {kind: pytorch, file, …}`: a PyTorch generator, its state dict in a safetensors
/// file and its modules declared in the config (`PyTorchArchitecture`; docs/pytorch-generator.md).
/// The file's SHA-256 is in every job key.
public struct PyTorchGeneratorSpec: GeneratorComponent {
  public static let kind = "pytorch"
  public static let summary = "a PyTorch generator: a safetensors state dict and its modules declared in the config"
  public static let keys = [
    DeclaredKey("file", "path", "the safetensors file of the generator's state dict"),
    DeclaredKey("preset", "mlp | dcgan", default: "mlp", "an nn.Sequential MLP of Linear [+ BatchNorm1d] + activation blocks, or the PyTorch examples' DCGAN"),
    DeclaredKey("prefix", "string", default: "\"\" (dcgan: \"main.\")", "what every state-dict key starts with"),
    DeclaredKey("widths", "list of integers ≥ 1", default: "", "preset mlp (required there): k, the hidden widths and n"),
    DeclaredKey("activations", "list of activation names", default: "", "preset mlp: one per layer; without it, hidden and output"),
    DeclaredKey("hidden", "activation name", default: "relu", "preset mlp: the hidden layers' activation"),
    DeclaredKey("output", "activation name", default: "identity", "preset mlp: the last layer's activation (identity: no module)"),
    DeclaredKey("batchnorm", "boolean", default: "false", "preset mlp: a BatchNorm1d after each hidden Linear"),
    DeclaredKey("nz", "integer ≥ 1", default: "100", "preset dcgan: the latent size"),
    DeclaredKey("ngf", "integer ≥ 1", default: "64", "preset dcgan: the feature-map width"),
    DeclaredKey("nc", "integer ≥ 1", default: "3", "preset dcgan: the image channels"),
    DeclaredKey("modules", "list of modules", default: "", "instead of a preset: the modules one by one (linear, batchnorm1d, conv2d, convtranspose2d, batchnorm2d, reshape, activations, flatten)"),
    DeclaredKey("input_size", "integer ≥ 1", default: "1", "with modules: the side of z's image when a convolution comes first"),
  ]

  public var file: String
  public var checksum: String
  public var architecture: PyTorchArchitecture
  public var n: Int
  public var k: Int
  public var seed: Int { 0 }

  public init(_ table: ConfigTable) throws(ConfigError) {
    file = try table.string("file")
    architecture = try Self.architecture(table)
    // The file is read and checked once per plan (`verifiedHeader`); the network is built at run time.
    let loaded: PyTorchImport.Header
    do {
      loaded = try PyTorchImport.verifiedHeader(file, architecture: architecture)
    } catch {
      throw table.error("file", "\(error)")
    }
    if !loaded.unused.isEmpty {
      ConfigWarnings.warn("warning: \(file): \(loaded.unused.count) tensor(s) the architecture does not use: \(loaded.unused.joined(separator: ", "))")
    }
    checksum = loaded.checksum
    n = loaded.outputDimension
    k = loaded.latentDimension
  }

  public var files: [(path: String, checksum: String)] { [(file, checksum)] }
  public var layerWidthSum: Double { architecture.widths.reduce(0.0) { $0 + Double($1) } }
  public var weightBytes: Double { DrawnWeights.count(architecture.widths) * 4 }

  public func build(using factory: GeneratorFactory) throws -> BuiltGenerator {
    let loaded = try PyTorchImport.load(file, architecture: architecture)
    guard loaded.checksum == checksum else {
      throw SafeTensorsError(
        file: file, "content checksum is \(loaded.checksum.prefix(12))…, but the plan was made with \(checksum.prefix(12))…: the file changed")
    }
    return BuiltGenerator(generator: loaded.generator, exactBasis: nil)
  }

  private enum CodingKeys: String, CodingKey { case file, checksum, architecture, n, k, seed }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(file, forKey: .file)
    try container.encode(checksum, forKey: .checksum)
    try container.encode(architecture, forKey: .architecture)
    try container.encode(n, forKey: .n)
    try container.encode(k, forKey: .k)
    try container.encode(seed, forKey: .seed)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    file = try container.decode(String.self, forKey: .file)
    checksum = try container.decode(String.self, forKey: .checksum)
    architecture = try container.decode(PyTorchArchitecture.self, forKey: .architecture)
    n = try container.decode(Int.self, forKey: .n)
    k = try container.decode(Int.self, forKey: .k)
  }
}

/// How a config declares a PyTorch generator's modules, under
/// `generator: {kind: pytorch, file: G.safetensors, …}`:
///
///     preset: mlp                      # nn.Sequential of Linear [+ BatchNorm1d] + activation blocks
///     widths: [20, 128, 784]
///     activations: [relu, sigmoid]     # or hidden: relu, output: sigmoid ("identity": no module)
///     batchnorm: false                 # a BatchNorm1d after each hidden Linear
///     prefix: "main."                  # what every state-dict key starts with ("" by default)
///
/// or the PyTorch examples' DCGAN generator (ConvTranspose2d + BatchNorm2d + ReLU, Tanh;
/// nc × 64 × 64; prefix `main.` by default):
///
///     preset: dcgan
///     nz: 100
///     ngf: 64
///     nc: 3
///
/// or the modules one by one, named by their index in the list as nn.Sequential numbers them
/// (or by `name:`):
///
///     modules:
///       - {linear: [20, 128]}
///       - {batchnorm1d: 128, eps: 1.0e-5}
///       - relu
///       - {linear: [128, 784], name: "3"}
///       - sigmoid
///
/// with convolutions (square images; `[in, out, kernel, stride, padding]`) and reshapes:
///
///     input_size: 1                      # z is k × 1 × 1 if a convolution comes first
///     modules:
///       - {linear: [10, 128]}
///       - relu
///       - {reshape: [8, 4, 4]}           # nn.Unflatten(1, (8, 4, 4))
///       - {convtranspose2d: [8, 6, 4, 2, 1]}
///       - {batchnorm2d: 6}
///       - relu
///       - {conv2d: [6, 3, 3, 1, 1]}
///       - tanh
///       - flatten                        # nn.Flatten (optional at the end)
extension PyTorchGeneratorSpec {
  /// Reads the modules a config declares (the keys above).
  static func architecture(_ table: ConfigTable) throws(ConfigError) -> PyTorchArchitecture {
    let prefix = try table.string("prefix", default: "")
    if table["modules"] != nil {
      try table.checkKnownKeys(allowed: ["kind", "file", "prefix", "modules", "input_size"], context: "for kind pytorch with modules")
      var modules: [PyTorchModule] = []
      for (index, item) in try table.required("modules").list().enumerated() {
        if let text = item.node.scalarText {
          if text == "flatten" {
            modules.append(.flatten)
            continue
          }
          guard Activation(name: text) != nil else {
            throw item.error("unknown activation \"\(text)\"; one of relu, leaky-relu (slope 0.01, PyTorch's default), leaky-relu(a), tanh, sigmoid, identity, softplus, plu (or flatten)")
          }
          modules.append(.activation(text))
          continue
        }
        let module = try item.table()
        let name = try module.string("name", default: String(index))
        if module["linear"] != nil {
          try module.checkKnownKeys(allowed: ["linear", "name"], context: "for a linear module")
          let shape = try module.intList("linear", .atLeast(1))
          guard shape.count == 2 else { throw module.error("linear", "is [in_features, out_features], got \(shape)") }
          modules.append(.linear(inFeatures: shape[0], outFeatures: shape[1], name: name))
        } else if module["batchnorm1d"] != nil {
          try module.checkKnownKeys(allowed: ["batchnorm1d", "eps", "name"], context: "for a batchnorm1d module")
          modules.append(
            .batchNorm1d(features: try module.int("batchnorm1d", .atLeast(1)), epsilon: try module.double("eps", default: 1e-5, .greaterThan(0)), name: name))
        } else if let key = ["convtranspose2d", "conv2d"].first(where: { module[$0] != nil }) {
          try module.checkKnownKeys(allowed: [key, "name"], context: "for a \(key) module")
          let shape = try module.intList(key, .atLeast(0))
          guard shape.count == 5, shape[0] >= 1, shape[1] >= 1, shape[2] >= 1, shape[3] >= 1 else {
            throw module.error(key, "is [in_channels, out_channels, kernel, stride, padding] with the first four ≥ 1, got \(shape)")
          }
          modules.append(
            key == "conv2d"
              ? .conv2d(inChannels: shape[0], outChannels: shape[1], kernel: shape[2], stride: shape[3], padding: shape[4], name: name)
              : .convTranspose2d(inChannels: shape[0], outChannels: shape[1], kernel: shape[2], stride: shape[3], padding: shape[4], name: name))
        } else if module["batchnorm2d"] != nil {
          try module.checkKnownKeys(allowed: ["batchnorm2d", "eps", "name"], context: "for a batchnorm2d module")
          modules.append(
            .batchNorm2d(features: try module.int("batchnorm2d", .atLeast(1)), epsilon: try module.double("eps", default: 1e-5, .greaterThan(0)), name: name))
        } else if module["reshape"] != nil {
          try module.checkKnownKeys(allowed: ["reshape"], context: "for a reshape module")
          let shape = try module.intList("reshape", .atLeast(1))
          guard shape.count == 3, shape[1] == shape[2] else {
            throw module.error("reshape", "is [channels, height, width] with height = width (square images only), got \(shape)")
          }
          modules.append(.reshape(channels: shape[0], size: shape[1]))
        } else {
          throw item.error(
            "a module is an activation name, flatten, {linear: [in, out]}, {batchnorm1d: features}, {convtranspose2d: [in, out, k, s, p]}, "
              + "{conv2d: [in, out, k, s, p]}, {batchnorm2d: features} or {reshape: [c, h, w]}")
        }
      }
      let architecture = PyTorchArchitecture(
        modules: modules, prefix: prefix, inputSize: table["input_size"] == nil ? nil : try table.int("input_size", .atLeast(1)))
      guard (architecture.widths.count) >= 2 else {
        throw table.error("modules", "declares no linear, convtranspose2d or conv2d module")
      }
      return architecture
    }
    let preset = try table.string("preset", default: "mlp")
    guard ["mlp", "dcgan"].contains(preset) else {
      throw table.error("preset", "unknown preset \"\(preset)\"; one of: mlp, dcgan (or declare an MLP's `modules:` one by one)")
    }
    if preset == "dcgan" {
      // The PyTorch examples' DCGAN generator: keys main.0 … main.12, nc × 64 × 64.
      try table.checkKnownKeys(allowed: ["kind", "file", "prefix", "preset", "nz", "ngf", "nc"], context: "for preset dcgan")
      return .dcgan(
        nz: try table.int("nz", default: 100, .atLeast(1)), ngf: try table.int("ngf", default: 64, .atLeast(1)),
        nc: try table.int("nc", default: 3, .atLeast(1)), prefix: try table.string("prefix", default: "main."))
    }
    try table.checkKnownKeys(
      allowed: ["kind", "file", "prefix", "preset", "widths", "activations", "hidden", "output", "batchnorm"], context: "for kind pytorch")
    let widths = try table.intList("widths", .atLeast(1))
    guard widths.count >= 2 else { throw table.error("widths", "lists k, any hidden widths and n: at least 2, got \(widths)") }
    var names: [String]
    if table["activations"] != nil {
      names = try table.stringList("activations")
      guard names.count == widths.count - 1 else {
        throw table.error("activations", "has \(names.count) entries, but widths \(widths) make \(widths.count - 1) layer(s)")
      }
    } else {
      names = [String](repeating: try table.string("hidden", default: "relu"), count: widths.count - 2) + [try table.string("output", default: "identity")]
    }
    for name in names where Activation(name: name) == nil {
      throw table.error(table["activations"] != nil ? "activations" : "hidden", "unknown activation \"\(name)\"; one of relu, leaky-relu (slope 0.01, PyTorch's default), leaky-relu(a), tanh, sigmoid, identity, softplus, plu")
    }
    return .sequentialMLP(widths: widths, activations: names, batchNorm: try table.bool("batchnorm", default: false), prefix: prefix)
  }
}
