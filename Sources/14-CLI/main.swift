import ArgumentParser
import Foundation
import GGEPCore
import GGEPNumerics
import GGEPModels
import GGEPConfig
import GGEPPipeline
import GGEPComponents
import GGEPBuiltIns

/// `ggep`: a thin command line over the GGEP library.
struct GGEPCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ggep",
    abstract: "Generalized eigenvalue experiments with generative priors (PRFM, PPower, Rifle).",
    version: BuildInfo.gitDescribe,
    subcommands: [Plan.self, Run.self, Merge.self, Summarize.self, Report.self, Index.self, Verify.self, Inspect.self, Bench.self, TrainVAE.self, TrainGenerator.self, ModelReportCommand.self, ConvertModel.self, CheckGenerator.self, Submit.self, Status.self, ConfigReferenceCommand.self])
}

/// Shared by `plan` and `run`: the config file and its overrides.
struct ConfigOptions: ParsableArguments {
  @Argument(help: "The experiment's YAML config.")
  var config: String

  @Option(name: .customLong("set"), help: ArgumentHelp("Override a config value: key.path=value (YAML syntax; repeatable).", valueName: "key=value"))
  var overrides: [String] = []

  /// The plan, its warnings shown on stderr.
  func loadPlan() throws -> ExperimentPlan {
    let plan = try ExperimentPlan.load(path: config, overrides: overrides)
    for warning in plan.warnings { FileHandle.standardError.write(Data((warning + "\n").utf8)) }
    return plan
  }
}

/// `--max-memory`, shared by `plan` and `run`.
struct MemoryOptions: ParsableArguments {
  @Option(
    name: .customLong("max-memory"),
    help: ArgumentHelp("Refuse a batch estimated to need more, and run fewer batches at once so that they fit (e.g. 8G, 512M). Default: the memory available.", valueName: "size"))
  var maxMemory: String?

  func validate() throws {
    if let maxMemory, MemoryBudget.parse(maxMemory) == nil {
      throw ValidationError("--max-memory: expected a size such as 8G, 512M or 1073741824, got \(maxMemory.debugDescription)")
    }
  }

  var budget: MemoryBudget {
    guard let maxMemory, let bytes = MemoryBudget.parse(maxMemory) else { return .available() }
    return MemoryBudget(bytes: bytes, source: "--max-memory \(maxMemory)")
  }
}

/// A message of the command line itself (`UserError`), printed as `Error: …`, exit status 1.
typealias CLIError = UserError

/// Exit statuses (docs/cli.md, "Exit status"): 0 success; 1 an error (config, file, data, a verify
/// mismatch); 3 the run finished but some jobs failed; 64 a command-line usage error
/// (swift-argument-parser's); 128 + the signal when stopped by SIGINT (130) or SIGTERM (143).
enum ExitStatus {
  static let jobsFailed: Int32 = 3
}

// Errors reach the user as they were written (`UserFacingError`): commands do not wrap them.
// Foundation's own errors (a file system's) become one line naming the path; everything of
// swift-argument-parser (usage errors, exit codes) passes through with its exit status.
BuiltIns.register()
do {
  var command = try GGEPCommand.parseAsRoot()
  try command.run()
} catch {
  if !(error is UserFacingError), "\(error)".contains("Error Domain=") {
    GGEPCommand.exit(withError: UserError(FileSystem.describe(error)))
  }
  GGEPCommand.exit(withError: error)
}
