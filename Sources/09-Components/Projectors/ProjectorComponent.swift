import Foundation
import GGEPCore
import GGEPConfig
import GGEPModels
import GGEPNumerics

/// One way of computing P_G, `projection: {method: <method>, …}` (docs/mathematics.md §4): its
/// keys, how it reads and checks them against the generator, its rows per target, and the
/// `Projector` it builds at run time.
///
/// An implementation is one file and one line in `ProjectorComponents.builtIn` (or a
/// `ProjectorComponents.register` call). Every job key holds `method`, `mode`, the Adam fields
/// (`adamSettings`: the defaults for a method without Adam) and `layerwise` when there is one, as
/// they always have; a new method's own settings are its `Codable` form, beside them.
public protocol ProjectorComponent: Codable, Hashable, Sendable {
  /// The value of `projection.method`.
  static var method: String { get }
  /// What it is, one line (the config reference).
  static var summary: String { get }
  /// The keys it reads besides `method` and `mode`.
  static var keys: [DeclaredKey] { get }
  /// Reads its keys (the caller has checked that no other key is present).
  init(_ table: ConfigTable) throws(ConfigError)
  /// Why it cannot project onto `generator`'s range, or nil (the plan's validate phase asks,
  /// after decoding).
  func refusal(for generator: GeneratorSpec) -> String?
  /// The Adam settings the job key records (the defaults when it runs no Adam).
  var adamSettings: AdamProjector.Settings { get }
  /// The layer-wise method it runs, if any (in the job key).
  var layerwise: LayerwiseMethod? { get }
  /// Rows of a batched projection per target (Adam's restarts), for memory estimates.
  var rowsPerTarget: Int { get }
  /// The projector onto `built`'s range (one factor of a product: the caller splits).
  func projector(for built: BuiltGenerator, mode: AdamProjector.ScaleMode) throws -> any Projector
}

extension ProjectorComponent {
  public var adamSettings: AdamProjector.Settings { AdamProjector.Settings() }
  public var layerwise: LayerwiseMethod? { nil }
  public var rowsPerTarget: Int { 1 }
  public func refusal(for generator: GeneratorSpec) -> String? { nil }
}

/// How P_G is computed: the method with its own settings, and the target's scale mode.
public struct ProjectionSpec: Codable, Hashable, Sendable {
  public enum Mode: String, CaseIterable, Codable, Sendable {
    /// Projection onto the normalised range; uses no ground truth.
    case cosine
    /// Target scaled by ‖image‖, as the authors' code did; leaks one scalar of the truth.
    case oracleNorm = "oracle-norm"
  }

  public let component: any ProjectorComponent
  public var mode: Mode

  public init(_ component: some ProjectorComponent, mode: Mode = .cosine) {
    self.component = component
    self.mode = mode
  }

  /// The value of `projection.method`.
  public var method: String { type(of: component).method }
  /// The Adam settings (the defaults for a method without them; what job keys encode for it).
  public var adam: AdamProjector.Settings { component.adamSettings }
  /// The layer-wise method of a layer-wise or hybrid projection.
  public var layerwise: LayerwiseMethod? { component.layerwise }
  public var steps: Int { adam.steps }
  public var learningRate: Double { adam.learningRate }
  public var restarts: Int { adam.restarts }
  public var lambdaZ: Double { adam.lambdaZ }
  public var warmStart: Bool { adam.warmStart }

  /// Every key a projection takes, over all methods.
  public static var keys: [String] {
    var names = ["method", "mode"]
    for type in ProjectorComponents.all {
      for key in type.keys where !names.contains(key.name) { names.append(key.name) }
    }
    return names
  }

  /// Reads `projection:` for `generator` (a product's surrogate: its first non-linear factor).
  package init(_ table: ConfigTable, generator: GeneratorSpec) throws(ConfigError) {
    let natural = generator.hasExactProjection ? ExactProjectorSpec.method : AdamProjectorSpec.method
    let method = try table.oneOf("method", among: ProjectorComponents.all.map { $0.method }, default: natural)
    let type = ProjectorComponents.named(method)!
    // Keys are per method: `steps` under method exact is an error, not ignored.
    try table.checkKnownKeys(allowed: ["method", "mode"] + type.keys.map(\.name), context: "for method \(method)")
    mode = try table.oneOf("mode", default: Mode.cosine)
    component = try type.init(table)
  }

  /// The validate phase: why the method cannot project onto `generator`'s range (it builds the
  /// generator to look at its layers), as an error at `projection.method` of `root`.
  package func validate(for generator: GeneratorSpec, point root: ConfigNode) throws(ConfigError) {
    guard let problem = component.refusal(for: generator) else { return }
    throw try ConfigValue(root, path: .root).table().table("projection").error("method", problem)
  }

  /// The projector onto `built`'s range: a product prior's halves each by its factor's
  /// projector (docs/mathematics.md §9, separable).
  public func projector(for built: BuiltGenerator) throws -> any Projector {
    if !built.factors.isEmpty {
      return ProductProjector(factors: try built.factors.map { try projector(for: $0) })
    }
    return try component.projector(for: built, mode: mode == .cosine ? .cosine : .oracleNorm)
  }

  public static func == (a: ProjectionSpec, b: ProjectionSpec) -> Bool {
    a.mode == b.mode && AnyHashable(a.component) == AnyHashable(b.component)
  }

  public func hash(into hasher: inout Hasher) {
    hasher.combine(mode)
    AnyHashable(component).hash(into: &hasher)
  }

  // The key encoding predates per-method settings and is kept exactly (JobKeyPinTests): every
  // field, with the Adam defaults for a method without Adam.
  package enum CodingKeys: String, CodingKey {
    case method, mode, steps
    case learningRate = "learning_rate"
    case restarts
    case lambdaZ = "lambda_z"
    case warmStart = "warm_start"
    /// Only for layer-wise and hybrid projections (added later: absent from older keys).
    case layerwise
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(method, forKey: .method)
    try container.encode(mode, forKey: .mode)
    let a = adam
    try container.encode(a.steps, forKey: .steps)
    try container.encode(a.learningRate, forKey: .learningRate)
    try container.encode(a.restarts, forKey: .restarts)
    try container.encode(a.lambdaZ, forKey: .lambdaZ)
    try container.encode(a.warmStart, forKey: .warmStart)
    try container.encodeIfPresent(layerwise, forKey: .layerwise)
    try component.encode(to: encoder)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    mode = try container.decode(Mode.self, forKey: .mode)
    let method = try container.decode(String.self, forKey: .method)
    guard let type = ProjectorComponents.named(method) else {
      throw DecodingError.dataCorruptedError(forKey: .method, in: container, debugDescription: "unknown projection method \(method)")
    }
    component = try type.init(from: decoder)
  }

  /// The legacy fields of a key, for the built-in methods' decoders.
  package static func decodeAdam(_ decoder: any Decoder) throws -> AdamProjector.Settings {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    return AdamProjector.Settings(
      steps: try c.decode(Int.self, forKey: .steps), learningRate: try c.decode(Double.self, forKey: .learningRate),
      restarts: try c.decode(Int.self, forKey: .restarts), lambdaZ: try c.decode(Double.self, forKey: .lambdaZ),
      warmStart: try c.decode(Bool.self, forKey: .warmStart))
  }

  package static func decodeLayerwise(_ decoder: any Decoder) throws -> LayerwiseMethod {
    try decoder.container(keyedBy: CodingKeys.self).decode(LayerwiseMethod.self, forKey: .layerwise)
  }
}

/// The registry of projection methods. Every layer-wise inversion method
/// (`InverterComponents`) is one too, through `LayerwiseProjectorSpec`.
public enum ProjectorComponents {
  /// The methods ggep ships with, in the order messages list them. A new method is one line.
  public static let builtIn: [any ProjectorComponent.Type] =
    [ExactProjectorSpec.self, AdamProjectorSpec.self] + InverterComponents.builtIn.map(layerwiseProjector(for:)) + [HybridProjectorSpec.self]

  static let registry = ComponentRegistry(builtIn) { $0.method }

  /// Every method `projection.method` accepts: the registered ones, then the layer-wise methods
  /// of inverters registered since start-up.
  public static var all: [any ProjectorComponent.Type] {
    let registered = registry.all
    let added = InverterComponents.all.filter { inverter in !registered.contains { $0.method == inverter.kind } }
    return registered + added.map(layerwiseProjector(for:))
  }

  public static func named(_ method: String) -> (any ProjectorComponent.Type)? { all.first { $0.method == method } }
  /// Adds a method (a test's, a plug-in's); one of the same name is replaced.
  public static func register(_ type: any ProjectorComponent.Type) { registry.register(type) }
  /// Removes a method added with `register` (a built-in one stays).
  public static func unregister(_ method: String) { registry.unregister(method) }
}
