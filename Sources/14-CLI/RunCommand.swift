import ArgumentParser
import Foundation
import GGEPCore
import GGEPNumerics
import GGEPPipeline
import GGEPPlot
import GGEPComponents
import GGEPKindGEP
import GGEPPriors

struct Run: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a config's jobs and write results/<name>/results.h5.",
    discussion: """
      Jobs that differ only in signal and trial run as one batch (one batched projection per \
      iteration). Finished batches are journaled at once, so Ctrl-C or a crash loses at most the \
      batches in flight; rerunning the same config skips completed jobs.
      """)

  @OptionGroup var config: ConfigOptions
  @OptionGroup var memory: MemoryOptions

  // `.unconditional`: `--jobs -1` is a bad value, not a missing one followed by a flag.
  @Option(parsing: .unconditional, help: "Batches to run at once (each with one BLAS thread). Default: the number of cores.")
  var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

  @Option(help: "Output folder. Default: results/<name>.")
  var out: String?

  @Flag(help: "Discard earlier results in the output folder and start over.")
  var fresh = false

  @Option(help: ArgumentHelp("Run only shard i of N (0 ≤ i < N) into its own folder (default results/<name>/shards/i-of-N); combine with `ggep merge`.", valueName: "i/N"))
  var shard: String?

  func validate() throws {
    guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
    if let shard { _ = try Shard(parsing: shard) }
  }

  func run() throws {
    let plan = try config.loadPlan()
    var options = ExperimentRunner.Options(jobs: jobs, out: out, fresh: fresh, shard: try shard.map { try Shard(parsing: $0) })
    options.command = (["ggep"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
    // Memory first: a batch too large for the machine is refused before anything is written.
    let budget = memory.budget
    let batches = ExperimentRunner(plan: plan, options: options).batches
    try plan.checkMemory(budget, batches: batches)
    let workers = plan.workersWithin(budget, requested: jobs, batches: batches)
    // Fewer batches than workers is not a memory limit: say so only when memory is what limits.
    if workers < min(jobs, batches.count) {
      print("note: running \(workers) batch(es) at once instead of \(jobs), so that they fit in \(budget)")
      options.jobs = workers
    }
    let summary: ExperimentRunner.Summary
    summary = try ExperimentRunner(plan: plan, options: options).run()
    if summary.upToDate { return }
    var line = String(format: "%@%@: %d jobs run, %d skipped, %d failed in %.1fs -> %@", plan.name, shard.map { " shard \($0)" } ?? "", summary.ranJobs, summary.skippedJobs,
                      summary.failedJobs, summary.seconds, summary.resultsPath)
    if summary.interrupted { line += " (interrupted: rerun to finish)" }
    print(line)
    if !summary.failures.isEmpty {
      FileHandle.standardError.write(Data((FailureReport.text(summary.failures, of: summary.plannedJobs) + "\n").utf8))
    }
    if let signal = summary.signal { throw ExitCode(128 + signal) }
    if summary.interrupted { throw ExitCode(130) }
    if !summary.failures.isEmpty { throw ExitCode(ExitStatus.jobsFailed) }
  }
}
