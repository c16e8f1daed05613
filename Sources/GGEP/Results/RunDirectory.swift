import Foundation

/// The output folder of one config's runs: `results.h5` plus a journal of finished batches.
///
/// While a run is going, each finished batch is written to `.journal/<group key>.h5` as a whole
/// small file (built under a temporary name, closed, then renamed), so no finished result ever
/// sits in a file that is still open for writing: a crash or SIGKILL loses at most the batches in
/// flight (TOOLCHAIN, "HDF5 and crashes"). `consolidate` folds the journal into a new
/// `results.h5`, written the same way, then removes the journal files it folded in.
public struct RunDirectory: Sendable {
  public let path: String
  public init(path: String) { self.path = path }

  public var resultsPath: String { path + "/results.h5" }
  public var journalPath: String { path + "/.journal" }

  public struct ConflictError: Error, CustomStringConvertible {
    public let file: String
    public let found: String
    public let expected: String
    public var description: String {
      "\(file) holds results of a different config (config hash \(found.prefix(12)), this run \(expected.prefix(12))); "
        + "rerun with --fresh to replace them, or choose another --out"
    }
  }

  /// Jobs already done for this config (results file, then journal; later wins), checking that
  /// every file belongs to the same resolved config.
  public func completedRecords(configHash: String) throws -> [String: JobRecord] {
    var records: [String: JobRecord] = [:]
    for file in existingFiles() {
      let (provenance, found) = try ResultsFile.read(file)
      guard provenance.configHash == configHash else {
        throw ConflictError(file: file, found: provenance.configHash, expected: configHash)
      }
      for record in found { records[record.key] = record }
    }
    return records
  }

  /// Removes earlier results (`--fresh`). Only called after the plan validated.
  public func clear() throws {
    let fm = FileManager.default
    if fm.fileExists(atPath: resultsPath) { try fm.removeItem(atPath: resultsPath) }
    if fm.fileExists(atPath: journalPath) { try fm.removeItem(atPath: journalPath) }
  }

  /// Durably records one finished batch.
  public func appendBatch(_ records: [JobRecord], groupKey: String, provenance: RunProvenance) throws {
    try FileManager.default.createDirectory(atPath: journalPath, withIntermediateDirectories: true)
    try ResultsFile.write(records, provenance: provenance, to: journalPath + "/\(groupKey).h5")
  }

  /// Writes `results.h5` from everything done so far, in plan order, then deletes the journal
  /// files folded in. Returns the records.
  @discardableResult
  public func consolidate(provenance: RunProvenance) throws -> [JobRecord] {
    let journalFiles = journalEntries()
    let done = try completedRecords(configHash: provenance.configHash)
    let ordered = done.values.sorted { ($0.planIndex, $0.key) < ($1.planIndex, $1.key) }
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    try ResultsFile.write(ordered, provenance: provenance, to: resultsPath)
    for file in journalFiles { try? FileManager.default.removeItem(atPath: file) }
    removeStaleTemporaries()
    try? FileManager.default.removeItem(atPath: journalPath)  // only succeeds when empty
    return ordered
  }

  /// Temporary files left by a process killed in the middle of an atomic write.
  private func removeStaleTemporaries() {
    for directory in [path, journalPath] {
      for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.contains(".h5.tmp-") {
        try? FileManager.default.removeItem(atPath: directory + "/" + name)
      }
    }
  }

  private func existingFiles() -> [String] {
    (FileManager.default.fileExists(atPath: resultsPath) ? [resultsPath] : []) + journalEntries()
  }

  private func journalEntries() -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: journalPath)) ?? []
    // Temporary files of an interrupted write are not entries.
    return names.filter { $0.hasSuffix(".h5") }.sorted().map { journalPath + "/" + $0 }
  }
}
