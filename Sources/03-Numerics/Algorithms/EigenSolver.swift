import GGEPCore
/// An iterative method for the leading generalized eigenvector under a prior (docs/mathematics.md §5).
///
/// A solver says how one iterate becomes the next: the `target` of the step from u_t, and
/// whether targets go through the generator's projection (PRFM, PPower) or through the solver's
/// own map (Rifle's truncation). `LockstepSolver` runs a batch of independent instances in
/// lock-step so that every iteration makes ONE batched projection call.
public protocol EigenSolver: Sendable {
  /// `PRFM`, `PPower`, `Rifle20`.
  var label: String { get }
  /// True when targets are mapped by P_G; false when `finish` maps them.
  var usesProjection: Bool { get }
  /// The step's target from u_t with Âu_t, B̂u_t and ρ_t = u_tᵀÂu_t / u_tᵀB̂u_t.
  func target(u: [Double], au: [Double], bu: [Double], rho: Double, instance: ProblemInstance) throws -> [Double]
  /// For solvers that do not project: the next iterate from the target.
  func finish(_ target: [Double]) throws -> [Double]
}

extension EigenSolver {
  public func finish(_ target: [Double]) throws -> [Double] { target }
}

/// Why an instance stopped without a result: recorded with status `failed`, never a silent NaN.
public struct SolverFailure: UserFacingError {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }

  /// A step too large for Double: `x = u + η·d` has an infinite entry or ‖x‖² overflows,
  /// which downstream would read as "orthogonal to the range" or "not finite".
  /// nil when x is fine, or when it holds a NaN (not an overflow; the caller says so).
  static func overflow(_ x: [Double], step: String, at setting: String? = nil) -> SolverFailure? {
    guard !x.contains(where: \.isNaN) else { return nil }
    var squares = 0.0
    for v in x { squares += v * v }
    guard squares.isFinite else {
      return SolverFailure("the step overflowed: ‖\(step)‖ is beyond the range of Double\(setting.map { " at \($0)" } ?? ""); use a smaller step")
    }
    return nil
  }
}

/// PRFM, the projected Rayleigh flow method: u_{t+1} = P_G(u_t + η(Â − ρ_t B̂)u_t).
public struct PRFM: EigenSolver {
  public let step: StepSize
  public init(step: StepSize) { self.step = step }
  public init(eta: Double) { self.step = .absolute(eta) }
  public var label: String { "PRFM" }
  public var usesProjection: Bool { true }
  public func target(u: [Double], au: [Double], bu: [Double], rho: Double, instance: ProblemInstance) throws -> [Double] {
    let eta = step.eta(lambda1: instance.lambda1)
    guard eta.isFinite, eta > 0 else { throw SolverFailure("step η = \(eta) from η·λ1 with λ1 = \(instance.lambda1)") }
    var x = u
    for i in x.indices { x[i] += eta * (au[i] - rho * bu[i]) }
    if let failure = SolverFailure.overflow(x, step: "u + η(Â − ρB̂)u", at: "η = \(eta)") { throw failure }
    return x
  }
}

/// PPower, the projected power method: u_{t+1} = P_G(Â u_t). It ignores B̂ (assumes B = I).
public struct PPower: EigenSolver {
  public init() {}
  public var label: String { "PPower" }
  public var usesProjection: Bool { true }
  public func target(u: [Double], au: [Double], bu: [Double], rho: Double, instance: ProblemInstance) throws -> [Double] {
    au
  }
}

/// Rifle(s), the truncated Rayleigh flow (Tan et al.):
///   u' = u_t + (η'/ρ_t)(Â − ρ_t B̂)u_t,  u' ← u'/‖u'‖,  keep the s largest |entries|,
///   u_{t+1} = u'/‖u'‖.
/// No generative prior; sparsity is its prior. η' defaults to η·λ1 of the instance, so that
/// Rifle's effective step η'/ρ_t is about η (docs/mathematics.md §5).
public struct Rifle: EigenSolver {
  public let sparsity: Int
  public let step: StepSize
  public let etaPrime: Double?
  /// GCCA (docs/mathematics.md §9): truncate to s entries in EACH view, the vector being split into blocks of
  /// `perView` entries (a sparse canonical pair has support in both views). nil: s overall.
  public let perView: Int?
  public init(sparsity: Int, step: StepSize = .absolute(0.2), etaPrime: Double? = nil, perView: Int? = nil) {
    self.sparsity = sparsity
    self.step = step
    self.etaPrime = etaPrime
    self.perView = perView
  }
  public init(sparsity: Int, eta: Double, etaPrime: Double? = nil, perView: Int? = nil) {
    self.init(sparsity: sparsity, step: .absolute(eta), etaPrime: etaPrime, perView: perView)
  }
  public var label: String { "Rifle\(sparsity)" }
  public var usesProjection: Bool { false }

  public func target(u: [Double], au: [Double], bu: [Double], rho: Double, instance: ProblemInstance) throws -> [Double] {
    guard rho > 0 else { throw SolverFailure("ρ_t = \(rho) ≤ 0: Rifle's step η'/ρ_t is undefined") }
    let step = (etaPrime ?? self.step.etaLambda1(lambda1: instance.lambda1)) / rho
    var x = u
    for i in x.indices { x[i] += step * (au[i] - rho * bu[i]) }
    if let failure = SolverFailure.overflow(x, step: "u + (η'/ρ)(Â − ρB̂)u", at: "η'/ρ = \(step)") { throw failure }
    return x
  }

  public func finish(_ target: [Double]) throws -> [Double] {
    guard let unit = normalized(target) else { throw SolverFailure("Rifle step produced a zero or non-finite vector") }
    var kept = [Double](repeating: 0, count: unit.count)
    // Ties broken by index so the support is a deterministic function of the vector.
    let block = perView ?? unit.count
    for start in stride(from: 0, to: unit.count, by: max(block, 1)) {
      let range = start..<min(start + block, unit.count)
      let order = range.sorted { (Swift.abs(unit[$0]), -$0) > (Swift.abs(unit[$1]), -$1) }
      for i in order.prefix(sparsity) { kept[i] = unit[i] }
    }
    guard let next = normalized(kept) else { throw SolverFailure("Rifle truncation left a zero vector") }
    return next
  }
}
