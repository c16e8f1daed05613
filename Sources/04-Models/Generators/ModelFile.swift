import Foundation
import GGEPCore
import GGEPPrior

/// The one model-file format (HDF5, `format` = `ggep-model/1`), for every trained network ggep
/// writes or reads: its `model` kind, its architecture, every weight, how it was trained, and a
/// checksum of the weights.
///
///     /                  attrs: format "ggep-model/1", model ("vae" | "dense-generator"),
///                               architecture (JSON), checksum (SHA-256 of the weights),
///                               checksum_order, ggep_version, and the training provenance
///     /<network>/w<i>    float32, in × out (h_out = h_in · W + b)
///     /<network>/b<i>    float32 (absent for a layer without bias)
///     /report            optional: the model's quality report (`ggep model-report`,
///                        `ModelReport`): attributes with every summary number (format
///                        "ggep-model-report/1", cosine_mean, mmd2, nearest_train_samples_mean,
///                        …), `json` the whole report, per-image datasets. Added through a copy
///                        renamed over the file, so an interrupted write leaves the model as it
///                        was; it changes no weight, so the checksum stays, and loading ignores it.
///                        (`ggep convert-model` rewrites a file from its weights and drops it.)
///
/// `model` decides what the file is, and so what `ModelFile.load` returns and what a config's
/// generator becomes: a VAE's decoder, or a dense generator itself. VAE files written before
/// this format (`format` = `ggep-vae/1`) still load; `ggep convert-model` rewrites them, the
/// weights and checksum unchanged.
public enum ModelFile {
  public static let format = "ggep-model/1"
  /// The VAE format this one replaced.
  public static let legacyVAEFormat = "ggep-vae/1"

  /// What a model file holds.
  public enum Loaded: Sendable {
    case vae(VAEModel)
    case denseGenerator(DenseGeneratorModel)

    public var checksum: String {
      switch self {
      case .vae(let model): return model.checksum
      case .denseGenerator(let model): return model.checksum
      }
    }

    /// The generator a config's `generator` becomes: the VAE's decoder, or the network itself.
    public var generator: FeedForwardGenerator {
      switch self {
      case .vae(let model): return model.decoderGenerator()
      case .denseGenerator(let model): return model.generator
      }
    }
  }

  /// The `model` kind a file declares (`vae` for the legacy VAE format), or an error naming
  /// the file.
  public static func kind(of path: String) throws -> String {
    let file = try HDF5File.open(path)
    defer { try? file.close() }
    let root = file.root
    let format = (try? root.stringAttribute("format")) ?? "(none)"
    if format == legacyVAEFormat { return "vae" }
    guard format == Self.format else {
      throw ModelFileError(file: path, object: "/", message: "not a ggep model file (format is '\(format)', expected '\(Self.format)')")
    }
    guard let model = try? root.stringAttribute("model") else {
      throw ModelFileError(file: path, object: "/", message: "missing attribute 'model'")
    }
    return model
  }

  /// Reads and checks a model file (format, every shape, the checksum), whatever it holds.
  public static func load(_ path: String) throws -> Loaded {
    switch try kind(of: path) {
    case "vae": return .vae(try VAEModel.load(from: path))
    case DenseGeneratorModel.kind: return .denseGenerator(try DenseGeneratorModel.load(from: path))
    case let other:
      throw ModelFileError(file: path, object: "/", message: "model '\(other)' is not one this ggep reads (vae, \(DenseGeneratorModel.kind))")
    }
  }

  /// SHA-256 over tensors' float32 little-endian bytes, in the given order.
  public static func checksum(_ tensors: [[Float]]) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(tensors.reduce(0) { $0 + $1.count } * 4)
    for values in tensors {
      #if _endian(little)
      values.withUnsafeBytes { bytes.append(contentsOf: $0) }
      #else
      for v in values {
        let bits = v.bitPattern
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
      }
      #endif
    }
    return SHA256.hexDigest(bytes)
  }
}

/// A generator that is a stack of dense layers with trained (or imported) weights, stored as a
/// `ggep-model/1` file with `model` = `dense-generator`: the priors trained in the project
/// (GAN, kernel generators) and imported networks.
///
///     architecture  {"layers":[{"activation":"relu","bias":true,"in":20,"out":128}, …]}
///     /generator/w1, /generator/b1, …   checksum over w1, b1, w2, … in that order
public struct DenseGeneratorModel: Sendable {
  public static let kind = "dense-generator"

  public struct LayerShape: Codable, Equatable, Sendable {
    public var input: Int
    public var output: Int
    public var activation: Activation
    public var bias: Bool
    enum CodingKeys: String, CodingKey { case input = "in", output = "out", activation, bias }
  }

  public let layers: [DenseLayer]
  /// Free-form provenance of how the weights came to be (training settings, source file), as
  /// string attributes; written and read back as they are.
  public var provenance: [String: String]
  public let checksum: String

  public init(layers: [DenseLayer], provenance: [String: String] = [:]) {
    precondition(!layers.isEmpty)
    self.layers = layers
    self.provenance = provenance
    checksum = ModelFile.checksum(layers.flatMap { [$0.weights.storage] + ($0.bias.isEmpty ? [] : [$0.bias]) })
  }

  public var shapes: [LayerShape] {
    layers.map { LayerShape(input: $0.inputWidth, output: $0.outputWidth, activation: $0.activation, bias: !$0.bias.isEmpty) }
  }

  /// `dense-generator(sha256:…)`, the results' generator label.
  public var summary: String { "\(Self.kind)(sha256:\(checksum.prefix(8))…)" }

  public var generator: FeedForwardGenerator { FeedForwardGenerator(layers: layers, summary: summary) }

  public func save(to path: String) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let architecture = String(decoding: try encoder.encode(["layers": shapes]), as: UTF8.self)
    try writeHDF5Atomically(to: path) { file in
      let root = file.root
      let group = try root.createGroup("generator")
      var order: [String] = []
      for (i, layer) in layers.enumerated() {
        try group.write("w\(i + 1)", layer.weights.storage, shape: [layer.inputWidth, layer.outputWidth])
        order.append("generator/w\(i + 1)")
        if !layer.bias.isEmpty {
          try group.write("b\(i + 1)", layer.bias)
          order.append("generator/b\(i + 1)")
        }
      }
      try root.setAttribute("format", ModelFile.format)
      try root.setAttribute("model", Self.kind)
      try root.setAttribute("architecture", architecture)
      try root.setAttribute("weight_layout", VAEModel.weightLayout)
      try root.setAttribute("checksum", checksum)
      try root.setAttribute("checksum_order", "sha256 over float32 little-endian row-major bytes of " + order.joined(separator: ", "))
      try root.setAttribute("ggep_version", GGEPVersion.semantic)
      for (key, value) in provenance.sorted(by: { $0.key < $1.key }) { try root.setAttribute("provenance." + key, value) }
    }
  }

  /// Reads a dense-generator file: format, architecture, every shape, the checksum; errors name
  /// the file and the dataset or attribute.
  public static func load(from path: String) throws -> DenseGeneratorModel {
    let reader = try ModelFileReader(path)
    let (root, attributes) = (reader.root, reader.attributes)
    let fail = reader.fail
    let text = try reader.required("architecture")
    guard let shapes = try? JSONDecoder().decode([String: [LayerShape]].self, from: Data(text.utf8))["layers"], !shapes.isEmpty else {
      throw fail("/", "attribute 'architecture' is not a list of layers: \(text)")
    }
    for (a, b) in zip(shapes, shapes.dropFirst()) where a.output != b.input {
      throw fail("/", "architecture: a layer of \(a.output) outputs feeds one of \(b.input) inputs")
    }
    var layers: [DenseLayer] = []
    for (i, shape) in shapes.enumerated() {
      let weights = try reader.tensor("generator/w\(i + 1)", shape: [shape.input, shape.output], isWeight: true)
      let bias = shape.bias ? try reader.tensor("generator/b\(i + 1)", shape: [shape.output], isWeight: false) : []
      layers.append(DenseLayer(
        weights: Matrix(rows: shape.input, cols: shape.output, storage: weights), bias: bias, activation: shape.activation))
    }
    var provenance: [String: String] = [:]
    for name in attributes where name.hasPrefix("provenance.") {
      provenance[String(name.dropFirst("provenance.".count))] = try root.stringAttribute(name)
    }
    let model = DenseGeneratorModel(layers: layers, provenance: provenance)
    try reader.checkChecksum(model.checksum)
    return model
  }
}

/// A model file or model that cannot be used, named by file and by dataset (or attribute):
/// printed as `models/mnist-vae.h5: /encoder/w1: has shape [784, 400], expected [784, 500]`.
public struct ModelFileError: UserFacingError, Equatable {
  public let file: String
  /// The dataset path inside the file (`/encoder/w1`), or empty for the file itself.
  public let object: String
  public let message: String

  public init(file: String, object: String, message: String) {
    self.file = file
    self.object = object
    self.message = message
  }

  public var description: String {
    [file, object, message].filter { !$0.isEmpty }.joined(separator: ": ")
  }
}
