import ArgumentParser
import Foundation
import GGEPCore
import GGEPPipeline
import GGEPPlot
import GGEPComponents
import GGEPKindGEP
import GGEPPriors

struct Summarize: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Mean ± std of the cosine similarity (and time per job), grouped by the swept parameters.")

  enum Format: String, ExpressibleByArgument, CaseIterable { case md, csv }

  @Argument(help: "A results file written by `ggep run`.")
  var results: String

  @Option(help: ArgumentHelp(
    "Comma-separated columns to group by: "
      + ExperimentKinds.all.map { "(\($0.name)) " + ($0.summary.columns + SummaryTable.genericColumns).joined(separator: ", ") }.joined(separator: "; ")
      + ", or a swept config path (algorithm.eta). Default: the kind's labels (gep: problem, algorithm), every swept setting, and m.",
    valueName: "columns"))
  var by: String?

  @Option(help: "Output format: md or csv.")
  var format: Format = .md

  func run() throws {
    let (provenance, records) = try ResultsFile.read(results, withVectors: false)
    let columns = by.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
      ?? SummaryTable.defaultGrouping(provenance: provenance, records: records)
    let table = try SummaryTable(records: records, groupBy: columns, spec: ResultsFile.kind(provenance).summary)
    print(format == .md ? table.markdown() : table.csv(), terminator: "")
  }
}

struct Inspect: ParsableCommand {
  static let configuration = CommandConfiguration(abstract: "Say what a results file holds, in a few lines.")

  @Argument(help: "A results file written by `ggep run`.")
  var results: String

  func run() throws {
    print(try Inspection.describe(results), terminator: "")
  }
}

struct Merge: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Combine the results files of one config's shards (ggep run --shard i/N) into one.",
    discussion: """
      Refuses files written by different configs. The output is written atomically, rows in plan order. \
      An existing OUTPUT is only replaced with --force, unless it is itself one of the inputs (then none of its jobs is lost).
      """)

  @Argument(help: "The merged file to write.")
  var output: String

  @Argument(help: "Results files to merge (shards of one config).")
  var shards: [String]

  @Flag(help: "Replace an existing OUTPUT that is not among the inputs.")
  var force = false

  func validate() throws {
    guard !shards.isEmpty else { throw ValidationError("give at least one shard file to merge") }
  }

  func run() throws {
    let outcome = try ResultsMerger.merge(shards, into: output, force: force)
    let missing = outcome.planned - outcome.jobs
    print("merged \(shards.count) file(s): \(outcome.jobs) of \(outcome.planned) planned jobs (\(outcome.failed) failed)"
      + (missing > 0 ? ", \(missing) missing" : "") + " -> \(output)")
    if let replaced = outcome.replaced {
      print("replaced the earlier \(output) (--force): it held \(replaced.jobs) job(s)"
        + (replaced.dropped > 0 ? ", \(replaced.dropped) of them not in the merge and now gone" : ", all of them in the merge"))
    }
  }
}

struct Report: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write the figures and tables of a results file: figure2.{svg,png}, figure1.png, summary.{md,csv}, table.md.",
    discussion: """
      Given several results files, writes one figure2.{svg,png} with all their panels side by side       (e.g. Eq. 24 and Eq. 25, as in the paper) and one table.md, into --out.
      """)

  @Argument(help: "Results files written by `ggep run`.")
  var results: [String]

  @Option(help: "Folder to write into. Default: the (first) results file's folder.")
  var out: String?

  @Option(parsing: .unconditional, help: "The m of the Figure 1 image grid (nearest available).")
  var gridM: Int = 300

  @Option(help: "The problem (label, e.g. 'eq24-spike(gamma=5)') of the Figure 1 image grid. Default: the file's first.")
  var gridProblem: String?

  @Option(help: "Title of a combined figure (default: the kind's own; GEP: 'Mean cosine similarity against m').")
  var title = ""

  @Flag(help: """
    Show each method at its best step size (the swept eta or eta_lambda1), chosen by 2-fold cross-validation over \
    signals; also writes steps.md with every step.
    """)
  var bestStep = false

  func validate() throws {
    guard !results.isEmpty else { throw ValidationError("give at least one results file") }
  }

  func run() throws {
    let directory = out ?? (results[0] as NSString).deletingLastPathComponent
    let target = directory.isEmpty ? "." : directory
    // The kind of the files decides what a report is (GEP: Figure 2, Figure 1, tables).
    let kinds = try results.map { ResultsFile.kind(try ResultsFile.read($0, withVectors: false, withParameters: false).provenance) }
    guard Set(kinds.map(\.name)).count == 1 else {
      throw CLIError("report: the files are of different experiment kinds (\(kinds.map(\.name).joined(separator: ", "))); report each kind on its own")
    }
    let options = ReportOptions(title: title, kindOptions: [GEPReportOptions(gridM: gridM, gridProblem: gridProblem, bestStep: bestStep)])
    let files = results.count == 1
      ? try kinds[0].report(results[0], to: target, options: options)
      : try kinds[0].report(combining: results, to: target, options: options)
    for file in files { print(file) }
  }
}

struct Index: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Write DIR/README.md: which config, version and model produced each result folder in DIR.")

  @Argument(help: "A folder of result folders (e.g. results/paper).")
  var directory: String

  func run() throws {
    let text = try ResultsIndex.markdown(directory: directory)
    let path = (directory as NSString).appendingPathComponent("README.md")
    try FigureFile.write(text, to: path)
    print(path)
  }
}

struct Verify: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Re-run finished jobs from a results file's own provenance and compare every stored value bit for bit.",
    discussion: """
      Compares each /runs column (but wall_time) and each job vector, and checks every row against its job's own data. \
      Exits 1 on a mismatch, naming the job, the column and the likely cause (code version, model, BLAS threads or core).
      """)

  @Argument(help: "A results file written by `ggep run`.")
  var results: String

  @Option(parsing: .unconditional, help: "Check a seeded random sample of K completed jobs instead of all.")
  var sample: Int?

  @Option(help: "Seed of the sample.")
  var seed: UInt64 = 0

  func validate() throws {
    if let sample, sample < 1 { throw ValidationError("--sample must be at least 1, got \(sample)") }
  }

  func run() throws {
    let report: ResultsVerifier.Report
    report = try ResultsVerifier.verify(results, sample: sample, seed: seed)
    if report.passed {
      print("verified \(report.checked.count) job(s) of \(results): every stored value (each /runs column but wall_time, "
        + "and each job's \(report.vectorNames.joined(separator: ", "))) identical bit for bit; every /runs row agrees with its job")
      return
    }
    // A job can differ in several values, and be caught both by its re-run and by its row check:
    // count jobs, not findings.
    let jobs = Set(report.mismatches.map(\.key)).count
    var lines = ["\(results): \(jobs) job(s) differ (\(report.checked.count) re-run, every row checked); \(report.mismatches.count) finding(s):"]
    lines += report.mismatches.prefix(20).map { "  \($0)" }
    if report.mismatches.count > 20 { lines.append("  … and \(report.mismatches.count - 20) more") }
    lines.append(report.causes.isEmpty
      ? "likely cause: the stored results were altered (code version, model and BLAS threads match)"
      : "likely cause: " + report.causes.joined(separator: "; "))
    throw CLIError(lines.joined(separator: "\n"))
  }
}
