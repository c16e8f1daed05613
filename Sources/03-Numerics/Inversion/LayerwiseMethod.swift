
/// A layer-wise inversion method with its settings (docs/mathematics.md §10): what an inversion job and a
/// layer-wise projector are both configured with, and the one place an inverter is made from
/// it. A new layer-wise method is a new `LatentInverter` plus a case here.
public enum LayerwiseMethod: Hashable, Sendable, Codable {
  /// LP inversion (Lei et al.): the ℓ∞ programs, or the noiseless (ε = 0) ones.
  case lp(LPInverter.Settings)
  /// Latent-Pursuit (Aberdam et al., Algs. 3–5), with or without debiasing.
  case latentPursuit(LatentPursuit.Settings)
  /// Layered Basis-Pursuit (Aberdam et al., Alg. 2).
  case layeredBP(LayeredBasisPursuit.Settings)

  /// The config's `kind:` of each method.
  public static let kinds = ["lp", "latent-pursuit", "layered-bp"]

  /// The name results record (`lp`, `lp-noiseless`, `latent-pursuit`, `latent-pursuit-debiased`,
  /// `layered-bp`).
  public var name: String {
    switch self {
    case .lp(let s): return s.noiseless ? "lp-noiseless" : "lp"
    case .latentPursuit(let s): return s.debias ? "latent-pursuit-debiased" : "latent-pursuit"
    case .layeredBP: return "layered-bp"
    }
  }

  public func inverter(_ network: InversionNetwork) -> any LatentInverter {
    switch self {
    case .lp(let settings): return LPInverter(network: network, settings: settings)
    case .latentPursuit(let settings): return LatentPursuit(network: network, settings: settings)
    case .layeredBP(let settings): return LayeredBasisPursuit(network: network, settings: settings)
    }
  }
}
