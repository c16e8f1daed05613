import Foundation
import GGEPCore
import GGEPConfig
import GGEPPipeline

/// `ggep submit`: a config's shards as one Slurm job array plus a merge job that runs after the
/// whole array succeeded.
///
/// Task i of the array runs `ggep run CONFIG --shard i/N --out DIR/shards/i-of-N --jobs C` (with
/// the same `--set`s) and the merge job runs `ggep merge DIR/results.h5 DIR/shards/*/results.h5`
/// with `--dependency=afterok:<array>`. Everything here is pure (scripts are strings; which
/// shards still need running is read from the shard folders); `Sbatch` does the submitting.
public struct SlurmSubmission: Sendable {
  /// What goes into the `#SBATCH` lines.
  public struct Settings: Sendable, Equatable {
    public var shards: Int
    public var partition: String?
    public var time: String?
    public var cpusPerTask: Int
    /// Further sbatch options, one per `#SBATCH` line, for both jobs (`--account=x`, `--qos=y`).
    public var extraArguments: [String]

    public init(shards: Int, partition: String? = nil, time: String? = nil, cpusPerTask: Int = 1, extraArguments: [String] = []) {
      self.shards = shards
      self.partition = partition
      self.time = time
      self.cpusPerTask = cpusPerTask
      self.extraArguments = extraArguments
    }
  }

  public let plan: ExperimentPlan
  /// The config path and overrides as given on the command line (the tasks load them again).
  public let configPath: String
  public let overrides: [String]
  public let settings: Settings
  /// `DIR`: shards go to `DIR/shards/i-of-N`, the merged file is `DIR/results.h5`.
  public let outputDirectory: String
  /// Absolute path of the ggep binary the jobs run.
  public let executable: String
  /// The directory the jobs `cd` to (relative paths in the config and `DIR` are relative to it).
  public let workingDirectory: String

  public init(
    plan: ExperimentPlan, configPath: String, overrides: [String], settings: Settings, outputDirectory: String? = nil,
    executable: String, workingDirectory: String
  ) {
    self.plan = plan
    self.configPath = configPath
    self.overrides = overrides
    self.settings = settings
    self.outputDirectory = outputDirectory ?? "results/\(plan.name)"
    self.executable = executable
    self.workingDirectory = workingDirectory
  }

  public var scriptDirectory: String { outputDirectory + "/slurm" }
  public var arrayScriptPath: String { scriptDirectory + "/array.sh" }
  public var mergeScriptPath: String { scriptDirectory + "/merge.sh" }
  public var mergedPath: String { outputDirectory + "/results.h5" }
  public var jobName: String { "ggep-" + plan.name }

  public func shardDirectory(_ index: Int) -> String { outputDirectory + "/shards/\(index)-of-\(settings.shards)" }

  /// The runner a task of the array is (same plan, shard and folder), for its share and its hash.
  public func runner(shard index: Int) -> ExperimentRunner {
    ExperimentRunner(
      plan: plan, options: .init(jobs: settings.cpusPerTask, out: shardDirectory(index), progress: nil, shard: Shard(index: index, count: settings.shards)))
  }

  /// The resubmission rule: shards with a job that is not complete (`ok`) in its folder — missing
  /// or failed — need (re)running; shards whose jobs are all complete are left alone. Throws when
  /// a shard folder holds results of a different config.
  public func incompleteShards() throws -> [Int] {
    try (0..<settings.shards).filter { index in
      let runner = runner(shard: index)
      let done = try RunDirectory(path: runner.outputDirectory).resumableRecords(for: plan, withVectors: false)
      return runner.batches.joined().contains { done[$0.key]?.status != .ok }
    }
  }

  /// Jobs (and batches) of one shard.
  public func share(of index: Int) -> (jobs: Int, batches: Int) {
    let batches = runner(shard: index).batches
    return (batches.reduce(0) { $0 + $1.count }, batches.count)
  }

  /// Slurm's `--array` value for these task ids: runs of consecutive ids as ranges (`0-7`, `1,3`, `0-2,5`).
  public static func arraySpec(_ tasks: [Int]) -> String {
    let sorted = Array(Set(tasks)).sorted()
    var parts: [String] = []
    var start = 0
    while start < sorted.count {
      var end = start
      while end + 1 < sorted.count && sorted[end + 1] == sorted[end] + 1 { end += 1 }
      parts.append(end == start ? "\(sorted[start])" : "\(sorted[start])-\(sorted[end])")
      start = end + 1
    }
    return parts.joined(separator: ",")
  }

  /// Quotes a word for bash (single quotes; a quote inside becomes '\'').
  public static func shellQuote(_ word: String) -> String {
    let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
    if !word.isEmpty && word.unicodeScalars.allSatisfy({ safe.contains($0) }) { return word }
    return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }

  private func header(name: String, output: String) -> [String] {
    var lines = ["#SBATCH --job-name=\(name)"]
    if let partition = settings.partition { lines.append("#SBATCH --partition=\(partition)") }
    if let time = settings.time { lines.append("#SBATCH --time=\(time)") }
    lines.append("#SBATCH --cpus-per-task=\(settings.cpusPerTask)")
    lines.append("#SBATCH --chdir=\(workingDirectory)")
    lines.append("#SBATCH --output=\(output)")
    lines += settings.extraArguments.map { "#SBATCH \($0)" }
    return lines
  }

  private var logDirectory: String { absolute(scriptDirectory + "/logs") }

  private func absolute(_ path: String) -> String {
    path.hasPrefix("/") ? path : (workingDirectory as NSString).appendingPathComponent(path)
  }

  /// The job array's script, listing `tasks` (default: every shard).
  public func arrayScript(tasks: [Int]? = nil) -> String {
    let tasks = tasks ?? Array(0..<settings.shards)
    let n = settings.shards
    var lines = [
      "#!/bin/bash",
      "# Written by `ggep submit` (ggep \(BuildInfo.gitDescribe)): \(plan.name), \(plan.jobs.count) jobs in \(plan.groups.count) batches, \(n) shards.",
      "# Task i runs shard i/\(n) into \(outputDirectory)/shards/i-of-\(n); the merge job (merge.sh) runs after all succeeded.",
    ]
    lines += header(name: jobName, output: logDirectory + "/%x-%A_%a.out")
    lines.append("#SBATCH --array=\(Self.arraySpec(tasks))")
    lines.append("#")
    for index in tasks {
      let share = share(of: index)
      lines.append("# shard \(index)/\(n) -> \(shardDirectory(index)) (\(share.jobs) jobs in \(share.batches) batches)")
    }
    let command =
      [Self.shellQuote(executable), "run", Self.shellQuote(configPath)]
      + overrides.flatMap { ["--set", Self.shellQuote($0)] }
      + ["--shard", "\"$i/\(n)\"", "--out", Self.shellQuote(outputDirectory + "/shards/") + "\"$i\"" + Self.shellQuote("-of-\(n)"),
         "--jobs", "\"${SLURM_CPUS_PER_TASK:-\(settings.cpusPerTask)}\""]
    lines += [
      "set -euo pipefail",
      "cd \(Self.shellQuote(workingDirectory))",
      "export OPENBLAS_NUM_THREADS=1",
      "i=\"${SLURM_ARRAY_TASK_ID:?not a Slurm array task}\"",
      "exec " + command.joined(separator: " "),
    ]
    return lines.joined(separator: "\n") + "\n"
  }

  /// The merge job's script; it is submitted with `--dependency=afterok:<array id>`.
  public func mergeScript() -> String {
    var lines = [
      "#!/bin/bash",
      "# Written by `ggep submit` (ggep \(BuildInfo.gitDescribe)): merges the \(settings.shards) shards of \(plan.name).",
      "# Submitted as: sbatch --parsable --dependency=afterok:<array id> --kill-on-invalid-dep=yes merge.sh",
    ]
    lines += header(name: jobName + "-merge", output: logDirectory + "/%x-%j.out")
    lines += [
      "set -euo pipefail",
      "cd \(Self.shellQuote(workingDirectory))",
      "export OPENBLAS_NUM_THREADS=1",
      "# --force: the shards are the source of DIR/results.h5; an earlier (partial) merge is replaced.",
      "\(Self.shellQuote(executable)) merge --force \(Self.shellQuote(mergedPath)) \(Self.shellQuote(outputDirectory + "/shards/"))*/results.h5",
      "\(Self.shellQuote(executable)) status \(Self.shellQuote(outputDirectory)) || true",
    ]
    return lines.joined(separator: "\n") + "\n"
  }

  /// Writes both scripts (and the log folder) under `DIR/slurm/`.
  public func writeScripts(tasks: [Int]) throws {
    let fm = FileManager.default
    try FileSystem.createDirectory(absolute(scriptDirectory + "/logs"))
    try arrayScript(tasks: tasks).write(toFile: absolute(arrayScriptPath), atomically: true, encoding: .utf8)
    try mergeScript().write(toFile: absolute(mergeScriptPath), atomically: true, encoding: .utf8)
    for path in [arrayScriptPath, mergeScriptPath] {
      try fm.setAttributes([.posixPermissions: 0o755], ofItemAtPath: absolute(path))
    }
  }

  /// The absolute path of the running executable (`/proc/self/exe`, else `argv[0]` resolved).
  public static func currentExecutable() -> String {
    if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"), target.hasPrefix("/") {
      return target
    }
    let argument = CommandLine.arguments.first ?? "ggep"
    if argument.contains("/") {
      let url = URL(fileURLWithPath: argument, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
      return url.standardizedFileURL.resolvingSymlinksInPath().path
    }
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
      let candidate = "\(directory)/\(argument)"
      if FileManager.default.isExecutableFile(atPath: candidate) {
        return URL(fileURLWithPath: candidate).resolvingSymlinksInPath().path
      }
    }
    return argument
  }
}

/// Running `sbatch` (and `squeue`, `scancel`) through Foundation's `Process`.
public enum Slurm {
  public typealias Failure = UserError

  /// The full path of `tool` on PATH, or nil.
  public static func locate(_ tool: String) -> String? {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
      let candidate = "\(directory)/\(tool)"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }

  /// Runs a Slurm tool; returns (status, stdout, stderr).
  public static func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    guard let path = locate(tool) else {
      throw Failure(
        description: "`\(tool)` not found on PATH: run ggep submit on a Slurm login node (perhaps after `module load slurm`), "
          + "or use --dry-run to only write the scripts")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read both pipes before waiting (a full pipe would block the child).
    let errData = ReadBox()
    let group = DispatchGroup()
    DispatchQueue.global().async(group: group) { errData.data = err.fileHandleForReading.readDataToEndOfFile() }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData.data, as: UTF8.self))
  }

  /// `sbatch --parsable ARGS SCRIPT`; returns the job id.
  public static func submit(_ script: String, arguments: [String] = []) throws -> String {
    let result = try run("sbatch", ["--parsable"] + arguments + [script])
    let stderr = result.err.trimmingCharacters(in: .whitespacesAndNewlines)
    guard result.status == 0 else {
      throw Failure(
        description: "sbatch refused \(script) (exit status \(result.status))"
          + (stderr.isEmpty ? "" : ":\n" + stderr.split(separator: "\n").map { "  " + $0 }.joined(separator: "\n")))
    }
    // --parsable prints "id" or "id;cluster".
    let id = result.out.split(whereSeparator: \.isNewline).last.map { String($0.split(separator: ";")[0]) } ?? ""
    guard !id.isEmpty, id.allSatisfy(\.isNumber) else {
      throw Failure(description: "sbatch accepted \(script) but printed no job id (stdout: \(result.out.debugDescription), stderr: \(stderr.debugDescription))")
    }
    return id
  }

  /// Jobs (array tasks included) of these ids still in the queue, as (id, state, reason).
  public static func queued(_ ids: [String]) throws -> [(id: String, state: String, reason: String)] {
    let result = try run("squeue", ["-h", "-j", ids.joined(separator: ","), "-o", "%i %T %r"])
    // squeue fails on ids it no longer knows (purged): then none is queued.
    guard result.status == 0 else { return [] }
    return result.out.split(whereSeparator: \.isNewline).compactMap { line in
      let fields = line.split(separator: " ", maxSplits: 2).map(String.init)
      guard fields.count >= 2 else { return nil }
      return (fields[0], fields[1], fields.count > 2 ? fields[2] : "")
    }
  }

  /// Waits until none of `ids` is pending or running. A job pending on a dependency that can
  /// never be satisfied (a failed or cancelled array task) is cancelled, and reported.
  public static func wait(for ids: [String], poll: Double = 2, log: (String) -> Void) throws {
    let active: Set<String> = ["PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED", "REQUEUED", "RESIZING", "SIGNALING", "STAGE_OUT"]
    while true {
      let jobs = try queued(ids).filter { active.contains($0.state) }
      if jobs.isEmpty { return }
      for job in jobs where job.state == "PENDING" && job.reason.contains("DependencyNeverSatisfied") {
        log("job \(job.id) can never start (an array task failed or was cancelled): cancelling it")
        _ = try? run("scancel", [job.id])
      }
      Thread.sleep(forTimeInterval: poll)
    }
  }
}

private final class ReadBox: @unchecked Sendable {
  // @unchecked: written once by the reader thread before `group.wait()` returns, read after.
  var data = Data()
}
