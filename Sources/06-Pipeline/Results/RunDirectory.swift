import Foundation
import GGEPCore
import GGEPConfig

/// The output folder of one config's runs: `results.h5` plus a journal of finished batches.
///
/// While a run is going, each finished batch is written to `.journal/<batch key>.h5` as a whole
/// small file (built under a temporary name, closed, then renamed), so no finished result ever
/// sits in a file that is still open for writing: a crash or SIGKILL loses at most the batches in
/// flight (docs/results-format.md, "Crash safety"). `consolidate` folds the journal into a new
/// `results.h5`, written the same way, then removes the journal files it folded in.
public struct RunDirectory: Sendable {
  public let path: String
  public init(path: String) { self.path = path }

  public var resultsPath: String { path + "/results.h5" }
  public var journalPath: String { path + "/.journal" }

  public struct ConflictError: UserFacingError {
    public let file: String
    public let found: String
    public let expected: String
    public var description: String {
      "\(file) holds results of a different config (config hash \(found.prefix(12)), this run \(expected.prefix(12))); "
        + "rerun with --fresh to replace them, or choose another --out"
    }
  }

  /// The folder holds jobs of this config that the current plan does not have: a file the
  /// config names (a model, a data file) changed since they ran, so the same YAML now plans
  /// other jobs. Folding both into one results file would mix two models in one table.
  public struct StrayJobs: UserFacingError {
    public let directory: String
    public let count: Int
    /// Checksums of the trained generator in the stored jobs and in the plan, when they differ.
    public let stored: [String]
    public let planned: [String]
    public var description: String {
      var text = "\(directory) holds \(count) job(s) of this config that the current plan does not have: a file the config names "
        + "changed since they ran"
      if stored != planned {
        text += " (the generator's weights: the stored jobs have sha256 \(stored.map { String($0.prefix(12)) + "…" }.joined(separator: ", ")), "
          + "the model file now has \(planned.map { String($0.prefix(12)) + "…" }.joined(separator: ", ")))"
      }
      return text + "; rerun with --fresh to replace them, or choose another --out"
    }
  }

  /// `results.h5` exists but cannot be read (truncated by a full disk, damaged by a copy).
  /// Nothing is touched; the message says how to recover, from the journal where it holds
  /// finished jobs.
  public struct DamagedResults: UserFacingError {
    public let file: String
    public let reason: String
    /// Finished jobs in the journal (kept and reused when the file is moved aside).
    public let journalJobs: Int
    public var description: String {
      let directory = (file as NSString).deletingLastPathComponent
      let aside = "mv \(file) \(file).damaged"
      let journal = journalJobs > 0
        ? "its journal (\(directory)/.journal) holds \(journalJobs) finished job(s), which the next run keeps; the others are recomputed"
        : "its journal holds no finished jobs, so every job is recomputed"
      return "\(file) is damaged and cannot be read (\(reason)); it was left as it is. To recover, move it aside "
        + "(\(aside)) and run again: \(journal). Or run again with --fresh to start over."
    }
  }

  /// Whether a rerun has nothing to do: `results.h5` already holds every one of `keys`
  /// completed and the journal is empty. Reads only, so that a no-op rerun leaves the folder
  /// byte for byte as it was (even a read-only one).
  public func isComplete(plan: ExperimentPlan, keys: [String]) throws -> Bool {
    guard FileSystem.kind(of: resultsPath).exists, journalEntries().isEmpty else { return false }
    let done = try resumableRecords(for: plan, withVectors: false)
    return keys.allSatisfy { done[$0]?.status == .ok }
  }

  /// Creates the folder (and parents), with one-line errors for a file in the way or a
  /// folder that cannot be written.
  public func create() throws {
    try FileSystem.createDirectory(path)
  }

  /// The folder's exclusive lock (see `RunLock`).
  public func lock(command: String) throws -> RunLock {
    try RunLock.acquire(directory: path, command: command)
  }

  /// Removes earlier results (`--fresh`). Only called after the plan validated, with the lock held.
  public func clear() throws {
    try FileSystem.remove(resultsPath)
    try FileSystem.remove(journalPath)
  }

  /// Durably records one finished batch, as `.journal/<batch key>.h5`: named by its members,
  /// so that a batch of a group's new jobs never replaces an earlier batch of that group.
  public func appendBatch(_ records: [JobRecord], batchKey: String, provenance: RunProvenance) throws {
    try FileSystem.createDirectory(journalPath)
    try ResultsFile.write(records, provenance: provenance, to: journalPath + "/\(batchKey).h5")
  }

  /// Writes `results.h5` from everything done so far, in plan order, then deletes the journal
  /// files folded in. Returns the records.
  @discardableResult
  public func consolidate(plan: ExperimentPlan, provenance: RunProvenance) throws -> [JobRecord] {
    let journalFiles = journalEntries()
    let done = try resumableRecords(for: plan)
    let ordered = done.values.sorted { ($0.planIndex, $0.key) < ($1.planIndex, $1.key) }
    try FileSystem.createDirectory(path)
    try ResultsFile.write(ordered, provenance: provenance, to: resultsPath)
    for file in journalFiles { try? FileManager.default.removeItem(atPath: file) }
    removeStaleTemporaries()
    rmdir(journalPath)  // only succeeds when empty
    return ordered
  }

  /// Finished jobs in the journal (0 where a journal file cannot be read).
  package func journalJobCount() -> Int {
    journalEntries().reduce(0) { count, file in count + ((try? ResultsFile.read(file, withVectors: false).records.count) ?? 0) }
  }

  /// Temporary files left by a process killed in the middle of an atomic write.
  private func removeStaleTemporaries() {
    for directory in [path, journalPath] {
      for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.contains(".h5.tmp-") {
        try? FileManager.default.removeItem(atPath: directory + "/" + name)
      }
    }
  }

  package func existingFiles() -> [String] {
    (FileManager.default.fileExists(atPath: resultsPath) ? [resultsPath] : []) + journalEntries()
  }

  package func journalEntries() -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: journalPath)) ?? []
    // Temporary files of an interrupted write are not entries.
    return names.filter { $0.hasSuffix(".h5") }.sorted().map { journalPath + "/" + $0 }
  }
}
