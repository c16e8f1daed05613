import Foundation
import GGEPConfig
import GGEPPrior

/// One kind of generator, `generator: {kind: <kind>, …}` (docs/mathematics.md §3): its config
/// keys, how it reads and checks them, the files it needs, its memory, and how it is built.
///
/// An implementation is one file and one line in `GeneratorComponents.builtIn` (or a
/// `GeneratorComponents.register` call from a test or plug-in). Its `Codable` form is its part
/// of every job key: the fields it encodes beside `kind` must stay as they are once keys exist
/// (`JobKeyPinTests`).
public protocol GeneratorComponent: Codable, Hashable, Sendable {
  /// The value of `generator.kind`.
  static var kind: String { get }
  /// What it is, one line (the config reference).
  static var summary: String { get }
  /// The keys it reads besides `kind`.
  static var keys: [DeclaredKey] { get }
  /// Reads and validates the generator's table (model files' headers are read, never their
  /// weights into a network).
  init(_ table: ConfigTable) throws(ConfigError)

  /// Ambient dimension n.
  var n: Int { get }
  /// Latent dimension k.
  var k: Int { get }
  /// Seed of drawn weights (0 for weights read from a file).
  var seed: Int { get }
  /// The files it reads, each with the content checksum the plan saw (in every job key).
  var files: [(path: String, checksum: String)] { get }
  /// Σ of the layer widths (input, hidden, output), for a batch's workspace estimate.
  var layerWidthSum: Double { get }
  /// Bytes of its weights once built (shared by every batch); for drawn weights, with the
  /// Double draws they are made from (12 per weight, measured on a 20-20000-625 network).
  var weightBytes: Double { get }
  /// Builds it (at run time; `GeneratorFactory` caches it per process).
  func build(using factory: GeneratorFactory) throws -> BuiltGenerator

  /// The factors of a product generator (empty otherwise).
  var factors: [GeneratorSpec] { get }
  /// Whether its range has a closed-form projection (a linear generator).
  var hasExactProjection: Bool { get }
}

extension GeneratorComponent {
  public var factors: [GeneratorSpec] { [] }
  public var hasExactProjection: Bool { false }
  public var files: [(path: String, checksum: String)] { [] }
}

/// A generator of the config: one `GeneratorComponent`, of any registered kind.
public struct GeneratorSpec: Codable, Hashable, Sendable, CustomStringConvertible {
  /// The generator's kind and settings.
  public let component: any GeneratorComponent

  public init(_ component: some GeneratorComponent) {
    self.component = component
  }

  /// Reads `generator:`: `{kind: …}` of a registered kind, or `{product: [g₁, g₂]}`.
  public init(_ table: ConfigTable) throws(ConfigError) {
    if table["product"] != nil {
      component = try ProductGeneratorSpec(table)
      return
    }
    let names = GeneratorComponents.all.map { $0.kind }
    let kind = try table.oneOf("kind", among: names + [ProductGeneratorSpec.kind])
    guard kind != ProductGeneratorSpec.kind else {
      throw table.error("kind", "a product generator is written generator: {product: [<generator>, <generator>]}")
    }
    component = try GeneratorComponents.named(kind)!.init(table)
  }

  /// The value of `generator.kind` (`product` for a product).
  public var kind: String { type(of: component).kind }
  public var n: Int { component.n }
  public var k: Int { component.k }
  public var seed: Int { component.seed }
  public var factors: [GeneratorSpec] { component.factors }
  public var isProduct: Bool { component is ProductGeneratorSpec }
  /// Whether the projection onto its range is exact (a linear generator).
  public var hasExactProjection: Bool { component.hasExactProjection }

  /// The files it reads (a product's factors' included), with their checksums.
  public var files: [(path: String, checksum: String)] {
    component.files + factors.flatMap(\.files)
  }

  /// The SHA-256 of a trained generator's weights ("" for seeded ones; a product's factors,
  /// comma-separated): the `generator_checksum` column.
  public var contentChecksum: String {
    if isProduct {
      return factors.contains { !$0.contentChecksum.isEmpty } ? factors.map(\.contentChecksum).joined(separator: ",") : ""
    }
    return component.files.first?.checksum ?? ""
  }

  /// The generator signals are drawn from and sized by: the first factor of a product (GCCA's
  /// view signals a*, b* have n_view entries), else the generator itself.
  public var signalGenerator: GeneratorSpec { factors.first ?? self }

  /// What the projection settings are checked against: a product of linear factors acts as
  /// linear (exact projection per factor), otherwise its first non-linear factor decides.
  package var projectionSurrogate: GeneratorSpec {
    guard isProduct else { return self }
    return factors.first { !$0.hasExactProjection } ?? GeneratorSpec(LinearGeneratorSpec(n: n, k: k, seed: seed))
  }

  public var description: String { "\(kind)(n=\(n),k=\(k))" }

  public static func == (a: GeneratorSpec, b: GeneratorSpec) -> Bool {
    AnyHashable(a.component) == AnyHashable(b.component)
  }

  public func hash(into hasher: inout Hasher) {
    AnyHashable(component).hash(into: &hasher)
  }

  private enum KindKey: String, CodingKey { case kind }

  // `kind` and the component's own fields in one JSON object, as the keys have always been.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: KindKey.self)
    try container.encode(kind, forKey: .kind)
    try component.encode(to: encoder)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: KindKey.self)
    let kind = try container.decode(String.self, forKey: .kind)
    if kind == ProductGeneratorSpec.kind {
      component = try ProductGeneratorSpec(from: decoder)
    } else if let type = GeneratorComponents.named(kind) {
      component = try type.init(from: decoder)
    } else {
      throw DecodingError.dataCorruptedError(forKey: .kind, in: container, debugDescription: "unknown generator kind \(kind)")
    }
  }
}

/// The registry of generator kinds.
public enum GeneratorComponents {
  /// The types ggep ships with, in the order messages list them. A new one is one line.
  public static let builtIn: [any GeneratorComponent.Type] = [
    LinearGeneratorSpec.self, ReLURandomGeneratorSpec.self, VAEMNISTGeneratorSpec.self, ModelFileGeneratorSpec.self,
    ReLUMLPGeneratorSpec.self, PyTorchGeneratorSpec.self,
  ]

  static let registry = ComponentRegistry(builtIn) { $0.kind }

  /// Every kind `generator.kind` accepts (a product is written `product:`, not listed here).
  public static var all: [any GeneratorComponent.Type] { registry.all }
  public static func named(_ kind: String) -> (any GeneratorComponent.Type)? { registry.named(kind) }
  /// Adds one (a test's, a plug-in's); one of the same name is replaced.
  public static func register(_ type: any GeneratorComponent.Type) { registry.register(type) }
  /// Removes one added with `register` (a built-in one stays).
  public static func unregister(_ kind: String) { registry.unregister(kind) }
}
