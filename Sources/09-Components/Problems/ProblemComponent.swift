import Foundation
import GGEPConfig
import GGEPNumerics

/// One family of generalized eigenproblem pairs (Â, B̂), `problem: {kind: <kind>, …}`
/// (docs/mathematics.md §2, §9): its keys, how it reads and checks them, its label in figures
/// and tables, and the pair it makes for a job.
///
/// An implementation is one file and one line in `ProblemComponents.builtIn` (or a
/// `ProblemComponents.register` call). Its `Codable` form, beside `kind` and `population`, is
/// its part of every job key and of the data streams' identity: once keys exist, the fields it
/// encodes stay as they are (`JobKeyPinTests`).
public protocol ProblemComponent: Codable, Hashable, Sendable {
  /// The value of `problem.kind`.
  static var kind: String { get }
  /// What it is, one line (the config reference).
  static var summary: String { get }
  /// The keys it reads besides `kind`.
  static var keys: [DeclaredKey] { get }
  /// Reads and validates its table; `n` is generator.n.
  init(_ table: ConfigTable, n: Int) throws(ConfigError)
  /// Whether its jobs use the exact population pair instead of sampled matrices.
  var population: Bool { get }
  /// The short name in plots and tables, before a population's `-pop` (`eq24`, `gfda-toeplitz(r=0.5)`).
  var label: String { get }
  /// Checks that need the experiment's m (at the root's `m`).
  func validate(m: Int, in root: ConfigTable) throws(ConfigError)
  /// The pair of one job, sampled or population (nil: the kind builds it, as for GCCA's two
  /// views and a researcher's own data).
  func pair(_ context: ProblemContext) throws -> (any ProblemPair)?
}

extension ProblemComponent {
  public func validate(m: Int, in root: ConfigTable) throws(ConfigError) {}
}

/// What a problem needs to make one job's pair.
public struct ProblemContext {
  /// The job's signals (its companion is the `spike` covariance's direction).
  public var source: SignalSource
  public var signalIndex: Int
  /// The job's data identity: the key of its data streams.
  public var dataKey: String
  public var seed: Int
  /// The signal's dimension.
  public var n: Int

  public init(source: SignalSource, signalIndex: Int, dataKey: String, seed: Int, n: Int) {
    self.source = source
    self.signalIndex = signalIndex
    self.dataKey = dataKey
    self.seed = seed
    self.n = n
  }
}

/// Which generalized eigenproblem pair (Â, B̂) a job builds: one `ProblemComponent` of any
/// registered kind.
public struct ProblemSpec: Codable, Hashable, Sendable, CustomStringConvertible {
  public let component: any ProblemComponent

  public init(_ component: some ProblemComponent) {
    self.component = component
  }

  /// Reads `problem:`; `n` is generator.n (user data must have that dimension).
  package init(_ table: ConfigTable, n: Int) throws(ConfigError) {
    let kind = try table.oneOf("kind", among: ProblemComponents.all.map { $0.kind })
    component = try ProblemComponents.named(kind)!.init(table, n: n)
  }

  /// The value of `problem.kind`.
  public var kind: String { type(of: component).kind }
  public var population: Bool { component.population }
  /// `eq24`, `eq24-toeplitz(r=0.5)`, `eq25-square`, `gpca`, `gfda`, …; `-pop` marks population
  /// operators.
  public var label: String { population ? component.label + "-pop" : component.label }
  public var description: String { label }

  /// The user data, for `kind: samples`.
  public var userData: UserDataSpec? { (component as? SamplesProblem)?.data }
  /// The GCCA settings, for `kind: gcca`.
  public var gcca: GCCAProblem? { component as? GCCAProblem }

  package func validate(m: Int, in root: ConfigTable) throws(ConfigError) {
    try component.validate(m: m, in: root)
  }

  public static func == (a: ProblemSpec, b: ProblemSpec) -> Bool {
    AnyHashable(a.component) == AnyHashable(b.component)
  }

  public func hash(into hasher: inout Hasher) {
    AnyHashable(component).hash(into: &hasher)
  }

  private enum CodingKeys: String, CodingKey { case kind, population }

  // `kind`, the component's fields and `population`, in one object, as the keys have always been.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(kind, forKey: .kind)
    try component.encode(to: encoder)
    try container.encode(population, forKey: .population)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let kind = try container.decode(String.self, forKey: .kind)
    guard let type = ProblemComponents.named(kind) else {
      throw DecodingError.dataCorruptedError(forKey: .kind, in: container, debugDescription: "unknown problem kind \(kind)")
    }
    component = try type.init(from: decoder)
  }

  /// The built-in families by their old case names (`.spiked(.init(beta: 3))`).
  public static func spiked(_ p: SpikedProblem) -> ProblemSpec { ProblemSpec(p) }
  public static func phaseRetrieval(_ p: PhaseRetrievalProblem) -> ProblemSpec { ProblemSpec(p) }
  public static func gpca(_ p: GPCAProblem) -> ProblemSpec { ProblemSpec(p) }
  public static func gfda(_ p: GFDAProblem) -> ProblemSpec { ProblemSpec(p) }
  public static func gcca(_ p: GCCAProblem) -> ProblemSpec { ProblemSpec(p) }
  public static func samples(_ data: UserDataSpec) -> ProblemSpec { ProblemSpec(SamplesProblem(data: data)) }
}

/// The registry of problem families.
public enum ProblemComponents {
  /// The types ggep ships with, in the order messages list them. A new one is one line.
  public static let builtIn: [any ProblemComponent.Type] = [
    SpikedProblem.self, PhaseRetrievalProblem.self, GPCAProblem.self, GFDAProblem.self, SamplesProblem.self, GCCAProblem.self,
  ]

  static let registry = ComponentRegistry(builtIn) { $0.kind }

  /// Every kind `problem.kind` accepts.
  public static var all: [any ProblemComponent.Type] { registry.all }
  public static func named(_ kind: String) -> (any ProblemComponent.Type)? { registry.named(kind) }
  /// Adds one (a test's, a plug-in's); one of the same name is replaced.
  public static func register(_ type: any ProblemComponent.Type) { registry.register(type) }
  /// Removes one added with `register` (a built-in one stays).
  public static func unregister(_ kind: String) { registry.unregister(kind) }
}

/// Reads an optional `covariance:` table (identity when absent).
package func readCovariance(_ table: ConfigTable) throws(ConfigError) -> CovarianceSpec {
  guard let value = table["covariance"] else { return .identity }
  return try CovarianceSpec(try value.table())
}
