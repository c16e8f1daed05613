import GGEPNumerics
import GGEPConfig

/// `algorithm: {kind: prfm, eta | eta_lambda1}`: the projected Rayleigh flow method,
/// u ← P_G(u + η(Â − ρB̂)u) (docs/mathematics.md §5; the paper's Algorithm 1).
public struct PRFMSpec: AlgorithmComponent {
  public static let kind = "prfm"
  public static let summary = "projected Rayleigh flow: u ← P_G(u + η(Â − ρB̂)u), the paper's method"
  public static let keys = StepSize.declaredKeys(fallback: 0.2)

  public var eta: StepSize
  public init(eta: StepSize) { self.eta = eta }
  public init(_ table: ConfigTable, n: Int) throws(ConfigError) { eta = try StepSize.read(table, fallback: 0.2) }
  public init(from decoder: any Decoder) throws { eta = try StepSize.decodeStep(from: decoder) }
  public func encode(to encoder: any Encoder) throws { try eta.encodeStep(to: encoder) }

  public var label: String { "PRFM" }
  public var step: StepSize? { eta }
  public func with(step: StepSize) -> PRFMSpec { PRFMSpec(eta: step) }
  public func solver(perView: Int?) -> any EigenSolver { PRFM(step: eta) }
}
