import GGEPNumerics
import GGEPConfig
import GGEPPipeline
import GGEPPlot
import GGEPComponents

/// The GEP kind's result columns and vectors (docs/mathematics.md §6), each declared once with its type:
/// writing, reading, `verify` and `inspect` follow `GEPKind.schema`, and a job is read and written
/// through them (`record[GEPColumn.cosine]`, or the named accessors below).
public enum GEPColumn {
  public static let problem = Column<String>("problem", "problem label, e.g. eq24, eq25-square, eq24-toeplitz(r=0.5)")
  public static let generator = Column<String>(
    "generator", "generator label (a trained model's checksum shortened; see generator_checksum)")
  public static let generatorChecksum = Column<String>(
    "generator_checksum", "full SHA-256 of a trained generator's weights; empty for seeded generators")
  public static let algorithm = Column<String>("algorithm", "PRFM, PPower, Rifle<s>")
  public static let projection = Column<String>("projection", "projector and its settings")
  public static let m = Column<Int>("m", "number of samples")
  public static let eta = Column<Double>("eta", "step size η of the instance (NaN for PPower)")
  public static let etaLambda1 = Column<Double>(
    "eta_lambda1", "η·λ1 of the instance: the configured value for an eta_lambda1 step (NaN for PPower, or λ1 unknown)")
  public static let seed = Column<Int>("seed", "sweep seed")
  public static let signalID = Column<String>("signal_id", "what the signal is: mnist-test[3127], generator[2], …")
  public static let cosine = Column<Double>("cosine", "|⟨û, v*⟩|")
  public static let distance = Column<Double>("distance", "‖û − v*‖, sign-aligned")
  public static let finalRho = Column<Double>("final_rho", "ρ(û) = ûᵀÂû / ûᵀB̂û")
  public static let lambda1 = Column<Double>("lambda1", "population λ1")
  public static let lambda2 = Column<Double>("lambda2", "population λ2")
  public static let projectionLoss = Column<Double>("projection_loss", "last projection loss")
  public static let iterations = Column<Int>("iterations", "iterations run")
  public static let converged = Column<Bool>("converged", "1 if stopped by tolerance")
  public static let hasTruth = Column<Bool>(
    "has_truth", "1 if there is a v* (0: user data without truth; cosine and distance are then NaN)", missing: true)
  public static let cosineView1 = Column<Double>(
    "cosine_view1", "gcca: |⟨a*, â⟩| of the normalised first half of û (NaN for other problems)")
  public static let cosineView2 = Column<Double>(
    "cosine_view2", "gcca: |⟨b*, b̂⟩| of the normalised second half of û (NaN for other problems)")

  public static let uHat = ResultVector("u_hat", "the estimate û (n)")
  public static let vStar = ResultVector("v_star", "the unit signal v* (n; empty without a truth)")
  public static let rhoHistory = ResultVector("rho_history", "ρ_t for t = 0 … T")
  public static let cosineHistory = ResultVector("cosine_history", "|⟨u_t, v*⟩| for t = 0 … T (empty without a truth)")
}

extension GEPKind {
  public static let schema = ResultSchema(
    columns: [
      GEPColumn.problem, GEPColumn.generator, GEPColumn.generatorChecksum, GEPColumn.algorithm, GEPColumn.projection,
      GEPColumn.m, GEPColumn.eta, GEPColumn.etaLambda1, GEPColumn.seed, GEPColumn.signalID, GEPColumn.cosine,
      GEPColumn.distance, GEPColumn.finalRho, GEPColumn.lambda1, GEPColumn.lambda2, GEPColumn.projectionLoss,
      GEPColumn.iterations, GEPColumn.converged, GEPColumn.hasTruth, GEPColumn.cosineView1, GEPColumn.cosineView2
    ],
    vectors: [GEPColumn.uHat, GEPColumn.vStar, GEPColumn.rhoHistory, GEPColumn.cosineHistory])

  /// Files written before a column existed: η·λ1 follows from η and λ1 (absolute steps only
  /// then); every other missing column takes its declared value.
  public func upgrade(_ record: inout JobRecord, columns: Set<String>) {
    if !columns.contains("eta_lambda1") { record.etaLambda1 = record.eta * record.lambda1 }
  }
}

/// A GEP job's columns and vectors by name, through `GEPColumn`.
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

  public var problem: String { get { self[GEPColumn.problem] } set { self[GEPColumn.problem] = newValue } }
  public var generator: String { get { self[GEPColumn.generator] } set { self[GEPColumn.generator] = newValue } }
  public var generatorChecksum: String {
    get { self[GEPColumn.generatorChecksum] } set { self[GEPColumn.generatorChecksum] = newValue }
  }
  public var algorithm: String { get { self[GEPColumn.algorithm] } set { self[GEPColumn.algorithm] = newValue } }
  public var projection: String { get { self[GEPColumn.projection] } set { self[GEPColumn.projection] = newValue } }
  public var m: Int { get { self[GEPColumn.m] } set { self[GEPColumn.m] = newValue } }
  /// η for PRFM and Rifle; NaN where the method has none (PPower).
  public var eta: Double { get { self[GEPColumn.eta] } set { self[GEPColumn.eta] = newValue } }
  /// η·λ1 of the instance (the configured value for an `eta_lambda1` step); NaN for PPower
  /// and where λ1 is unknown.
  public var etaLambda1: Double { get { self[GEPColumn.etaLambda1] } set { self[GEPColumn.etaLambda1] = newValue } }
  public var seed: Int { get { self[GEPColumn.seed] } set { self[GEPColumn.seed] = newValue } }
  /// What signal `signal` is (`mnist-test[3127]`, `generator[2]`).
  public var signalID: String { get { self[GEPColumn.signalID] } set { self[GEPColumn.signalID] = newValue } }
  public var cosine: Double { get { self[GEPColumn.cosine] } set { self[GEPColumn.cosine] = newValue } }
  /// ‖û − v*‖ with û's sign aligned to v*.
  public var distance: Double { get { self[GEPColumn.distance] } set { self[GEPColumn.distance] = newValue } }
  public var finalRho: Double { get { self[GEPColumn.finalRho] } set { self[GEPColumn.finalRho] = newValue } }
  public var lambda1: Double { get { self[GEPColumn.lambda1] } set { self[GEPColumn.lambda1] = newValue } }
  public var lambda2: Double { get { self[GEPColumn.lambda2] } set { self[GEPColumn.lambda2] = newValue } }
  public var projectionLoss: Double { get { self[GEPColumn.projectionLoss] } set { self[GEPColumn.projectionLoss] = newValue } }
  public var iterations: Int { get { self[GEPColumn.iterations] } set { self[GEPColumn.iterations] = newValue } }
  public var converged: Bool { get { self[GEPColumn.converged] } set { self[GEPColumn.converged] = newValue } }
  /// False when there is no v* to compare with (user data without a truth vector): `cosine`
  /// and `distance` are then NaN by design, the cosine history and `signalVector` empty.
  public var hasTruth: Bool { get { self[GEPColumn.hasTruth] } set { self[GEPColumn.hasTruth] = newValue } }
  /// GCCA (docs/mathematics.md §9): |⟨a*, â⟩|, |⟨b*, b̂⟩| of the normalised halves of û; empty for other
  /// problems (stored as NaN in `cosine_view1`, `cosine_view2`).
  public var viewCosines: [Double] {
    get {
      let (a, b) = (self[GEPColumn.cosineView1], self[GEPColumn.cosineView2])
      return a.isNaN && b.isNaN && !problem.hasPrefix("gcca") ? [] : [a, b]
    }
    set {
      self[GEPColumn.cosineView1] = newValue.count == 2 ? newValue[0] : .nan
      self[GEPColumn.cosineView2] = newValue.count == 2 ? newValue[1] : .nan
    }
  }
  /// û.
  public var estimate: [Double] { get { self[GEPColumn.uHat] } set { self[GEPColumn.uHat] = newValue } }
  public var signalVector: [Double] { get { self[GEPColumn.vStar] } set { self[GEPColumn.vStar] = newValue } }
  public var rhoHistory: [Double] { get { self[GEPColumn.rhoHistory] } set { self[GEPColumn.rhoHistory] = newValue } }
  public var cosineHistory: [Double] { get { self[GEPColumn.cosineHistory] } set { self[GEPColumn.cosineHistory] = newValue } }
}
