import GGEPNumerics
import GGEPConfig

/// `algorithm: {kind: ppower}`: the projected power method on Â alone, u ← P_G(Âu)
/// (docs/mathematics.md §5; Liu et al.), which assumes B = I.
public struct PPowerSpec: AlgorithmComponent {
  public static let kind = "ppower"
  public static let summary = "projected power method on Â alone (assumes B = I; no step)"
  public static let keys: [DeclaredKey] = []

  public init() {}
  public init(_ table: ConfigTable, n: Int) throws(ConfigError) {}
  public init(from decoder: any Decoder) throws {}
  public func encode(to encoder: any Encoder) throws {}

  public var label: String { "PPower" }
  public func solver(perView: Int?) -> any EigenSolver { PPower() }
}
