import GGEPPipeline

/// The inversion kind's result columns and vectors (docs/mathematics.md §10), each declared once
/// with its type: the schema lists them, and a job is read and written through them
/// (`record[InversionColumn.snrLatentDB]`).
public enum InversionColumn {
  public static let method = Column<String>(
    "method", "adam, oracle, lp, lp-noiseless, latent-pursuit, latent-pursuit-debiased, layered-bp, hybrid (from Latent-Pursuit) or hybrid-<start>")
  public static let generator = Column<String>("generator", "generator label")
  public static let generatorChecksum = Column<String>(
    "generator_checksum", "full SHA-256 of a trained generator's weights; empty for seeded generators")
  public static let widths = Column<String>("widths", "layer widths, latent first (20-100-625)")
  public static let k = Column<Int>("k", "latent dimension")
  public static let n = Column<Int>("n", "output dimension")
  public static let nHidden1 = Column<Int>("n_hidden1", "width of the first hidden layer (0 without one)")
  public static let expansion = Column<Double>("expansion", "mean expansion per layer, (n/k)^(1/L) for L layers")
  public static let seed = Column<Int>("seed", "sweep seed")
  public static let noiseSNRDB = Column<Double>("noise_snr_db", "SNR of the added Gaussian noise in dB (NaN: none)")
  public static let noiseSigma = Column<Double>(
    "noise_sigma", "standard deviation of the added noise per entry, when given as such (NaN otherwise)")
  public static let maskFraction = Column<Double>("mask_fraction", "fraction of x's entries hidden at random")
  public static let hiddenRows = Column<Int>("hidden_rows", "top image rows hidden")
  public static let observed = Column<Int>("observed", "entries of x the method saw")
  public static let snrLatentDB = Column<Double>("snr_latent_db", "SNR of ẑ against z* in dB (capped at 100)")
  /// Hidden layers 1 … 6 (deeper networks record the first six).
  public static let snrLayer: [Column<Double>] = (1...6).map {
    Column<Double>("snr_layer\($0)_db", "SNR of hidden layer \($0) recomputed from ẑ, in dB (NaN beyond the depth)")
  }
  public static let snrOutputDB = Column<Double>("snr_output_db", "SNR of G(ẑ) against the clean x = G(z*), in dB")
  public static let success = Column<Bool>("success", "1 if the latent SNR is at least 40 dB")
  public static let uniqueness = Column<String>(
    "uniqueness",
    "per layer, docs/mathematics.md §10's prediction that its inversion is unique: yes, no or exempt (invertible output)")
  public static let uniquePredicted = Column<Bool>("unique_predicted", "1 if every layer is predicted unique (or exempt)")
  public static let residual = Column<Double>("residual", "‖M ⊙ (G(ẑ) − x)‖ / ‖M ⊙ x‖ on the observed entries")
  public static let iterations = Column<Int>(
    "iterations", "solver iterations summed over layers (pursuits), layers solved (lp, oracle), Adam steps (a hybrid adds its start's)")

  public static let zStar = ResultVector("z_star", "the latent z* (k)")
  public static let zHat = ResultVector("z_hat", "the recovered ẑ (k)")
  public static let x = ResultVector("x", "the observed x (n; hidden entries 0)")
  public static let xHat = ResultVector("x_hat", "G(ẑ) (n)")
}

extension InversionKind {
  public static let schema: ResultSchema = {
    let settings: [any AnyResultColumn] = [
      InversionColumn.method, InversionColumn.generator, InversionColumn.generatorChecksum, InversionColumn.widths,
      InversionColumn.k, InversionColumn.n, InversionColumn.nHidden1, InversionColumn.expansion, InversionColumn.seed,
      InversionColumn.noiseSNRDB, InversionColumn.noiseSigma, InversionColumn.maskFraction, InversionColumn.hiddenRows,
      InversionColumn.observed, InversionColumn.snrLatentDB,
    ]
    let outcome: [any AnyResultColumn] = [
      InversionColumn.snrOutputDB, InversionColumn.success, InversionColumn.uniqueness, InversionColumn.uniquePredicted,
      InversionColumn.residual, InversionColumn.iterations,
    ]
    return ResultSchema(
      columns: settings + InversionColumn.snrLayer + outcome,
      vectors: [InversionColumn.zStar, InversionColumn.zHat, InversionColumn.x, InversionColumn.xHat])
  }()
}
