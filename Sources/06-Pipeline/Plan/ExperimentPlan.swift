import Foundation
import GGEPCore
import GGEPConfig
/// One unit of work: a sweep point's spec, one signal, one trial.
public struct JobSpec: Sendable {
  /// 16 hex characters of SHA-256 over the spec's identity, the signal index and the trial:
  /// stable across runs and machines, used for result files and random-stream derivation.
  public var key: String
  /// 16 hex characters of SHA-256 over the spec's identity alone. Jobs that share it differ
  /// only in signal and trial, and run as one batch.
  public var groupKey: String
  /// The point's decoded settings (the kind's own type: `ExperimentSpec` for GEP, whose code
  /// reads it as `job.spec`).
  public var kindSpec: any KindSpec
  public var signalIndex: Int
  public var trial: Int
  /// Position of the job's sweep point in expansion order.
  public var pointIndex: Int
  /// Position of the job in the plan (the row order of `/runs`).
  public var index: Int
  public var sweepLabels: [SweepLabel]

  public init(
    key: String, groupKey: String, spec: any KindSpec, signalIndex: Int, trial: Int, pointIndex: Int, index: Int = 0,
    sweepLabels: [SweepLabel]
  ) {
    self.index = index
    self.key = key
    self.groupKey = groupKey
    self.kindSpec = spec
    self.signalIndex = signalIndex
    self.trial = trial
    self.pointIndex = pointIndex
    self.sweepLabels = sweepLabels
  }

  /// The key of job (signal, trial) of a spec.
  public static func key(for spec: any KindSpec, signalIndex: Int, trial: Int) -> String {
    digest16(spec.identityJSON + "\nsignal=\(signalIndex)\ntrial=\(trial)")
  }

  /// The key of a batch: SHA-256 over its members' job keys, in plan order.
  public static func batchKey(of jobs: [JobSpec]) -> String {
    digest16(jobs.map(\.key).joined(separator: "\n"))
  }

  /// The job's `params` attribute: its identity, sweep values, batch members and the point's
  /// canonical settings, as JSON (every kind writes the same shape; resume reads `spec`).
  public func parametersJSON(batch: [JobSpec]) -> String {
    let labels = sweepLabels.map { "\"\($0.path)\":\(Self.jsonString($0.value))" }.joined(separator: ",")
    let members = batch.map { "\"\($0.key)\"" }.joined(separator: ",")
    return "{\"job_key\":\"\(key)\",\"group_key\":\"\(groupKey)\",\"signal\":\(signalIndex),\"trial\":\(trial),\"sweep\":{\(labels)},\"batch\":[\(members)],\"spec\":\(kindSpec.canonicalJSON)}"
  }

  /// `text` as a JSON string literal (quoted and escaped).
  package static func jsonString(_ text: String) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: [text])) ?? Data("[\"\"]".utf8)
    let array = String(decoding: data, as: UTF8.self)
    return String(array.dropFirst().dropLast())
  }

  public static func groupKey(for spec: any KindSpec) -> String {
    digest16(spec.identityJSON)
  }

  private static func digest16(_ text: String) -> String {
    String(SHA256.hexDigest(text.utf8).prefix(16))
  }
}

/// Everything an experiment will run, validated up front: `ggep plan` prints it and `ggep run`
/// executes it, and both fail on a bad config before any output is written.
public struct ExperimentPlan: Sendable {
  /// A validated sweep point.
  public struct Point: Sendable {
    public var index: Int
    public var kindSpec: any KindSpec
    public var groupKey: String
    public var sweepLabels: [SweepLabel]
    /// The point's own config tree (sweep applied), for recording next to its results.
    public var config: ConfigNode
  }

  public let document: ConfigDocument
  /// The kind of experiment (`experiment:`), the same for every point.
  public let kind: any ExperimentKind
  /// The experiment's name (results go to `results/<name>/`), the same for every point.
  public let name: String
  public let points: [Point]
  /// Sweep points in order × signal index × trial, trial varying fastest.
  public let jobs: [JobSpec]
  /// What reading the config had to say that is not an error; the command shows it.
  public let warnings: [String]

  /// The most jobs one plan may hold (the committed configs have at most 7 680).
  public static let maximumJobs = 1_000_000

  /// Loads `path`, applies `overrides`, expands the sweep and validates every point.
  public static func load(path: String, overrides: [String] = []) throws(ConfigError) -> ExperimentPlan {
    try ExperimentPlan(document: try ConfigDocument.load(path: path, overrides: overrides))
  }

  public init(document: ConfigDocument) throws(ConfigError) {
    self.document = document
    let kind = try ExperimentKinds.of(document.root)
    self.kind = kind
    let sweepPoints = try SweepExpander.expand(document.root)
    let swept = try SweepReplacement.axes(of: document.root)
    if let swept {
      try SweepReplacement.checkOverrides(document.overrides, axes: swept.axes)
    }
    let sweepMark = document.root.entries?.first(where: { $0.key == "sweep" })?.keyMark ?? document.root.mark
    let sweepPath = ConfigPath.root.appending("sweep")

    let notes = ConfigWarnings()
    var points: [Point] = []
    var pointByGroup: [String: Int] = [:]
    for sweepPoint in sweepPoints {
      let spec: any KindSpec
      do throws(ConfigError) {
        if try ExperimentKinds.of(sweepPoint.root).name != kind.name {
          throw ConfigError(at: sweepMark, path: sweepPath, "experiment must be the same for every sweep point (one kind per config)")
        }
        // Two phases: decode reads the tree (pure); validate checks what needs the point's
        // files or built objects (a generator's layers against the method that inverts them).
        spec = try notes.collecting { () throws(ConfigError) in try kind.decode(point: sweepPoint.root, defaultName: document.stem) }
        try kind.validate(spec, point: sweepPoint.root)
      } catch {
        // The same bad value can be fine in one point and wrong in another (`s` vs swept `n`).
        var located = error
        if !sweepPoint.labels.isEmpty {
          located.context = "sweep point \(sweepPoint.index + 1) of \(sweepPoints.count): \(sweepPoint.labelText)"
        }
        throw located
      }
      if let first = points.first, first.kindSpec.name != spec.name {
        throw ConfigError(
          at: sweepMark, path: sweepPath,
          "name must be the same for every sweep point (one results directory), got \(first.kindSpec.name) and \(spec.name)")
      }
      let groupKey = JobSpec.groupKey(for: spec)
      if let previous = pointByGroup[groupKey] {
        let earlier = sweepPoints[previous]
        throw ConfigError(
          at: sweepMark, path: sweepPath,
          "sweep points \(previous + 1) (\(earlier.labelText)) and \(sweepPoint.index + 1) (\(sweepPoint.labelText)) "
            + "are the same experiment (job group \(groupKey)); remove the repeated value")
      }
      pointByGroup[groupKey] = sweepPoint.index
      points.append(
        Point(index: sweepPoint.index, kindSpec: spec, groupKey: groupKey, sweepLabels: sweepPoint.labels, config: sweepPoint.root))
    }

    // Values written in the base that the sweep replaces at every point are never run, but a
    // typo there is still a typo: decode the base (swept paths it leaves out filled from the
    // first point) so that they are checked like every other value.
    if let swept, let base = SweepReplacement.checkedBase(swept.base, axes: swept.axes) {
      do throws(ConfigError) {
        let spec = try notes.collecting { () throws(ConfigError) in try kind.decode(point: base.tree, defaultName: document.stem) }
        try kind.validate(spec, point: base.tree)
      } catch {
        var located = error
        let named = base.kept.filter { located.keyPath == $0 || located.keyPath.hasPrefix($0 + ".") || located.keyPath.hasPrefix($0 + "[") }
        located.context = "a base value that \((named.isEmpty ? base.kept : named).map { "sweep.\($0)" }.joined(separator: ", ")) replaces at every point; it is checked all the same, since it is written: fix it or remove it"
        throw located
      }
    }

    try Self.checkFilesDidNotChange(points, mark: sweepMark)

    // Signals and trials are counts a config writes: a typo of 10⁹ would allocate a billion
    // jobs before anything could be said, so the total is checked first (without overflow).
    let perPoint = points.map { CheckedSize.product([$0.kindSpec.signalCount, $0.kindSpec.trials]) }
    let total = perPoint.contains(where: { $0 == nil }) ? nil : CheckedSize.sum(perPoint.map { $0! })
    guard let total, total <= Self.maximumJobs else {
      let first = points[0].kindSpec
      throw ConfigError(
        file: document.path, keyPath: "",
        message: "the plan has \(total.map(String.init) ?? "more than 2⁶³") jobs (\(points.count) point(s) × \(first.signalCount) signal(s) × \(first.trials) trial(s)), "
          + "more than \(Self.maximumJobs); lower the number of signals or trials, or split the experiment")
    }

    var jobs: [JobSpec] = []
    jobs.reserveCapacity(total)
    for point in points {
      for signalIndex in 0..<point.kindSpec.signalCount {
        for trial in 0..<point.kindSpec.trials {
          jobs.append(
            JobSpec(
              key: JobSpec.key(for: point.kindSpec, signalIndex: signalIndex, trial: trial), groupKey: point.groupKey,
              spec: point.kindSpec, signalIndex: signalIndex, trial: trial, pointIndex: point.index, index: jobs.count,
              sweepLabels: point.sweepLabels))
        }
      }
    }
    self.name = points[0].kindSpec.name
    self.points = points
    self.jobs = jobs
    self.warnings = notes.all
  }

  /// Every sweep point reads the files it names (a model, a data file) and puts their checksum
  /// in its spec; a file replaced while the plan is made (a retraining that finishes, a copy)
  /// would give some points the old checksum and some the new one: one run over two models.
  /// So a file must have one checksum across the plan.
  package static func checkFilesDidNotChange(_ points: [Point], mark: SourceMark) throws(ConfigError) {
    var seen: [String: (checksum: String, point: Int)] = [:]
    for point in points {
      for (file, checksum) in point.kindSpec.namedFiles {
        if let earlier = seen[file], earlier.checksum != checksum {
          throw ConfigError(
            file: mark.file, keyPath: "",
            message: "\(file) changed while the plan was made (sha256 \(earlier.checksum.prefix(12))… for sweep point "
              + "\(earlier.point + 1), \(checksum.prefix(12))… for point \(point.index + 1)); plan again once it is no longer being written")
        }
        if seen[file] == nil { seen[file] = (checksum, point.index) }
      }
    }
  }

  /// Jobs grouped by `groupKey`, in plan order: each group is one batch.
  public var groups: [[JobSpec]] {
    var order: [String] = []
    var byKey: [String: [JobSpec]] = [:]
    for job in jobs {
      if byKey[job.groupKey] == nil { order.append(job.groupKey) }
      byKey[job.groupKey, default: []].append(job)
    }
    return order.map { byKey[$0]! }
  }
}
