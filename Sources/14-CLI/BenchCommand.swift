import ArgumentParser
import Foundation
import GGEPCore
import GGEPNumerics
import GGEPPipeline
import GGEPComponents
import GGEPKindGEP
import GGEPBench

struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure sgemm, the batched projection, a PRFM job, each inversion method and each projector on this machine (build with -c release).")

  @Flag(help: "Fewer repetitions (a smoke run, not a measurement).")
  var quick = false

  @Option(
    name: .customLong("only"), parsing: .upToNextOption,
    help: ArgumentHelp("Run only these parts.", valueName: Benchmark.Section.allCases.map(\.rawValue).joined(separator: "|")))
  var only: [Benchmark.Section] = []

  func run() throws {
    #if DEBUG
    print("warning: this is a debug build; time a release build (swift build -c release) for real figures")
    #endif
    print("ggep \(BuildInfo.gitDescribe) bench, BLAS threads 1, \(ProcessInfo.processInfo.activeProcessorCount) cores")
    try Benchmark.run(quick: quick, sections: only.isEmpty ? Set(Benchmark.Section.allCases) : Set(only)) { line in
      let rate = line.gflops.map { String(format: "%7.1f GFLOP/s", $0) } ?? String(repeating: " ", count: 15)
      let name = line.name.padding(toLength: 64, withPad: " ", startingAt: 0)
      print(name + String(format: "%9.4f s  ", line.seconds) + rate + "  " + line.note)
    }
  }
}

extension Benchmark.Section: ExpressibleByArgument {}
