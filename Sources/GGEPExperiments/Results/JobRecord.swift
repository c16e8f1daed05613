import GGEPCore
import GGEPModels
import GGEPNumerics
/// What one finished (or failed) job leaves behind: one row of `/runs` and one group
/// `/jobs/<key>` of a results file.
public struct JobRecord: Sendable, Equatable {
  public enum Status: String, Sendable { case ok, failed }

  // Identity and parameters
  public var key: String
  public var groupKey: String
  /// Position in the plan: the row order of `/runs`, also across shards.
  public var planIndex: Int
  public var problem: String
  public var generator: String
  public var algorithm: String
  public var projection: String
  public var m: Int
  /// η for PRFM and Rifle; NaN where the method has none (PPower).
  public var eta: Double
  /// η·λ1 of the instance (the configured value for an `eta_lambda1` step); NaN for PPower
  /// and where λ1 is unknown.
  public var etaLambda1: Double
  public var seed: Int
  public var signal: Int
  /// What signal `signal` is (`mnist-test[3127]`, `generator[2]`).
  public var signalID: String
  public var trial: Int
  /// The swept values that made this job, by config path (`algorithm.eta` → `0.1`).
  public var sweepValues: [String: String]
  /// The job's fully expanded parameters as JSON (attribute `params` of its group).
  public var parametersJSON: String

  // Outcome
  public var status: Status
  public var error: String
  public var cosine: Double
  /// ‖û − v*‖ with û's sign aligned to v*.
  public var distance: Double
  public var finalRho: Double
  public var lambda1: Double
  public var lambda2: Double
  public var projectionLoss: Double
  public var iterations: Int
  public var converged: Bool
  /// Seconds of the job's batch divided by the batch's size (jobs in a batch run in lock-step).
  public var wallTime: Double
  public var batchSize: Int

  // Vectors
  public var estimate: [Double]
  public var signalVector: [Double]
  public var rhoHistory: [Double]
  public var cosineHistory: [Double]
  /// False when there is no v* to compare with (user data without a truth vector): `cosine`
  /// and `distance` are then NaN by design, the cosine history and `signalVector` empty.
  public var hasTruth: Bool
  /// GCCA (SPEC 9): |⟨a*, â⟩|, |⟨b*, b̂⟩| of the normalised halves of û; empty for other
  /// problems (written as NaN in `cosine_view1`, `cosine_view2`).
  public var viewCosines: [Double] = []
  /// The full SHA-256 of a trained generator's weights (`generator` shows its first 8 hex
  /// digits); "" for generators made from a seed. Factors of a product, comma-separated.
  public var generatorChecksum: String = ""
  /// The batch the job actually ran in: 16 hex digits of SHA-256 over its members' keys
  /// (`JobSpec.batchKey`). A row's last bits depend on the rows it shared GEMMs with, so
  /// `verify` re-runs exactly this batch; it is the plan's whole group except after a resume
  /// that added jobs to a group (more trials), whose new jobs run as their own batch.
  /// "" in files written before it was recorded (the batch was then the plan's group).
  public var batchKey: String = ""

  public init(
    key: String, groupKey: String, planIndex: Int, problem: String, generator: String, algorithm: String, projection: String, m: Int,
    eta: Double, etaLambda1: Double = .nan, seed: Int, signal: Int, signalID: String = "", trial: Int, sweepValues: [String: String], parametersJSON: String,
    status: Status, error: String = "", cosine: Double, distance: Double, finalRho: Double, lambda1: Double,
    lambda2: Double, projectionLoss: Double, iterations: Int, converged: Bool, wallTime: Double, batchSize: Int,
    estimate: [Double], signalVector: [Double], rhoHistory: [Double], cosineHistory: [Double], hasTruth: Bool = true,
    viewCosines: [Double] = []
  ) {
    self.hasTruth = hasTruth
    self.viewCosines = viewCosines
    self.key = key
    self.groupKey = groupKey
    self.planIndex = planIndex
    self.problem = problem
    self.generator = generator
    self.algorithm = algorithm
    self.projection = projection
    self.m = m
    self.eta = eta
    self.etaLambda1 = etaLambda1
    self.seed = seed
    self.signal = signal
    self.signalID = signalID
    self.trial = trial
    self.sweepValues = sweepValues
    self.parametersJSON = parametersJSON
    self.status = status
    self.error = error
    self.cosine = cosine
    self.distance = distance
    self.finalRho = finalRho
    self.lambda1 = lambda1
    self.lambda2 = lambda2
    self.projectionLoss = projectionLoss
    self.iterations = iterations
    self.converged = converged
    self.wallTime = wallTime
    self.batchSize = batchSize
    self.estimate = estimate
    self.signalVector = signalVector
    self.rhoHistory = rhoHistory
    self.cosineHistory = cosineHistory
  }
}

/// Where a results file came from: enough to rerun it (SPEC 8).
public struct RunProvenance: Sendable, Equatable {
  public var name: String
  public var configFile: String
  /// The config file's own text, as written.
  public var configText: String
  /// The resolved config (includes merged, overrides applied) as YAML.
  public var resolvedConfig: String
  /// SHA-256 of the resolved config: a results file belongs to exactly one.
  public var configHash: String
  public var overrides: [String]
  public var ggepVersion: String
  public var created: String
  public var blasThreads: Int
  /// Config paths of the sweep axes, in order (default grouping of `summarize`).
  public var sweepAxes: [String]
  /// The `/runs` columns the file holds (read back; empty when writing): files written before
  /// a column existed lack it, and `verify` compares only what a file stores.
  public var columns: Set<String> = []
  /// Jobs in the whole plan (all shards).
  public var plannedJobs: Int
  /// "i/N" for one shard of a plan, "" for a whole run or a merged file.
  public var shard: String
  /// OpenBLAS's kernel family (`openblas_get_corename()`) and the CPU model of the machine that
  /// wrote the file ("" in files written before they were recorded): last bits are promised
  /// only where these match.
  public var blasCore: String = ""
  public var cpuModel: String = ""

  public init(
    name: String, configFile: String, configText: String, resolvedConfig: String, configHash: String, overrides: [String],
    ggepVersion: String, created: String, blasThreads: Int, sweepAxes: [String], plannedJobs: Int, shard: String = ""
  ) {
    self.shard = shard
    self.name = name
    self.configFile = configFile
    self.configText = configText
    self.resolvedConfig = resolvedConfig
    self.configHash = configHash
    self.overrides = overrides
    self.ggepVersion = ggepVersion
    self.created = created
    self.blasThreads = blasThreads
    self.sweepAxes = sweepAxes
    self.plannedJobs = plannedJobs
  }
}
