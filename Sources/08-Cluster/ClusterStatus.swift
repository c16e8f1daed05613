import Foundation
import GGEPCore
import GGEPConfig
import GGEPPipeline

/// `ggep status DIR`: per shard of `DIR/shards/i-of-N`, how many of its jobs are complete,
/// failed or missing, and whether `DIR/results.h5` is current.
///
/// The plan comes from the files themselves: every results (and journal) file stores the
/// resolved config, which is parsed back into the same `ExperimentPlan`, so each shard's share
/// is known even for shards that never started.
public struct ClusterStatus: Sendable {
  public struct ShardRow: Sendable, Equatable {
    public var shard: Shard
    public var planned: Int
    public var complete: Int
    public var failed: Int
    public var missing: Int { planned - complete - failed }
    public var isComplete: Bool { complete == planned }
  }

  public enum MergedState: Sendable, Equatable {
    case absent
    /// Written by another config than the shards.
    case otherConfig
    /// Lacks jobs the shards have (or has them failed where a shard has them complete).
    case stale(lacking: Int)
    case current
  }

  public var directory: String
  public var name: String
  public var plannedJobs: Int
  public var rows: [ShardRow]
  public var merged: MergedState
  /// Jobs in the merged file, complete and failed.
  public var mergedJobs: Int
  public var mergedFailed: Int

  /// Everything planned is complete in the shards and the merged file holds it.
  public var isDone: Bool {
    merged == .current && mergedJobs == plannedJobs && mergedFailed == 0
  }

  public typealias StatusError = UserError

  /// Shard folders `DIR/shards/i-of-N`, as (shard, path), by N then i.
  static func shardFolders(in directory: String) -> [(shard: Shard, path: String)] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory + "/shards")) ?? []
    return names.compactMap { name -> (Shard, String)? in
      let parts = name.components(separatedBy: "-of-")
      guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]), n >= 1, (0..<n).contains(i) else { return nil }
      return (Shard(index: i, count: n), directory + "/shards/" + name)
    }.sorted { ($0.0.count, $0.0.index) < ($1.0.count, $1.0.index) }
  }

  /// Any results file of a folder: its results.h5, else a journal entry.
  static func anyResultsFile(in folder: String) -> String? {
    let directory = RunDirectory(path: folder)
    if FileManager.default.fileExists(atPath: directory.resultsPath) { return directory.resultsPath }
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.journalPath)) ?? []
    return names.filter { $0.hasSuffix(".h5") }.sorted().first.map { directory.journalPath + "/" + $0 }
  }

  public static func read(directory: String) throws -> ClusterStatus {
    let folders = shardFolders(in: directory)
    let mergedPath = directory + "/results.h5"
    let mergedExists = FileManager.default.fileExists(atPath: mergedPath)
    let source = folders.lazy.compactMap { anyResultsFile(in: $0.path) }.first ?? (mergedExists ? mergedPath : nil)
    guard let source else {
      throw StatusError(description: "\(directory): no shard results (\(directory)/shards/i-of-N/) and no results.h5 yet")
    }
    let provenance = try ResultsFile.read(source, withVectors: false).provenance
    let plan: ExperimentPlan
    do {
      plan = try ExperimentPlan(document: try ConfigDocument(text: provenance.resolvedConfig, file: provenance.configFile))
    } catch {
      throw StatusError(
        description: "\(directory): cannot rebuild the plan from the config stored in \(source) "
          + "(run ggep status from the directory the jobs ran in): \(error)")
    }

    // Best record per job key over all shard folders (complete wins over failed).
    var best: [String: JobRecord.Status] = [:]
    var perFolder: [String: [String: JobRecord]] = [:]
    for folder in folders {
      let records = try RunDirectory(path: folder.path).resumableRecords(for: plan, withVectors: false)
      perFolder[folder.path] = records
      for (key, record) in records where best[key] != .ok { best[key] = record.status }
    }

    var rows: [ShardRow] = []
    for n in Array(Set(folders.map(\.shard.count))).sorted() {
      for i in 0..<n {
        let shard = Shard(index: i, count: n)
        let jobs = shard.select(plan.groups).joined()
        let records = perFolder[directory + "/shards/\(i)-of-\(n)"] ?? [:]
        let complete = jobs.filter { records[$0.key]?.status == .ok }.count
        let failed = jobs.filter { records[$0.key]?.status == .failed }.count
        rows.append(ShardRow(shard: shard, planned: jobs.count, complete: complete, failed: failed))
      }
    }

    var merged = MergedState.absent
    var mergedJobs = 0
    var mergedFailed = 0
    if mergedExists {
      let (mergedProvenance, records) = try ResultsFile.read(mergedPath, withVectors: false)
      if mergedProvenance.configHash != provenance.configHash {
        merged = .otherConfig
      } else {
        let status = Dictionary(records.map { ($0.key, $0.status) }, uniquingKeysWith: { a, b in a == .ok ? a : b })
        mergedJobs = status.count
        mergedFailed = status.values.filter { $0 == .failed }.count
        let lacking = best.filter { key, shardStatus in
          guard let have = status[key] else { return true }
          return shardStatus == .ok && have != .ok
        }.count
        merged = lacking == 0 ? .current : .stale(lacking: lacking)
      }
    }
    return ClusterStatus(
      directory: directory, name: plan.name, plannedJobs: plan.jobs.count, rows: rows, merged: merged, mergedJobs: mergedJobs,
      mergedFailed: mergedFailed)
  }

  /// The table `ggep status` prints.
  public func text() -> String {
    var lines = ["\(name): \(plannedJobs) jobs planned; \(directory)"]
    if !rows.isEmpty {
      lines.append("shard    jobs  complete  failed  missing")
      for row in rows {
        lines.append(
          "\(row.shard.description.padding(toLength: 7, withPad: " ", startingAt: 0))"
            + String(format: "%6d  %8d  %6d  %7d", row.planned, row.complete, row.failed, row.missing)
            + (row.isComplete ? "" : "  (incomplete)"))
      }
    }
    let path = directory + "/results.h5"
    switch merged {
    case .absent: lines.append("merged: \(path) not written yet")
    case .otherConfig: lines.append("merged: \(path) holds another config's results (not current)")
    case .stale(let lacking):
      lines.append("merged: \(path) is stale: lacks \(lacking) job(s) the shards have; rerun ggep merge")
    case .current:
      let missing = plannedJobs - mergedJobs
      lines.append(
        "merged: \(path) is current: \(mergedJobs) of \(plannedJobs) jobs, \(mergedFailed) failed"
          + (missing > 0 ? ", \(missing) missing" : ""))
    }
    return lines.joined(separator: "\n") + "\n"
  }
}
