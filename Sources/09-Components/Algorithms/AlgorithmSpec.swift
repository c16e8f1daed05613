import GGEPPrior
import GGEPNumerics
import GGEPConfig
import GGEPPipeline

/// The iterative method and its stopping rule (docs/mathematics.md §5).
public struct AlgorithmSpec: Codable, Hashable, Sendable {
  /// A method with its settings: any registered `AlgorithmComponent`.
  public struct Method: Hashable, Sendable {
    public let component: any AlgorithmComponent

    public init(_ component: any AlgorithmComponent) { self.component = component }

    /// The value of `algorithm.kind`.
    public var kind: String { type(of: component).kind }
    /// Its step, if it has one.
    public var step: StepSize? { component.step }

    /// Projected Rayleigh flow: u ← P_G(u + η(Â − ρB̂)u).
    public static func prfm(eta: StepSize) -> Method { Method(PRFMSpec(eta: eta)) }
    /// Projected power method on Â alone (assumes B = I).
    public static var ppower: Method { Method(PPowerSpec()) }
    /// Truncated Rayleigh flow with sparsity s; `etaPrime` nil means "η·λ1", computed when the
    /// problem's λ1 is known.
    public static func rifle(eta: StepSize, s: Int, etaPrime: Double?) -> Method { Method(RifleSpec(eta: eta, s: s, etaPrime: etaPrime)) }

    public static func == (a: Method, b: Method) -> Bool { AnyHashable(a.component) == AnyHashable(b.component) }
    public func hash(into hasher: inout Hasher) { AnyHashable(component).hash(into: &hasher) }
  }

  /// u₀ = 1/√n (all ones) or a seeded random unit vector.
  public enum Initialization: String, CaseIterable, Codable, Sendable {
    case ones, random
  }

  public var method: Method
  public var iterations: Int
  /// Stop early once ‖u_{t+1} − u_t‖ < tolerance.
  public var tolerance: Double
  public var initialization: Initialization

  public init(method: Method, iterations: Int = 30, tolerance: Double = 1e-6, initialization: Initialization = .ones) {
    self.method = method
    self.iterations = iterations
    self.tolerance = tolerance
    self.initialization = initialization
  }

  /// The keys every method takes.
  public static let commonKeys = [
    DeclaredKey("kind", "a method", default: nil, "the method: \(AlgorithmComponents.builtIn.map { $0.kind }.joined(separator: ", "))"),
    DeclaredKey("iterations", "integer ≥ 1", default: "30", "T, the iteration budget"),
    DeclaredKey("tolerance", "number ≥ 0", default: "1e-06", "stop when ‖u_{t+1} − u_t‖ < tolerance"),
    DeclaredKey("init", "ones | random", default: "ones", "u₀: 1/√n in every entry, or a seeded random unit vector"),
  ]

  /// The method's name in the paper's figures: `PRFM`, `PPower`, `Rifle20`.
  public var label: String { method.component.label }

  /// The solver (`perView`: GCCA's n_view, so that Rifle truncates s entries per view).
  public func solver(perView: Int? = nil) -> any EigenSolver { method.component.solver(perView: perView) }

  package init(_ table: ConfigTable, generator: GeneratorSpec) throws(ConfigError) {
    let kind = try table.oneOf("kind", among: AlgorithmComponents.all.map { $0.kind })
    let type = AlgorithmComponents.named(kind)!
    // Keys are per method: `s` under kind prfm is an error, not ignored.
    try table.checkKnownKeys(allowed: Self.commonKeys.map(\.name) + type.keys.map(\.name), context: "for kind \(kind)")
    method = Method(try type.init(table, n: generator.n))
    iterations = try table.int("iterations", default: 30, .atLeast(1))
    tolerance = try table.double("tolerance", default: 1e-6, .atLeast(0))
    initialization = try table.oneOf("init", default: Initialization.ones)
  }

  // The key encoding: `kind`, the method's own fields, then the stopping rule and u₀ — the
  // fields every job key has held (JobKeyPinTests).
  private enum CodingKeys: String, CodingKey {
    case kind, iterations, tolerance
    case initialization = "init"
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(method.kind, forKey: .kind)
    try method.component.encode(to: encoder)
    try container.encode(iterations, forKey: .iterations)
    try container.encode(tolerance, forKey: .tolerance)
    try container.encode(initialization, forKey: .initialization)
  }

  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    let kind = try container.decode(String.self, forKey: .kind)
    guard let type = AlgorithmComponents.named(kind) else {
      throw DecodingError.dataCorruptedError(forKey: .kind, in: container, debugDescription: "unknown algorithm kind \(kind)")
    }
    method = Method(try type.init(from: decoder))
    iterations = try container.decode(Int.self, forKey: .iterations)
    tolerance = try container.decode(Double.self, forKey: .tolerance)
    initialization = try container.decode(Initialization.self, forKey: .initialization)
  }
}
