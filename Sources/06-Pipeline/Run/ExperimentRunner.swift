import Foundation
import Synchronization
import GGEPCore
import GGEPConfig

/// Runs a plan into its output folder: skips what is already done, fans the remaining batches
/// out over Dispatch workers, journals each finished batch, and folds everything into
/// `results.h5` at the end (also after Ctrl-C).
public struct ExperimentRunner {
  public struct Options: Sendable {
    /// Batches run at once (default: the number of cores).
    public var jobs: Int
    /// Output folder (default `results/<name>`).
    public var out: String?
    /// Discard earlier results of this folder first.
    public var fresh: Bool
    /// Where progress goes; nil silences it.
    public var progress: FileHandle?
    public var interactiveProgress: Bool?
    /// Run only this shard of the plan's batches (into its own folder by default).
    public var shard: Shard?
    /// The command line, recorded in the folder's lock for whoever is refused next.
    public var command: String = "ggep run"

    public init(jobs: Int = ProcessInfo.processInfo.activeProcessorCount, out: String? = nil, fresh: Bool = false,
                progress: FileHandle? = .standardOutput, interactiveProgress: Bool? = nil, shard: Shard? = nil) {
      self.shard = shard
      self.jobs = jobs
      self.out = out
      self.fresh = fresh
      self.progress = progress
      self.interactiveProgress = interactiveProgress
    }
  }

  public struct Summary: Sendable {
    public var resultsPath: String
    public var plannedJobs: Int
    public var skippedJobs: Int
    public var ranJobs: Int
    public var failedJobs: Int
    public var interrupted: Bool
    /// SIGINT or SIGTERM when the run was stopped by one.
    public var signal: Int32?
    public var seconds: Double
    /// This run's jobs that failed (retried by the next run), in plan order.
    public var failures: [JobFailure] = []
    /// Set when the run found nothing to do and wrote nothing.
    public var upToDate: Bool = false
  }

  public let plan: ExperimentPlan
  public let options: Options

  public init(plan: ExperimentPlan, options: Options = Options()) {
    self.plan = plan
    self.options = options
  }

  public var outputDirectory: String {
    if let out = options.out { return out }
    if let shard = options.shard { return "results/\(plan.name)/shards/\(shard.index)-of-\(shard.count)" }
    return "results/\(plan.name)"
  }

  /// The batches this run is responsible for: all, or its shard's.
  public var batches: [[JobSpec]] { options.shard.map { $0.select(plan.groups) } ?? plan.groups }

  public func provenance() -> RunProvenance {
    let resolved = plan.document.resolvedYAML
    var provenance = RunProvenance(
      name: plan.name, configFile: plan.document.path, configText: plan.document.sourceText, resolvedConfig: resolved,
      configHash: plan.document.configHash, overrides: plan.document.overrides,
      ggepVersion: BuildInfo.gitDescribe, created: BuildInfo.timestamp(), blasThreads: 1,
      sweepAxes: Self.sweepAxes(plan), plannedJobs: plan.jobs.count, shard: options.shard?.description ?? "")
    provenance.experiment = plan.kind.name
    provenance.blasCore = MachineInfo.blasCore
    provenance.cpuModel = MachineInfo.cpuModel
    return provenance
  }

  public func run() throws -> Summary {
    let started = Date()
    let directory = RunDirectory(path: outputDirectory)
    let provenance = provenance()
    let mine = batches
    let mineCount = mine.reduce(0) { $0 + $1.count }

    // A rerun with nothing to do takes no lock and writes nothing: results.h5 stays byte for
    // byte as it was, also in a read-only folder.
    if !options.fresh, try directory.isComplete(plan: plan, keys: mine.flatMap { $0.map(\.key) }) {
      options.progress?.write(Data("\(plan.name): all \(mineCount) jobs already complete in \(outputDirectory); nothing to do\n".utf8))
      return Summary(
        resultsPath: directory.resultsPath, plannedJobs: mineCount, skippedJobs: mineCount, ranJobs: 0, failedJobs: 0,
        interrupted: false, signal: nil, seconds: Date().timeIntervalSince(started), upToDate: true)
    }

    // The folder and its lock come before any work, so that a file in the way, a folder that
    // cannot be written, or another run in it stop this one at once.
    try directory.create()
    let lock = try directory.lock(command: options.command)
    defer { lock.release() }
    if let previous = lock.takenOverFrom {
      FileHandle.standardError.write(Data("note: \(outputDirectory): taking over the lock of a run that is no longer running (\(previous))\n".utf8))
    }
    if options.fresh { try directory.clear() }
    // Resume follows the job keys: finished jobs the plan still has are reused (ResumeCheck).
    let done = try directory.resumableRecords(for: plan)

    let pending = Self.pendingBatches(mine, done: done)
    let skipped = mineCount - pending.reduce(0) { $0 + $1.count }
    let reporter = options.progress.map {
      ProgressReporter(totalJobs: pending.reduce(0) { $0 + $1.count }, output: $0, interactive: options.interactiveProgress)
    }
    if let out = options.progress {
      var line = "\(plan.name): \(plan.jobs.count) jobs in \(plan.groups.count) batches"
      if let shard = options.shard { line += "; shard \(shard): \(mineCount) jobs in \(mine.count) batches" }
      if skipped > 0 { line += "; \(skipped) already complete in \(outputDirectory), skipped" }
      line += "; running \(pending.reduce(0) { $0 + $1.count }) on \(min(options.jobs, max(pending.count, 1))) workers\n"
      out.write(Data(line.utf8))
    }

    // One BLAS thread per worker: Dispatch provides the parallelism (docs/reproducibility.md).
    BLASThreads.set(1)
    let scheduler = Scheduler(concurrency: options.jobs)
    let interrupt = InterruptHandler { [scheduler] in scheduler.cancel() }
    let tally = Tally()
    let kind = plan.kind
    scheduler.run(count: pending.count) { index in
      let group = pending[index]
      let records: [JobRecord]
      do {
        records = try kind.run(batch: group)
      } catch {
        records = group.map { kind.failedRecord($0, batch: group, reason: FileSystem.describe(error)) }
      }
      do {
        try directory.appendBatch(records, batchKey: JobSpec.batchKey(of: group), provenance: provenance)
        let failed = records.filter { $0.status == .failed }.count
        let ok = records.filter { $0.status == .ok }
        tally.add(ran: records.count, failed: failed)
        reporter?.batchFinished(
          label: Self.label(group[0]), jobs: records.count, failedJobs: failed, seconds: records.first.map { $0.wallTime * Double($0.batchSize) } ?? 0,
          metric: kind.summary.metricTitle,
          meanMetric: ok.isEmpty ? .nan : ok.map { $0.value(of: kind.summary.metric)?.real ?? .nan }.reduce(0, +) / Double(ok.count))
      } catch {
        tally.fail(with: error)
        scheduler.cancel()
      }
    }
    reporter?.finish()
    let all = try directory.consolidate(plan: plan, provenance: provenance)
    if let error = tally.writeError { throw error }
    let keys = Set(mine.flatMap { $0.map(\.key) })
    let failures = all.filter { $0.status == .failed && keys.contains($0.key) }.map { JobFailure(key: $0.key, reason: $0.error) }
    return Summary(
      resultsPath: directory.resultsPath, plannedJobs: mineCount, skippedJobs: skipped, ranJobs: tally.ran,
      failedJobs: failures.count, interrupted: interrupt.wasInterrupted || scheduler.isCancelled, signal: interrupt.signalReceived,
      seconds: Date().timeIntervalSince(started), failures: failures)
  }

  /// The batches to run: a group with a job not done runs whole — recomputing its finished jobs
  /// to the same bits, since their batch is the same — unless its finished jobs ran in another
  /// batch (the config gained trials or signals since): then only the new jobs run, as a batch
  /// of their own, and the finished ones are kept. A row's last bits depend on the rows it
  /// shares GEMMs with, so rerunning the grown group would change the finished jobs' numbers.
  package static func pendingBatches(_ groups: [[JobSpec]], done: [String: JobRecord]) -> [[JobSpec]] {
    groups.compactMap { group in
      let missing = group.filter { done[$0.key]?.status != .ok }
      guard !missing.isEmpty else { return nil }
      let planned = JobSpec.batchKey(of: group)
      let finishedElsewhere = group.contains { job in
        guard let record = done[job.key], record.status == .ok else { return false }
        return record.batchKey.isEmpty ? record.batchSize != group.count : record.batchKey != planned
      }
      return finishedElsewhere ? missing : group
    }
  }

  /// A batch's line in the progress log (the kind's label of its point).
  package static func label(_ job: JobSpec) -> String { job.kindSpec.progressLabel(sweepLabels: job.sweepLabels) }

  public static func sweepAxes(_ plan: ExperimentPlan) -> [String] {
    var axes: [String] = []
    for label in plan.points.flatMap(\.sweepLabels) where !axes.contains(label.path) { axes.append(label.path) }
    return axes
  }
}

/// Counts shared by the workers.
private final class Tally: Sendable {
  private struct Counts {
    var ran = 0
    var failed = 0
    var writeError: (any Error)?
  }
  private let counts = Mutex(Counts())
  package func add(ran: Int, failed: Int) { counts.withLock { $0.ran += ran; $0.failed += failed } }
  package func fail(with error: any Error) { counts.withLock { if $0.writeError == nil { $0.writeError = error } } }
  package var ran: Int { counts.withLock { $0.ran } }
  package var writeError: (any Error)? { counts.withLock { $0.writeError } }
}

