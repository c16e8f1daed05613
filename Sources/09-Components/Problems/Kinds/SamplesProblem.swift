import GGEPConfig
import GGEPNumerics

/// `problem: {kind: samples, file, a, b, truth}`: a researcher's own Â and B̂ (and an optional
/// truth) from an HDF5 file (docs/own-data.md; docs/mathematics.md §9). The GEP kind loads the
/// file once per batch and makes the instance from it.
public struct SamplesProblem: ProblemComponent {
  public static let kind = "samples"
  public static let summary = "your own Â and B̂ (and optionally the truth) from an HDF5 file"
  public static let keys = [
    DeclaredKey("file", "path", "the HDF5 file"),
    DeclaredKey("a", "{samples: /X[, weights: /w]} or {matrix: /A}", "Â: (1/m) Xᵀdiag(w)X from a sample matrix, or a symmetric matrix"),
    DeclaredKey("b", "identity, {samples: /Y} or {matrix: /B}", "B̂: the identity, (1/m_Y) YᵀY, or a symmetric positive definite matrix"),
    DeclaredKey("truth", "dataset path", default: "", "the true v*: enables cosine and distance (else they are n/a)"),
  ]

  public var data: UserDataSpec
  public var population: Bool { false }

  public init(data: UserDataSpec) {
    self.data = data
  }

  public init(_ table: ConfigTable, n: Int) throws(ConfigError) {
    data = try UserDataSpec(table, n: n)
  }

  public var label: String { data.label }

  /// The kind makes the instance from the file's matrices (`UserData`).
  public func pair(_ context: ProblemContext) throws -> (any ProblemPair)? { nil }

  private enum CodingKeys: String, CodingKey { case data }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(data, forKey: .data)
  }

  public init(from decoder: any Decoder) throws {
    data = try decoder.container(keyedBy: CodingKeys.self).decode(UserDataSpec.self, forKey: .data)
  }
}
