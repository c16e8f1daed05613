import GGEPNumerics
import GGEPConfig
import GGEPPipeline
import GGEPPlot
import GGEPComponents

/// The GEP kind's result schema (docs/mathematics.md §6): its `/runs` columns and `/jobs/<key>/` vectors, each
/// declared once — writing, reading, `verify` and `inspect` all follow this list.
extension GEPKind {
  public static let schema = ResultSchema(
    columns: [
      ResultColumn("problem", .text, "problem label, e.g. eq24, eq25-square, eq24-toeplitz(r=0.5)"),
      ResultColumn("generator", .text, "generator label (a trained model's checksum shortened; see generator_checksum)"),
      ResultColumn("generator_checksum", .text, "full SHA-256 of a trained generator's weights; empty for seeded generators"),
      ResultColumn("algorithm", .text, "PRFM, PPower, Rifle<s>"),
      ResultColumn("projection", .text, "projector and its settings"),
      ResultColumn("m", .integer, "number of samples"),
      ResultColumn("eta", .real, "step size η of the instance (NaN for PPower)"),
      ResultColumn(
        "eta_lambda1", .real,
        "η·λ1 of the instance: the configured value for an eta_lambda1 step (NaN for PPower, or λ1 unknown)"),
      ResultColumn("seed", .integer, "sweep seed"),
      ResultColumn("signal_id", .text, "what the signal is: mnist-test[3127], generator[2], …"),
      ResultColumn("cosine", .real, "|⟨û, v*⟩|"),
      ResultColumn("distance", .real, "‖û − v*‖, sign-aligned"),
      ResultColumn("final_rho", .real, "ρ(û) = ûᵀÂû / ûᵀB̂û"),
      ResultColumn("lambda1", .real, "population λ1"),
      ResultColumn("lambda2", .real, "population λ2"),
      ResultColumn("projection_loss", .real, "last projection loss"),
      ResultColumn("iterations", .integer, "iterations run"),
      ResultColumn("converged", .integer, "1 if stopped by tolerance"),
      ResultColumn(
        "has_truth", .integer, "1 if there is a v* (0: user data without truth; cosine and distance are then NaN)",
        missing: .integer(1)),
      ResultColumn("cosine_view1", .real, "gcca: |⟨a*, â⟩| of the normalised first half of û (NaN for other problems)"),
      ResultColumn("cosine_view2", .real, "gcca: |⟨b*, b̂⟩| of the normalised second half of û (NaN for other problems)"),
    ],
    vectors: [
      ResultVector("u_hat", "the estimate û (n)"),
      ResultVector("v_star", "the unit signal v* (n; empty without a truth)"),
      ResultVector("rho_history", "ρ_t for t = 0 … T"),
      ResultVector("cosine_history", "|⟨u_t, v*⟩| for t = 0 … T (empty without a truth)"),
    ])

  /// Files written before a column existed: η·λ1 follows from η and λ1 (absolute steps only
  /// then); every other missing column takes its declared value.
  public func upgrade(_ record: inout JobRecord, columns: Set<String>) {
    if !columns.contains("eta_lambda1") { record.etaLambda1 = record.eta * record.lambda1 }
  }
}

/// Typed access to a GEP job's columns and vectors.
extension JobRecord {
  /// A GEP job's record, every column named.
  public init(
    key: String, groupKey: String, planIndex: Int, problem: String, generator: String, algorithm: String, projection: String, m: Int,
    eta: Double, etaLambda1: Double = .nan, seed: Int, signal: Int, signalID: String = "", trial: Int, sweepValues: [String: String],
    parametersJSON: String, status: Status, error: String = "", cosine: Double, distance: Double, finalRho: Double, lambda1: Double,
    lambda2: Double, projectionLoss: Double, iterations: Int, converged: Bool, wallTime: Double, batchSize: Int,
    estimate: [Double], signalVector: [Double], rhoHistory: [Double], cosineHistory: [Double], hasTruth: Bool = true,
    viewCosines: [Double] = []
  ) {
    self.init(
      key: key, groupKey: groupKey, planIndex: planIndex, signal: signal, trial: trial, sweepValues: sweepValues,
      parametersJSON: parametersJSON, status: status, error: error, wallTime: wallTime, batchSize: batchSize)
    self.problem = problem
    self.generator = generator
    self.generatorChecksum = ""
    self.algorithm = algorithm
    self.projection = projection
    self.m = m
    self.eta = eta
    self.etaLambda1 = etaLambda1
    self.seed = seed
    self.signalID = signalID
    self.cosine = cosine
    self.distance = distance
    self.finalRho = finalRho
    self.lambda1 = lambda1
    self.lambda2 = lambda2
    self.projectionLoss = projectionLoss
    self.iterations = iterations
    self.converged = converged
    self.hasTruth = hasTruth
    self.viewCosines = viewCosines
    self.estimate = estimate
    self.signalVector = signalVector
    self.rhoHistory = rhoHistory
    self.cosineHistory = cosineHistory
  }

  public var problem: String { get { text("problem") } set { values["problem"] = .text(newValue) } }
  public var generator: String { get { text("generator") } set { values["generator"] = .text(newValue) } }
  public var generatorChecksum: String {
    get { text("generator_checksum") } set { values["generator_checksum"] = .text(newValue) }
  }
  public var algorithm: String { get { text("algorithm") } set { values["algorithm"] = .text(newValue) } }
  public var projection: String { get { text("projection") } set { values["projection"] = .text(newValue) } }
  public var m: Int { get { integer("m") } set { values["m"] = .integer(newValue) } }
  /// η for PRFM and Rifle; NaN where the method has none (PPower).
  public var eta: Double { get { real("eta") } set { values["eta"] = .real(newValue) } }
  /// η·λ1 of the instance (the configured value for an `eta_lambda1` step); NaN for PPower
  /// and where λ1 is unknown.
  public var etaLambda1: Double { get { real("eta_lambda1") } set { values["eta_lambda1"] = .real(newValue) } }
  public var seed: Int { get { integer("seed") } set { values["seed"] = .integer(newValue) } }
  /// What signal `signal` is (`mnist-test[3127]`, `generator[2]`).
  public var signalID: String { get { text("signal_id") } set { values["signal_id"] = .text(newValue) } }
  public var cosine: Double { get { real("cosine") } set { values["cosine"] = .real(newValue) } }
  /// ‖û − v*‖ with û's sign aligned to v*.
  public var distance: Double { get { real("distance") } set { values["distance"] = .real(newValue) } }
  public var finalRho: Double { get { real("final_rho") } set { values["final_rho"] = .real(newValue) } }
  public var lambda1: Double { get { real("lambda1") } set { values["lambda1"] = .real(newValue) } }
  public var lambda2: Double { get { real("lambda2") } set { values["lambda2"] = .real(newValue) } }
  public var projectionLoss: Double { get { real("projection_loss") } set { values["projection_loss"] = .real(newValue) } }
  public var iterations: Int { get { integer("iterations") } set { values["iterations"] = .integer(newValue) } }
  public var converged: Bool { get { integer("converged") != 0 } set { values["converged"] = .integer(newValue ? 1 : 0) } }
  /// False when there is no v* to compare with (user data without a truth vector): `cosine`
  /// and `distance` are then NaN by design, the cosine history and `signalVector` empty.
  public var hasTruth: Bool {
    get { values["has_truth"]?.integer.map { $0 != 0 } ?? true } set { values["has_truth"] = .integer(newValue ? 1 : 0) }
  }
  /// GCCA (docs/mathematics.md §9): |⟨a*, â⟩|, |⟨b*, b̂⟩| of the normalised halves of û; empty for other
  /// problems (stored as NaN in `cosine_view1`, `cosine_view2`).
  public var viewCosines: [Double] {
    get {
      let (a, b) = (real("cosine_view1"), real("cosine_view2"))
      return a.isNaN && b.isNaN && !problem.hasPrefix("gcca") ? [] : [a, b]
    }
    set {
      values["cosine_view1"] = .real(newValue.count == 2 ? newValue[0] : .nan)
      values["cosine_view2"] = .real(newValue.count == 2 ? newValue[1] : .nan)
    }
  }
  /// û.
  public var estimate: [Double] { get { vector("u_hat") } set { vectors["u_hat"] = newValue } }
  public var signalVector: [Double] { get { vector("v_star") } set { vectors["v_star"] = newValue } }
  public var rhoHistory: [Double] { get { vector("rho_history") } set { vectors["rho_history"] = newValue } }
  public var cosineHistory: [Double] { get { vector("cosine_history") } set { vectors["cosine_history"] = newValue } }
}
