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
}

extension ExperimentKind {
  public func upgrade(_ record: inout JobRecord, columns: Set<String>) {}
}

/// The registry of kinds.
public enum ExperimentKinds {
  /// Every kind ggep knows; the first is the default of `experiment:`.
  public static let all: [any ExperimentKind] = [GEPKind()]

  public static var defaultKind: any ExperimentKind { all[0] }

  /// The kind named `name`, or nil.
  public static func named(_ name: String) -> (any ExperimentKind)? {
    all.first { $0.name == name }
  }
}
