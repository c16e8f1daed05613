import Foundation
import GGEPPrior
import GGEPNumerics
import GGEPModels
import GGEPConfig
import GGEPPipeline
import GGEPPlot
import GGEPComponents

/// One sweep point of an inversion experiment (`experiment: inversion`, docs/mathematics.md §10): a generator,
/// a method that inverts it, and what is done to its output first.
///
///     experiment: inversion
///     name: inversion-smoke
///     seed: 0
///     signals: 20                 # draws z* ~ N(0, I_k) per point
///     trials: 1                   # independent corruptions per draw
///     generator: {kind: relu-mlp, widths: [20, 100, 625]}     # any layered generator
///     method: {kind: lp}          # adam | oracle | lp | latent-pursuit | layered-bp | hybrid
///     noise_snr_db: 40            # optional: Gaussian noise at this SNR of x
///     noise_sigma: 0.01           # or: Gaussian noise of this standard deviation per entry
///     mask_fraction: 0.3          # optional: this fraction of x's entries hidden at random
///     hidden_rows: 13             # optional: the top rows of a square-image output hidden
///
/// Each job draws z* (keyed by the generator, the signal and the trial only, so every method
/// and every corruption level meets the same z*), makes x = G(z*), corrupts it (noise and masks
/// keyed by the corruption too), and inverts the observed entries.
public struct InversionSpec: KindSpec, UsesGenerators, Codable, Hashable {
  public var generators: [GeneratorSpec] { [generator] }
  public enum Method: Hashable, Sendable, Codable {
    case adam(AdamProjector.Settings)
    case oracle
    /// LP, Latent-Pursuit or Layered Basis-Pursuit, with its settings.
    case layerwise(LayerwiseMethod)
    /// Adam (the same settings and restarts as `adam`) with the layer-wise ẑ as one more start;
    /// the lower output residual wins.
    case hybrid(start: LayerwiseMethod, adam: AdamProjector.Settings)

    /// The name results record: `adam`, `oracle`, the layer-wise method's (`lp`,
    /// `latent-pursuit-debiased`, …), `hybrid` (from Latent-Pursuit) or `hybrid-<start>`.
    public var name: String {
      switch self {
      case .adam: return "adam"
      case .oracle: return "oracle"
      case .layerwise(let method): return method.name
      case .hybrid(let start, _):
        if start.name == LatentPursuitInverterSpec.kind { return "hybrid" }  // the default start, undebiased
        return "hybrid-\(start.name)"
      }
    }

    static var kinds: [String] { ["adam", "oracle"] + LayerwiseMethod.kinds + ["hybrid"] }
    var isLayerwise: Bool { if case .adam = self { return false } else { return true } }
    /// The layer-wise method a job runs (the hybrid's start), if any.
    var layerwise: LayerwiseMethod? {
      switch self {
      case .layerwise(let method), .hybrid(let method, _): return method
      default: return nil
      }
    }
  }

  public var name: String
  public var description: String?
  public var seed: Int
  public var trials: Int
  public var signals: Int
  public var generator: GeneratorSpec
  public var method: Method
  public var noiseSNR: Double?
  /// The noise's standard deviation per entry instead of an SNR (σ ≥ 0).
  public var noiseSigma: Double?
  public var maskFraction: Double
  public var hiddenRows: Int

  public var signalCount: Int { signals }

  /// An inversion's Adam (alone, or a hybrid's): 500 steps, rate 0.05, 3 restarts, no ‖z‖² term —
  /// a run to convergence on one target, where a projection inside PRFM takes a few steps each
  /// iteration.
  public static let adamDefaults = AdamProjector.Settings(steps: 500, learningRate: 0.05, restarts: 3, lambdaZ: 0)

  public static let rootKeys = [
    "experiment", "name", "description", "seed", "trials", "signal", "signals", "generator", "method", "noise_snr_db", "noise_sigma",
    "mask_fraction", "hidden_rows",
  ]

  /// The number of signals z*, written as the GEP kind writes its signals,
  /// `signal: {source: generator, count: 10}` (z* is always drawn from the generator's latent
  /// prior), or with the older spelling `signals: 10`. The job keys are the same either way.
  static func signalCount(_ table: ConfigTable) throws(ConfigError) -> Int {
    guard let value = table["signal"] else { return try table.int("signals", default: 10, .atLeast(1)) }
    if table["signals"] != nil {
      throw table.error("signals", "give the number of signals as signal: {count: …} or as signals: …, not both")
    }
    let signal = try value.table()
    try signal.checkKnownKeys(allowed: ["source", "count"], context: "for an inversion's signals (z* is drawn from the generator's latent prior)")
    let source = try signal.string("source", default: "generator")
    guard source == "generator" else {
      throw signal.error("source", "an inversion's signals are G(z*) for latent draws z*: source must be generator, got \"\(source)\"")
    }
    return try signal.int("count", default: 10, .atLeast(1))
  }

  public init(config root: ConfigNode, defaultName: String) throws(ConfigError) {
    let table = try ConfigValue(root, path: .root).table()
    try table.checkKnownKeys(allowed: Self.rootKeys)
    name = try table.string("name", default: defaultName)
    description = try table.optionalString("description")
    seed = try table.int("seed", default: 0, .atLeast(0))
    trials = try table.int("trials", default: 1, .atLeast(1))
    signals = try Self.signalCount(table)
    generator = try GeneratorSpec(try table.table("generator"))
    if generator.isProduct {
      throw table.error("generator", "an inversion needs one generator, not a product")
    }
    noiseSNR = try table.optionalDouble("noise_snr_db")
    if let noiseSNR, !noiseSNR.isFinite || noiseSNR < -20 {
      throw table.error("noise_snr_db", "must be a finite SNR in dB (≥ −20; larger is less noise), got \(noiseSNR)")
    }
    noiseSigma = try table.optionalDouble("noise_sigma")
    if let noiseSigma, !noiseSigma.isFinite || noiseSigma < 0 {
      throw table.error("noise_sigma", "is the noise's standard deviation per entry: must be finite and ≥ 0, got \(formatConfigNumber(noiseSigma))")
    }
    if noiseSNR != nil && noiseSigma != nil {
      throw table.error("noise_sigma", "give the noise either as noise_snr_db or as noise_sigma, not both")
    }
    maskFraction = try table.double("mask_fraction", default: 0)
    guard maskFraction >= 0, maskFraction < 1 else {
      throw table.error("mask_fraction", "must be in [0, 1) (the fraction of x's entries hidden), got \(formatConfigNumber(maskFraction))")
    }
    hiddenRows = try table.int("hidden_rows", default: 0, .atLeast(0))
    if hiddenRows > 0 {
      let side = Int(Double(generator.n).squareRoot().rounded())
      guard side * side == generator.n, hiddenRows < side else {
        throw table.error(
          "hidden_rows", "hides the top rows of a square image: needs n = side² and fewer than side rows (n = \(generator.n)), got \(hiddenRows)")
      }
    }

    let methodTable = try table.table("method")
    let kind = try methodTable.string("kind", default: "adam")
    guard Method.kinds.contains(kind) else {
      throw methodTable.error("kind", "unknown inversion method \"\(kind)\"; one of \(Method.kinds.joined(separator: ", "))")
    }
    let adamKeys = AdamKeys.declared(Self.adamDefaults, warmStart: false).map(\.name)
    func adam() throws(ConfigError) -> AdamProjector.Settings {
      try AdamKeys.read(methodTable, defaults: Self.adamDefaults, warmStart: false)
    }
    switch kind {
    case "adam":
      try methodTable.checkKnownKeys(allowed: ["kind"] + adamKeys, context: "for method adam")
      method = .adam(try adam())
    case "hybrid":
      try methodTable.checkKnownKeys(allowed: ["kind", "start"] + adamKeys, context: "for method hybrid")
      // The same Adam as `adam` (its defaults too), plus the layer-wise start.
      method = .hybrid(start: try LayerwiseMethod.readStart(methodTable), adam: try adam())
    case "oracle":
      try methodTable.checkKnownKeys(allowed: ["kind"], context: "for method oracle")
      method = .oracle
    default:
      try methodTable.checkKnownKeys(allowed: ["kind"] + LayerwiseMethod.keys(kind).map(\.name), context: "for method \(kind)")
      method = .layerwise(try LayerwiseMethod.read(kind, methodTable))
    }
  }

  /// The validate phase (after decoding): the generator is built, since its layers are what every
  /// method's per-layer SNR is measured on, and a layer-wise method is refused before any job
  /// runs when the network has a layer it cannot invert, naming the layer and its activation.
  func validate(point root: ConfigNode) throws(ConfigError) {
    let table = try ConfigValue(root, path: .root).table()
    let methodTable = try table.table("method")
    let built: BuiltGenerator
    do {
      built = try GeneratorFactory.shared.build(generator)
    } catch {
      throw table.error("generator", "cannot build it: \(error)")
    }
    guard let layered = built.generator as? FeedForwardGenerator else {
      throw table.error("generator", "an inversion needs a layered network (relu-mlp, relu-random, vae-mnist or a model file), got \(built.generator.summary)")
    }
    if case .oracle = method, let problem = InversionNetwork(layered).unsupportedLayer() {
      throw methodTable.error("kind", "method oracle cannot invert this generator: \(problem)")
    }
    if let layerwise = method.layerwise, let problem = layerwise.refusal(generator: built) {
      throw methodTable.error("kind", "method \(problem)")
    }
  }

  // MARK: - KindSpec

  /// Everything but the name, description and the signal and trial counts (which never change
  /// a job's numbers: more signals or trials resume the jobs already run). A field added later
  /// must encode only when it is not at its default (optional, nil by default), so that the
  /// keys of existing results stay (JobKeyPinTests).
  public var identityJSON: String {
    var identity = self
    identity.name = ""
    identity.description = nil
    identity.trials = 1
    identity.signals = 0
    return Self.json(identity)
  }

  public var canonicalJSON: String { Self.json(self) }

  /// A generator's canonical JSON (its identity among generators).
  static func json(generatorOnly generator: GeneratorSpec) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: (try? encoder.encode(generator)) ?? Data(), as: UTF8.self)
  }

  static func json(_ value: InversionSpec) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self)
  }

  public var namedFiles: [(path: String, checksum: String)] {
    generator.files
  }

  /// A batch's peak memory, from terms measured with `getrusage` on relu-mlp networks of
  /// 20-500-1000 to 20-2000-4000 and 20-20000-625 (each within 25 % above the measured peak):
  ///
  ///     generator       16 B per weight      Float weights, and InversionNetwork's Double copy
  ///     a layer-wise    its own term         (`InverterComponent.memory`: LP 64 B per entry of the
  ///     method                               largest layer's program, Latent-Pursuit 24 B and
  ///                                          Layered BP 16 B per weight of the largest layer)
  ///     Adam            J·R·Σwidths·16       the batched activations and gradients
  ///
  /// plus the process's 64 MiB. Every product is taken in Double, so hostile widths give a
  /// huge figure that the plan refuses, never an overflow.
  public func memoryEstimate(jobs: Int) -> MemoryEstimate {
    let widths = ((try? GeneratorFactory.shared.build(generator).generator as? FeedForwardGenerator)??.stack.widths ?? [generator.k, generator.n])
      .map(Double.init)
    let layers = zip(widths, widths.dropFirst()).map { (input: $0, output: $1) }
    let weights = layers.reduce(0.0) { $0 + $1.input * $1.output }
    let shownWidths = "[\(widths.map { String(Int($0)) }.joined(separator: ", "))]"
    var terms: [(bytes: Double, key: String, value: String, what: String)] = [
      (weights * 16, "generator.widths", shownWidths, "the generator's weights, in Float and in Double")
    ]
    if let layerwise = method.layerwise {
      let (bytes, what) = layerwise.component.memory(layers: layers)
      terms.append((bytes, "generator.widths", shownWidths, what))
    }
    switch method {
    case .adam(let s), .hybrid(_, let s):
      let rows = Double(jobs) * Double(s.restarts)
      terms.append((rows * widths.reduce(0, +) * 16, "signals", String(signals), "Adam's batched buffers"))
    default: break
    }
    var estimate = MemoryEstimate(terms: terms, jobs: jobs)
    estimate.batchKeys = "signals × trials"
    return estimate
  }

  public func progressLabel(sweepLabels: [SweepLabel]) -> String {
    var parts = [method.name, widths.map(String.init).joined(separator: "-")]
    if let noiseSNR { parts.append("snr=\(formatNumber(noiseSNR))dB") }
    if let noiseSigma { parts.append("σ=\(formatNumber(noiseSigma))") }
    if maskFraction > 0 { parts.append("mask=\(formatNumber(maskFraction))") }
    if hiddenRows > 0 { parts.append("hidden_rows=\(hiddenRows)") }
    let named = ["method", "generator"]
    return (parts + sweepLabels.filter { !named.contains($0.path) && !$0.value.hasPrefix("{") && !$0.value.hasPrefix("[") }.map(\.description))
      .joined(separator: " ")
  }
}
