import Foundation
import GGEPPrior
import GGEPNumerics
import GGEPModels
import GGEPConfig

/// A layer-wise inversion method (docs/mathematics.md §10): ẑ from x by inverting G one layer at a
/// time. The same method is an inversion job's `method: {kind: …}` and a GEP job's
/// `projection: {method: …}` (then P_G(x) = G(ẑ)), and a hybrid's `start:`.
///
/// An implementation is one file and one line in `InverterComponents.builtIn` (or an
/// `InverterComponents.register` call): its keys with defaults and docs, how it reads them, the
/// name results record, the networks it refuses, its memory, and the `LatentInverter` it builds.
/// Its `Codable` form is its settings, filed in job keys under `keyName`.
public protocol InverterComponent: Codable, Hashable, Sendable {
  /// The config's `kind:` (inversion) and `method:` (projection).
  static var kind: String { get }
  /// What it is, one line (the config reference).
  static var summary: String { get }
  /// The keys it reads besides `kind`.
  static var keys: [DeclaredKey] { get }
  /// The name its settings are filed under in job keys: frozen once keys exist
  /// (`{"<keyName>": {"_0": <settings>}}`, the form the keys were pinned in).
  static var keyName: String { get }
  /// Reads its keys (the caller has checked that no other key is present).
  init(_ table: ConfigTable) throws(ConfigError)
  /// The name results record (`lp-noiseless`, `latent-pursuit-debiased`).
  var name: String { get }
  /// Why it cannot invert `network` (a setting that does not fit it), or nil; layers no
  /// layer-wise method supports are refused before this is asked.
  func refusal(for network: InversionNetwork) -> String?
  /// Its largest allocation for a network of `layers` (input, output widths), in bytes, and what
  /// it is (the memory estimate of a batch).
  func memory(layers: [(input: Double, output: Double)]) -> (bytes: Double, what: String)
  /// The inverter of `network`.
  func inverter(_ network: InversionNetwork) -> any LatentInverter
}

extension InverterComponent {
  public func refusal(for network: InversionNetwork) -> String? { nil }
}

/// A layer-wise method with its settings: any registered `InverterComponent`.
public struct LayerwiseMethod: Hashable, Sendable, Codable {
  public let component: any InverterComponent

  public init(_ component: any InverterComponent) { self.component = component }

  /// The config's `kind:` of each registered method.
  public static var kinds: [String] { InverterComponents.all.map { $0.kind } }
  public var kind: String { type(of: component).kind }
  /// The name results record.
  public var name: String { component.name }
  public func inverter(_ network: InversionNetwork) -> any LatentInverter { component.inverter(network) }

  /// The keys of method `kind` besides `kind` (none for an unknown kind).
  public static func keys(_ kind: String) -> [DeclaredKey] { InverterComponents.named(kind)?.keys ?? [] }

  /// Method `kind` (registered) with its settings read from `table`; the caller checks the keys.
  package static func read(_ kind: String, _ table: ConfigTable) throws(ConfigError) -> LayerwiseMethod {
    guard let type = InverterComponents.named(kind) else {
      throw table.error("kind", "unknown layer-wise method \"\(kind)\"; one of \(kinds.joined(separator: ", "))")
    }
    return LayerwiseMethod(try type.init(table))
  }

  /// A hybrid's `start:` — a method name or a method table; Latent-Pursuit when absent.
  package static func readStart(_ table: ConfigTable) throws(ConfigError) -> LayerwiseMethod {
    guard let value = table["start"] else { return LayerwiseMethod(LatentPursuitInverterSpec(settings: LatentPursuit.Settings())) }
    let refuse = { (kind: String) -> String in
      "a hybrid starts from a layer-wise method: one of \(kinds.joined(separator: ", ")), got \"\(kind)\""
    }
    if case .mapping = value.node.content {
      let start = try value.table()
      let kind = try start.string("kind")
      guard kinds.contains(kind) else { throw start.error("kind", refuse(kind)) }
      try start.checkKnownKeys(allowed: ["kind"] + keys(kind).map(\.name), context: "for method \(kind)")
      return try read(kind, start)
    }
    let kind = try value.string()
    guard kinds.contains(kind) else { throw table.error("start", refuse(kind)) }
    return try read(kind, ConfigTable(ConfigValue(.mapping([], mark: value.mark), path: value.path)))
  }

  /// Why the method cannot invert `generator`, naming the layer and its activation (or a
  /// setting that does not fit the network); nil when it can. A product prior is checked factor
  /// by factor.
  package func refusal(generator: BuiltGenerator) -> String? {
    if !generator.factors.isEmpty {
      for (i, factor) in generator.factors.enumerated() {
        if let reason = refusal(generator: factor) { return "factor \(i + 1): \(reason)" }
      }
      return nil
    }
    if let convolutional = generator.generator as? ConvolutionalGenerator,
      let index = convolutional.layers.firstIndex(where: { if case .convolution = $0 { return true } else { return false } })
    {
      // The programs of docs/mathematics.md §10 are per dense layer; a convolution's dense
      // matrix (n × n at 12288 outputs) would make each LP as large as the image squared.
      return "\(name) inverts dense (fully connected) layers only (docs/mathematics.md §10), but layer \(index + 1) of \(generator.generator.summary) is a convolution; use method adam"
    }
    guard let layered = generator.generator as? FeedForwardGenerator else {
      return "\(name) inverts layer by layer, but \(generator.generator.summary) has no layers to invert"
    }
    let network = InversionNetwork(layered)
    if let problem = network.unsupportedLayer() { return "\(name) cannot invert this generator: \(problem)" }
    return component.refusal(for: network)
  }

  /// `refusal(generator:)` of the generator `spec` builds, as a message for `projection.method`.
  package func refusal(for spec: GeneratorSpec) -> String? {
    let built: BuiltGenerator
    do {
      built = try GeneratorFactory.shared.build(spec)
    } catch {
      return "cannot build the generator to check it: \(error)"
    }
    return refusal(generator: built).map { "projection method \($0)" }
  }

  /// The layer-wise projector P_G(x) = G(ẑ) onto `built`'s range (with Adam's `refinement`: a hybrid).
  package func projector(
    refinement: AdamProjector.Settings?, for built: BuiltGenerator, mode: AdamProjector.ScaleMode, named projection: String
  ) throws -> any Projector {
    guard let layered = built.generator as? FeedForwardGenerator else {
      throw ProjectionError(message: "projection.method \(projection) needs a layered generator, got \(built.generator.summary)")
    }
    return LayerwiseProjector(generator: layered, inverter: inverter(InversionNetwork(layered)), mode: mode, refinement: refinement)
  }

  public static func == (a: LayerwiseMethod, b: LayerwiseMethod) -> Bool { AnyHashable(a.component) == AnyHashable(b.component) }
  public func hash(into hasher: inout Hasher) { AnyHashable(component).hash(into: &hasher) }

  // The form job keys were pinned in: {"<keyName>": {"_0": <settings>}}.
  private struct Key: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: Key.self)
    var payload = container.nestedContainer(keyedBy: Key.self, forKey: Key(stringValue: type(of: component).keyName))
    try payload.encode(component, forKey: Key(stringValue: "_0"))
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: Key.self)
    guard container.allKeys.count == 1, let key = container.allKeys.first,
      let type = InverterComponents.all.first(where: { $0.keyName == key.stringValue })
    else {
      throw DecodingError.dataCorrupted(
        DecodingError.Context(codingPath: decoder.codingPath, debugDescription: "not one known layer-wise method: \(container.allKeys.map(\.stringValue))"))
    }
    let payload = try container.nestedContainer(keyedBy: Key.self, forKey: key)
    component = try Self.decode(type, from: payload)
  }

  private static func decode<T: InverterComponent>(_ type: T.Type, from payload: KeyedDecodingContainer<Key>) throws -> T {
    try payload.decode(T.self, forKey: Key(stringValue: "_0"))
  }
}

/// The registry of layer-wise inversion methods.
public enum InverterComponents {
  /// The types ggep ships with, in the order messages list them. A new one is one line.
  public static let builtIn: [any InverterComponent.Type] = [
    LPInverterSpec.self, LatentPursuitInverterSpec.self, LayeredBPInverterSpec.self,
  ]

  static let registry = ComponentRegistry(builtIn) { $0.kind }

  /// Every layer-wise method: `method: {kind: …}` of an inversion, a hybrid's `start:`, a projection method.
  public static var all: [any InverterComponent.Type] { registry.all }
  public static func named(_ kind: String) -> (any InverterComponent.Type)? { registry.named(kind) }
  /// Adds one (a test's, a plug-in's); one of the same name is replaced.
  public static func register(_ type: any InverterComponent.Type) { registry.register(type) }
  /// Removes one added with `register` (a built-in one stays).
  public static func unregister(_ kind: String) { registry.unregister(kind) }
}
