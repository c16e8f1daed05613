import ArgumentParser
import Foundation
import GGEP

/// `ggep`: a thin command line over the GGEP library.
struct GGEPCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ggep",
    abstract: "Generalized eigenvalue experiments with generative priors (PRFM, PPower, Rifle).",
    version: BuildInfo.gitDescribe,
    subcommands: [Plan.self, Run.self, Merge.self, Summarize.self, Report.self, Index.self, Verify.self, Inspect.self, Bench.self, TrainVAE.self, Submit.self, Status.self])
}

/// Shared by `plan` and `run`: the config file and its overrides.
struct ConfigOptions: ParsableArguments {
  @Argument(help: "The experiment's YAML config.")
  var config: String

  @Option(name: .customLong("set"), help: ArgumentHelp("Override a config value: key.path=value (YAML syntax; repeatable).", valueName: "key=value"))
  var overrides: [String] = []

  func loadPlan() throws -> ExperimentPlan {
    do {
      return try ExperimentPlan.load(path: config, overrides: overrides)
    } catch {
      throw CLIError(error.description)
    }
  }
}

/// An error already worded for the user: printed as `error: …`, exit status 1.
struct CLIError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

GGEPCommand.main()
