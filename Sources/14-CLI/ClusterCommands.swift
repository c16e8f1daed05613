import ArgumentParser
import Foundation
import GGEPCluster
import GGEPComponents
import GGEPKindGEP
import GGEPPriors

struct Submit: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Run a config on Slurm: a job array of its shards, then a job that merges them.",
    discussion: """
      Writes DIR/slurm/array.sh (task i: ggep run CONFIG --shard i/N --out DIR/shards/i-of-N) and \
      DIR/slurm/merge.sh (ggep merge DIR/results.h5 DIR/shards/*/results.h5), then submits them with \
      sbatch; the merge job waits for the whole array (afterok). Submitting again resubmits only the \
      shards whose jobs are not all complete. Run it from the directory the jobs should run in \
      (relative paths in the config are relative to it).
      """)

  @OptionGroup var config: ConfigOptions

  @Option(parsing: .unconditional, help: "Number of shards (array tasks).")
  var shards: Int

  @Option(help: "Slurm partition (default: the cluster's default).")
  var partition: String?

  @Option(help: ArgumentHelp("Time limit of each task and of the merge job.", valueName: "HH:MM:SS"))
  var time: String?

  @Option(parsing: .unconditional, help: "CPUs per task; each task runs that many batches at once (ggep run --jobs).")
  var cpusPerTask: Int = 1

  @Option(help: "Output folder. Default: results/<name>.")
  var out: String?

  @Flag(help: "Write and print the scripts; submit nothing.")
  var dryRun = false

  @Flag(help: "Wait until the jobs have finished, then print `ggep status`; exit 1 unless everything completed and merged.")
  var wait = false

  @Option(
    name: .customLong("sbatch-arg"), parsing: .unconditionalSingleValue,
    help: ArgumentHelp("An extra sbatch option for both jobs, e.g. --sbatch-arg=--account=abc (repeatable).", valueName: "ARG"))
  var sbatchArguments: [String] = []

  func validate() throws {
    guard shards >= 1 else { throw ValidationError("--shards must be at least 1, got \(shards)") }
    guard cpusPerTask >= 1 else { throw ValidationError("--cpus-per-task must be at least 1, got \(cpusPerTask)") }
    for (name, value) in [("--partition", partition), ("--time", time)] {
      if let value, value.isEmpty || value.contains(where: \.isWhitespace) {
        throw ValidationError("\(name): expected one word, got \(value.debugDescription)")
      }
    }
    if let bad = sbatchArguments.first(where: { !$0.hasPrefix("-") || $0.contains(where: \.isNewline) }) {
      throw ValidationError("--sbatch-arg: expected an sbatch option such as --account=abc, got \(bad.debugDescription)")
    }
  }

  func run() throws {
    let plan = try config.loadPlan()
    let submission = SlurmSubmission(
      plan: plan, configPath: config.config, overrides: config.overrides,
      settings: .init(shards: shards, partition: partition, time: time, cpusPerTask: cpusPerTask, extraArguments: sbatchArguments),
      outputDirectory: out, executable: SlurmSubmission.currentExecutable(),
      workingDirectory: FileManager.default.currentDirectoryPath)
    try submit(submission)
  }

  private func submit(_ submission: SlurmSubmission) throws {
    let plan = submission.plan
    let tasks = try submission.incompleteShards()
    let complete = (0..<shards).filter { !tasks.contains($0) }
    try submission.writeScripts(tasks: tasks.isEmpty ? Array(0..<shards) : tasks)

    if dryRun {
      print("# ggep submit --dry-run: nothing submitted; \(plan.name): \(plan.jobs.count) jobs, \(shards) shards"
        + (complete.isEmpty ? "" : "; complete already: \(SlurmSubmission.arraySpec(complete))"))
      print("# sbatch --parsable \(submission.arrayScriptPath)")
      print("# sbatch --parsable --dependency=afterok:<array id> --kill-on-invalid-dep=yes \(submission.mergeScriptPath)")
      print("# ---- \(submission.arrayScriptPath)")
      print(submission.arrayScript(tasks: tasks.isEmpty ? nil : tasks), terminator: "")
      print("# ---- \(submission.mergeScriptPath)")
      print(submission.mergeScript(), terminator: "")
      return
    }

    guard Slurm.locate("sbatch") != nil else { _ = try Slurm.run("sbatch", []); return }  // throws the "not found" error
    var ids: [String] = []
    if tasks.isEmpty {
      let status = try? ClusterStatus.read(directory: submission.outputDirectory)
      if let status, status.merged == .current {
        print("\(plan.name): all \(shards) shards complete and \(submission.mergedPath) is current; nothing to submit")
        return
      }
      print("\(plan.name): all \(shards) shards complete; submitting the merge only")
      let merge = try Slurm.submit(submission.mergeScriptPath)
      ids.append(merge)
      print("merge job \(merge) -> \(submission.mergedPath)")
    } else {
      let spec = SlurmSubmission.arraySpec(tasks)
      print(
        "\(plan.name): \(plan.jobs.count) jobs in \(plan.groups.count) batches, \(shards) shards; "
          + (complete.isEmpty ? "submitting all" : "complete: \(SlurmSubmission.arraySpec(complete)); resubmitting")
          + " --array=\(spec)")
      let array = try Slurm.submit(submission.arrayScriptPath)
      ids.append(array)
      print("array job \(array) (--array=\(spec)): \(submission.arrayScriptPath); logs in \(submission.scriptDirectory)/logs/")
      let merge: String
      do {
        merge = try Slurm.submit(submission.mergeScriptPath, arguments: ["--dependency=afterok:\(array)", "--kill-on-invalid-dep=yes"])
      } catch {
        throw CLIError("array job \(array) submitted, but the merge job was not: \(error)\nmerge by hand after the array: sbatch --dependency=afterok:\(array) \(submission.mergeScriptPath)")
      }
      ids.append(merge)
      print("merge job \(merge) (after the array succeeds) -> \(submission.mergedPath)")
    }
    print("progress: ggep status \(submission.outputDirectory); squeue -j \(ids.joined(separator: ","))")

    guard wait else { return }
    try Slurm.wait(for: ids) { print($0) }
    let status = try ClusterStatus.read(directory: submission.outputDirectory)
    print(status.text(), terminator: "")
    if !status.isDone { throw ExitCode(1) }
  }
}

struct Status: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Per shard of a submitted (or sharded) run: jobs complete, failed, missing; and whether DIR/results.h5 is current.")

  @Argument(help: "The output folder of `ggep submit` (holding shards/i-of-N/ and results.h5).")
  var directory: String

  func run() throws {
    print(try ClusterStatus.read(directory: directory).text(), terminator: "")
  }
}
