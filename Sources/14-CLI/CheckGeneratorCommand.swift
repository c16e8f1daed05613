import ArgumentParser
import Foundation
import GGEPCore
import GGEPModels
import GGEPPipeline
import GGEPComponents
import GGEPKindGEP
import GGEPPriors

/// `ggep check-generator`: does the generator a config declares compute what PyTorch computes?
/// Runs it on a reference file's z and g and compares with PyTorch's G(z) and (∂G/∂z)ᵀ g.
struct CheckGenerator: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check-generator",
    abstract: "Hold a config's generator against PyTorch's outputs and input gradients (a reference safetensors file with z, y, g, dz).",
    discussion: """
      Writes nothing. Exits 1 when either relative error exceeds --tolerance. Example:
        ggep check-generator configs/examples/dcgan-appE.yaml --reference Tests/GGEPTests/Fixtures/pytorch/dcgan-reference.safetensors
      """)

  @OptionGroup var options: ConfigOptions

  @Option(help: "PyTorch's numbers: a safetensors file with z (rows × k), y = G(z), g and dz = (∂G/∂z)ᵀ g.")
  var reference: String

  @Option(help: "Largest relative error ‖ggep − PyTorch‖/‖PyTorch‖ accepted, forward and pullback.")
  var tolerance: Double = 1e-5

  func run() throws {
    let plan = try options.loadPlan()
    var seen = Set<GeneratorSpec>()
    let specs = plan.points.flatMap { ($0.kindSpec as? any UsesGenerators)?.generators ?? [] }.filter { seen.insert($0).inserted }
    guard !specs.isEmpty else { throw UserError("\(options.config): its experiment kind declares no generator to check") }
    let reference = try PyTorchReference(path: reference)
    var failures: [String] = []
    for spec in specs {
      let generator = try GeneratorFactory.shared.build(spec).generator
      let agreement = try reference.compare(generator)
      let verdict = max(agreement.forward, agreement.pullback) <= tolerance ? "agrees" : "DISAGREES"
      print(String(
        format: "%@: forward relative error %.2e, pullback %.2e over %d rows: %@ with PyTorch (tolerance %.0e)",
        generator.summary, agreement.forward, agreement.pullback, agreement.rows, verdict, tolerance))
      if verdict != "agrees" { failures.append(generator.summary) }
    }
    if !failures.isEmpty {
      throw UserError("\(reference.path): \(failures.joined(separator: ", ")) differs from PyTorch beyond \(tolerance); check the declared modules, their order and the prefix (a safetensors file carries no activation parameters: plain leaky-relu means slope 0.01, PyTorch's default; write leaky-relu(0.2) for a model built with nn.LeakyReLU(0.2))")
    }
  }
}
