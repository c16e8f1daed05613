import Foundation
import GGEPCore
import GGEPModels

/// How a config declares a PyTorch generator's modules (issue 15), under
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
extension GeneratorSpec {
  static func pytorchArchitecture(_ table: ConfigTable) throws(ConfigError) -> PyTorchArchitecture {
    let prefix = try table.string("prefix", default: "")
    if table["modules"] != nil {
      try table.checkKnownKeys(allowed: ["kind", "file", "prefix", "modules"], context: "for kind pytorch with modules")
      var modules: [PyTorchModule] = []
      for (index, item) in try table.required("modules").list().enumerated() {
        if let text = item.node.scalarText {
          guard Activation(name: text) != nil else {
            throw item.error("unknown activation \"\(text)\"; one of relu, leaky-relu(a), tanh, sigmoid, identity, softplus, plu")
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
        } else {
          throw item.error("a module is an activation name, {linear: [in, out]} or {batchnorm1d: features}")
        }
      }
      guard modules.contains(where: { if case .linear = $0 { return true } else { return false } }) else {
        throw table.error("modules", "declares no linear module")
      }
      return PyTorchArchitecture(modules: modules, prefix: prefix)
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
      throw table.error(table["activations"] != nil ? "activations" : "hidden", "unknown activation \"\(name)\"; one of relu, leaky-relu(a), tanh, sigmoid, identity, softplus, plu")
    }
    return .sequentialMLP(widths: widths, activations: names, batchNorm: try table.bool("batchnorm", default: false), prefix: prefix)
  }

  private final class Warnings: @unchecked Sendable {
    // @unchecked: `said` is only touched under `lock`.
    let lock = NSLock()
    var said: Set<String> = []
  }
  private static let warnings = Warnings()

  /// Prints a warning on stderr once per process (a plan decodes each sweep point).
  static func warnOnce(_ message: String?) {
    guard let message else { return }
    let first = warnings.lock.withLock { warnings.said.insert(message).inserted }
    if first { FileHandle.standardError.write(Data((message + "\n").utf8)) }
  }
}
