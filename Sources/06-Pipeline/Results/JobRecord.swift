
/// What one finished (or failed) job leaves behind: one row of `/runs` and one group
/// `/jobs/<key>` of a results file, for any experiment kind.
///
/// The generic part — where the job sits in the plan and its batch, how it ended — is typed
/// here; what a kind measures is held in `values` (its `/runs` columns) and `vectors` (its
/// `/jobs/<key>/` datasets), and read and written through the kind's typed columns, each
/// declared once (`record[GEPColumn.cosine]`, `record[InversionColumn.zHat]`; `Column.swift`).
/// Generic code (the writer, reader, `verify`, summaries) goes by the schema's declarations.
public struct JobRecord: Sendable, Equatable {
  public enum Status: String, Sendable { case ok, failed }

  public var key: String
  public var groupKey: String
  /// The batch the job actually ran in: 16 hex digits of SHA-256 over its members' keys
  /// (`JobSpec.batchKey`). A row's last bits depend on the rows it shared GEMMs with, so
  /// `verify` re-runs exactly this batch; it is the plan's whole group except after a resume
  /// that added jobs to a group (more trials), whose new jobs run as their own batch.
  /// "" in files written before it was recorded (the batch was then the plan's group).
  public var batchKey: String = ""
  /// Position in the plan: the row order of `/runs`, also across shards.
  public var planIndex: Int
  public var signal: Int
  public var trial: Int
  /// The swept values that made this job, by config path (`algorithm.eta` → `0.1`).
  public var sweepValues: [String: String]
  /// The job's identity, batch and fully expanded settings as JSON (attribute `params`).
  public var parametersJSON: String
  public var status: Status
  public var error: String
  /// Seconds of the job's batch divided by the batch's size (jobs in a batch run in lock-step).
  public var wallTime: Double
  public var batchSize: Int
  /// The kind's columns, by name.
  public internal(set) var values: [String: ColumnValue]
  /// The kind's vectors (`/jobs/<key>/<name>`), by name; empty when read without vectors.
  public internal(set) var vectors: [String: [Double]]

  /// A job's generic part; the kind then writes its columns through its typed `Column`s.
  public init(
    key: String, groupKey: String, batchKey: String = "", planIndex: Int, signal: Int, trial: Int,
    sweepValues: [String: String], parametersJSON: String, status: Status, error: String = "", wallTime: Double,
    batchSize: Int
  ) {
    self.init(
      key: key, groupKey: groupKey, batchKey: batchKey, planIndex: planIndex, signal: signal, trial: trial, sweepValues: sweepValues,
      parametersJSON: parametersJSON, status: status, error: error, wallTime: wallTime, batchSize: batchSize, values: [:], vectors: [:])
  }

  /// A record as the reader rebuilds it, every declared column by name.
  init(
    key: String, groupKey: String, batchKey: String, planIndex: Int, signal: Int, trial: Int,
    sweepValues: [String: String], parametersJSON: String, status: Status, error: String, wallTime: Double,
    batchSize: Int, values: [String: ColumnValue], vectors: [String: [Double]]
  ) {
    self.key = key
    self.groupKey = groupKey
    self.batchKey = batchKey
    self.planIndex = planIndex
    self.signal = signal
    self.trial = trial
    self.sweepValues = sweepValues
    self.parametersJSON = parametersJSON
    self.status = status
    self.error = error
    self.wallTime = wallTime
    self.batchSize = batchSize
    self.values = values
    self.vectors = vectors
  }

  public static func == (a: JobRecord, b: JobRecord) -> Bool {
    a.key == b.key && a.groupKey == b.groupKey && a.batchKey == b.batchKey && a.planIndex == b.planIndex
      && a.signal == b.signal && a.trial == b.trial && a.sweepValues == b.sweepValues
      && a.parametersJSON == b.parametersJSON && a.status == b.status && a.error == b.error
      && a.wallTime.bitPattern == b.wallTime.bitPattern && a.batchSize == b.batchSize && a.values == b.values
      && a.vectors.mapValues { $0.map(\.bitPattern) } == b.vectors.mapValues { $0.map(\.bitPattern) }
  }

  /// The value of column `name`: a generic column or one of the kind's.
  public func value(of name: String) -> ColumnValue? {
    switch name {
    case "job_key": return .text(key)
    case "group_key": return .text(groupKey)
    case "batch_key": return .text(batchKey)
    case "plan_index": return .integer(planIndex)
    case "signal": return .integer(signal)
    case "trial": return .integer(trial)
    case "status": return .text(status.rawValue)
    case "error": return .text(error)
    case "wall_time": return .real(wallTime)
    case "batch_size": return .integer(batchSize)
    default:
      if name.hasPrefix("sweep.") { return sweepValues[String(name.dropFirst(6))].map(ColumnValue.text) ?? .text("") }
      return values[name]
    }
  }
}

/// Where a results file came from: enough to rerun it (docs/mathematics.md §8).
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
  /// The experiment kind (`experiment:` of the config; `gep` for files that predate kinds).
  public var experiment: String = "gep"
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
