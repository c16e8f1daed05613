/// A step size: η itself, or η·λ1 (`eta_lambda1`), so that η = c/λ1 of each instance.
///
/// The second form is what makes step sizes comparable across problems whose λ1 differs by an
/// order of magnitude (GCCA's 2/3, Eq. 24's 3, a spiked Σ's 10) or from image to image (λ1
/// depends on v* when B ≠ I): a sweep over η·λ1 asks the same question of every instance.
public enum StepSize: Hashable, Sendable, ExpressibleByFloatLiteral {
  case absolute(Double)
  case perLambda1(Double)

  public init(floatLiteral value: Double) { self = .absolute(value) }

  /// η for an instance whose population λ1 is `lambda1` (NaN when that is unknown).
  public func eta(lambda1: Double) -> Double {
    switch self {
    case .absolute(let eta): return eta
    case .perLambda1(let c): return c / lambda1
    }
  }

  /// η·λ1 for an instance: exactly the configured value for `eta_lambda1` steps.
  public func etaLambda1(lambda1: Double) -> Double {
    switch self {
    case .absolute(let eta): return eta * lambda1
    case .perLambda1(let c): return c
    }
  }
}
