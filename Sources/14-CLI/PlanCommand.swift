import ArgumentParser
import Foundation
import GGEPConfig
import GGEPPipeline
import GGEPKindGEP

struct Plan: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print the jobs a config expands to, without running anything.")

  @OptionGroup var config: ConfigOptions
  @OptionGroup var memory: MemoryOptions

  @Flag(help: "Only the counts and the sweep axes, not one line per job.")
  var brief = false

  func run() throws {
    let plan = try config.loadPlan()
    let axes = ExperimentRunner.sweepAxes(plan)
    let first = plan.points[0].kindSpec
    print("\(plan.name): \(plan.jobs.count) jobs in \(plan.groups.count) batches (experiment \(plan.kind.name), from \(config.config))")
    print("  sweep: \(axes.isEmpty ? "(no sweep)" : axes.joined(separator: " × ")) = \(plan.points.count) points; \(first.signalCount) signal(s) × \(first.trials) trial(s) per point")
    print("  output: results/\(plan.name)/results.h5 (or --out DIR)")
    let budget = memory.budget
    try plan.checkMemory(budget)
    let largest = plan.memoryEstimates().map(\.bytes).max() ?? 0
    print("  memory: about \(MemoryBudget.format(largest)) for the largest batch, within \(budget)")
    if brief { return }
    print("")
    let header = ["job_key", "batch", "job", "signal", "trial", "sweep"]
    var rows: [[String]] = []
    for job in plan.jobs {
      rows.append([
        job.key, String(job.groupKey.prefix(8)), job.kindSpec.progressLabel(sweepLabels: job.sweepLabels), String(job.signalIndex), String(job.trial), job.sweepLabels.map(\.description).joined(separator: " "),
      ])
    }
    let widths = header.indices.map { c in max(header[c].count, rows.map { $0[c].count }.max() ?? 0) }
    func line(_ cells: [String]) -> String {
      zip(cells, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
        .trimmingCharacters(in: .whitespaces)
    }
    print(line(header))
    for row in rows { print(line(row)) }
  }
}
