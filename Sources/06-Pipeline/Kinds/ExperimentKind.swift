import Foundation
import Synchronization
import GGEPConfig

/// One sweep point of a kind, decoded and validated: everything its jobs need, and what the
/// generic machinery asks of it.
public protocol KindSpec: Sendable {
  /// The experiment's name (results go to `results/<name>/`).
  var name: String { get }
  /// Independent draws per signal.
  var trials: Int { get }
  /// Signals per point: a point has `signalCount × trials` jobs.
  var signalCount: Int { get }
  /// What identifies the point's jobs, as canonical JSON: job keys are hashes of it (with the
  /// signal and trial), so it must only change when the jobs' numbers would.
  var identityJSON: String { get }
  /// Everything the jobs run with, as canonical JSON (a job's `params.spec`; compared on
  /// resume, so a changed default under an unchanged key is caught).
  var canonicalJSON: String { get }
  /// Files the point reads, with their content checksums (models, data): a file must have one
  /// checksum across a plan.
  var namedFiles: [(path: String, checksum: String)] { get }
  /// The peak memory of a batch of `jobs` of its jobs.
  func memoryEstimate(jobs: Int) -> MemoryEstimate
  /// A batch's line in the progress log (`eq24 PRFM η=0.05 m=300`).
  func progressLabel(sweepLabels: [SweepLabel]) -> String
}

/// An experiment kind: what a config with `experiment: <name>` means, how a batch of its jobs
/// runs, and what each job records (its `ResultSchema`, declared once).
///
/// Plan, run folders, journal and resume, shards, merge, results files, summaries, reports,
/// verify and Slurm submission work through this protocol and never name a kind. A new kind
/// is new files under `Kinds/<Name>/` plus one line in `ExperimentKinds.all`.
public protocol ExperimentKind: Sendable {
  /// The value of the config's root key `experiment:` (`gep`, the default).
  var name: String { get }
  /// The `/runs` columns beyond the generic ones, and the `/jobs/<key>/` vectors.
  var schema: ResultSchema { get }
  /// Fills what a file written before a column existed lacks (`columns`: those it has).
  func upgrade(_ record: inout JobRecord, columns: Set<String>)
  /// Decodes one expanded sweep point (the config tree, sweep applied): reads and checks its
  /// values, defaults filled in, without building a generator or printing (warnings go to
  /// `ConfigWarnings`).
  func decode(point root: ConfigNode, defaultName: String) throws(ConfigError) -> any KindSpec
  /// The plan's second phase for a decoded point: checks that need built objects (a generator's
  /// layers against the method that inverts them), each error placed in `root`.
  func validate(_ spec: any KindSpec, point root: ConfigNode) throws(ConfigError)
  /// Runs one batch (jobs of one point that differ only in signal and trial), in lock-step.
  func run(batch: [JobSpec]) throws -> [JobRecord]
  /// The record of a job whose batch could not start (`reason`), for the results file.
  func failedRecord(_ job: JobSpec, batch: [JobSpec], reason: String) -> JobRecord
  /// `ggep report`: the kind's figures and tables for one results file, into `directory`;
  /// returns the files written.
  func report(_ path: String, to directory: String, options: ReportOptions) throws -> [String]
  /// `ggep report` of several files: one figure and one table over all of them.
  func report(combining paths: [String], to directory: String, options: ReportOptions) throws -> [String]
  /// `ggep inspect`: lines about what the jobs hold (GEP: problems, methods, m).
  func describe(_ records: [JobRecord]) -> [String]
  /// What `verify` checks of a completed row against the job's own vectors, without re-running
  /// it (each problem a line naming the column).
  func rowProblems(_ record: JobRecord) -> [String]
  /// The checksums of the files a stored job read (a trained model's weights), to say why a
  /// folder's jobs no longer match a plan.
  func fileChecksums(_ record: JobRecord) -> [String]
  /// How `summarize` and `summary.md` group and average its results.
  var summary: SummarySpec { get }
  /// The columns whose distinct values `ggep index` lists for a results file (GEP: generator,
  /// projection); none by default.
  var indexColumns: [ResultColumn] { get }
  /// Beyond code version, BLAS core and threads: why a re-run may differ from `stored`.
  func likelyCauses(stored: [JobRecord], rerun: [JobRecord]) -> [String]
}

extension ExperimentKind {
  public func upgrade(_ record: inout JobRecord, columns: Set<String>) {}
  public func validate(_ spec: any KindSpec, point root: ConfigNode) throws(ConfigError) {}
  public func likelyCauses(stored: [JobRecord], rerun: [JobRecord]) -> [String] { [] }
  public func rowProblems(_ record: JobRecord) -> [String] { [] }
  public func fileChecksums(_ record: JobRecord) -> [String] { [] }
  public var indexColumns: [ResultColumn] { [] }
}

/// What `ggep report` was asked for: what every kind understands, and each kind's own settings.
public struct ReportOptions: Sendable {
  /// Title of a combined figure ("": the kind's own).
  public var title: String
  /// Settings of kinds' own reports (the GEP kind's `GEPReportOptions`): a kind reads its own
  /// type and ignores the others.
  public var kindOptions: [any Sendable]

  public init(title: String = "", kindOptions: [any Sendable] = []) {
    self.title = title
    self.kindOptions = kindOptions
  }

  /// The settings of type `T`, if given.
  public func kindOptions<T: Sendable>(_ type: T.Type) -> T? {
    kindOptions.lazy.compactMap { $0 as? T }.first
  }
}

/// The registry of kinds. The command line registers the kinds ggep ships with at start-up
/// (the first registered is the default of `experiment:`); a test or a plug-in adds its own.
public enum ExperimentKinds {
  private struct Entry {
    var kind: any ExperimentKind
    var builtIn: Bool
  }
  private static let registry = Mutex<[Entry]>([])

  /// Every kind ggep knows, the default first.
  public static var all: [any ExperimentKind] { registry.withLock { $0.map(\.kind) } }

  /// The default of `experiment:`: the first kind registered.
  public static var defaultKind: any ExperimentKind {
    guard let first = all.first else { preconditionFailure("no experiment kind is registered: call BuiltIns.register() at start-up") }
    return first
  }

  /// Adds a kind (a built-in one at start-up, or a test's or plug-in's); a kind of the same name
  /// is replaced. `builtIn` kinds cannot be removed with `unregister`.
  public static func register(_ kind: any ExperimentKind, builtIn: Bool = false) {
    registry.withLock { entries in
      if let index = entries.firstIndex(where: { $0.kind.name == kind.name }) {
        entries[index] = Entry(kind: kind, builtIn: builtIn || entries[index].builtIn)
      } else {
        entries.append(Entry(kind: kind, builtIn: builtIn))
      }
    }
  }

  /// Removes a kind added with `register` (a built-in kind stays).
  public static func unregister(_ name: String) {
    registry.withLock { entries in entries.removeAll { $0.kind.name == name && !$0.builtIn } }
  }

  /// The kind named `name`, or nil.
  public static func named(_ name: String) -> (any ExperimentKind)? {
    all.first { $0.name == name }
  }

  /// The kind a config names with its root key `experiment:` (default: the first kind).
  package static func of(_ root: ConfigNode) throws(ConfigError) -> any ExperimentKind {
    guard let entry = root.entries?.first(where: { $0.key == "experiment" }) else { return defaultKind }
    let names = all.map(\.name)
    guard let name = entry.value.scalarText, let kind = named(name) else {
      throw ConfigError(
        at: entry.value.mark, path: ConfigPath.root.appending("experiment"),
        "unknown experiment kind \(entry.value.scalarText.map { "\"\($0)\"" } ?? entry.value.description); one of: \(names.joined(separator: ", "))")
    }
    return kind
  }
}
