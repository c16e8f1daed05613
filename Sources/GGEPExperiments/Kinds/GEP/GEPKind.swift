/// The generalized eigenvalue experiments of the paper (SPEC 1–9): PRFM, PPower and Rifle on
/// Eq. (24)/(25), GPCA, GFDA, GCCA and user data, with a generative prior.
public struct GEPKind: ExperimentKind {
  public init() {}
  public var name: String { "gep" }
  public var schema: ResultSchema { Self.schema }
}
