import Foundation
import GGEPNumerics
import GGEPConfig

/// An iterative method for the leading generalized eigenvector, `algorithm: {kind: <kind>, …}`
/// (docs/mathematics.md §5): its keys, how it reads them, the label results record, and the
/// `EigenSolver` it builds at run time. The stopping rule and u₀ (`iterations`, `tolerance`,
/// `init`) are every method's, read by `AlgorithmSpec`.
///
/// An implementation is one file and one line in `AlgorithmComponents.builtIn` (or an
/// `AlgorithmComponents.register` call). Its `Codable` form is its own fields, written beside
/// `kind`, `iterations`, `tolerance` and `init` in the job key.
public protocol AlgorithmComponent: Codable, Hashable, Sendable {
  /// The value of `algorithm.kind`.
  static var kind: String { get }
  /// What it is, one line (the config reference).
  static var summary: String { get }
  /// The keys it reads besides `kind`, `iterations`, `tolerance` and `init`.
  static var keys: [DeclaredKey] { get }
  /// Reads its keys (the caller has checked that no other key is present); `n` is the
  /// generator's output dimension.
  init(_ table: ConfigTable, n: Int) throws(ConfigError)
  /// Its name in the paper's figures (`PRFM`, `PPower`, `Rifle20`).
  var label: String { get }
  /// Its step η (absolute or per λ1), if it has one.
  var step: StepSize? { get }
  /// The same method with `step` instead of its own (a problem family's default η when the
  /// config gives none); itself when it has no step.
  func with(step: StepSize) -> Self
  /// Why it cannot run on a two-view product prior whose views have `viewN` entries each, as
  /// (key, message); nil when it can.
  func refusal(viewN: Int) -> (key: String, message: String)?
  /// Why it cannot run without the population λ1 (user data), as (key, message); nil when it can.
  func refusalWithoutLambda1() -> (key: String, message: String)?
  /// The solver (`perView`: a two-view problem's n_view, for methods that act per view).
  func solver(perView: Int?) -> any EigenSolver
}

extension AlgorithmComponent {
  public var step: StepSize? { nil }
  public func with(step: StepSize) -> Self { self }
  public func refusal(viewN: Int) -> (key: String, message: String)? { nil }
  public func refusalWithoutLambda1() -> (key: String, message: String)? {
    if case .perLambda1 = step {
      return ("eta_lambda1", "a step given as η·λ1 needs the population λ1, which user data (kind samples) do not have; give eta")
    }
    return nil
  }
}

extension StepSize {
  /// Reads `eta` or `eta_lambda1` (at most one; `eta` with `fallback` when neither is given).
  package static func read(_ table: ConfigTable, fallback: Double) throws(ConfigError) -> StepSize {
    if table["eta"] != nil && table["eta_lambda1"] != nil {
      throw table.error("eta_lambda1", "give the step as eta or as eta_lambda1 (η·λ1 of each instance), not both")
    }
    if let scaled = try table.optionalDouble("eta_lambda1", .greaterThan(0)) { return .perLambda1(scaled) }
    return .absolute(try table.double("eta", default: fallback, .greaterThan(0)))
  }

  /// The keys of a step, with the default η `fallback`.
  package static func declaredKeys(fallback: Double) -> [DeclaredKey] {
    [
      DeclaredKey("eta", "number > 0", default: "\(fallback)", "the step η (0.5 under problem kind gcca)"),
      DeclaredKey("eta_lambda1", "number > 0", default: "", "instead of eta: η·λ1, so η = c/λ1 of each instance (not with problem kind samples, whose λ1 is unknown)"),
    ]
  }

  // An absolute η encodes as `eta`, as before the scaled form existed (no key changed).
  private enum CodingKeys: String, CodingKey {
    case eta
    case etaLambda1 = "eta_lambda1"
  }

  package func encodeStep(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    switch self {
    case .absolute(let eta): try container.encode(eta, forKey: .eta)
    case .perLambda1(let c): try container.encode(c, forKey: .etaLambda1)
    }
  }

  package static func decodeStep(from decoder: any Decoder) throws -> StepSize {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    if let c = try container.decodeIfPresent(Double.self, forKey: .etaLambda1) { return .perLambda1(c) }
    return .absolute(try container.decode(Double.self, forKey: .eta))
  }
}

/// The registry of methods.
public enum AlgorithmComponents {
  /// The types ggep ships with, in the order messages list them. A new one is one line.
  public static let builtIn: [any AlgorithmComponent.Type] = [PRFMSpec.self, PPowerSpec.self, RifleSpec.self]

  static let registry = ComponentRegistry(builtIn) { $0.kind }

  /// Every kind `algorithm.kind` accepts.
  public static var all: [any AlgorithmComponent.Type] { registry.all }
  public static func named(_ kind: String) -> (any AlgorithmComponent.Type)? { registry.named(kind) }
  /// Adds one (a test's, a plug-in's); one of the same name is replaced.
  public static func register(_ type: any AlgorithmComponent.Type) { registry.register(type) }
  /// Removes one added with `register` (a built-in one stays).
  public static func unregister(_ kind: String) { registry.unregister(kind) }
}
