import GGEPConfig
import GGEPPipeline

/// Weights a process draws for a generator it builds itself (linear, relu-random, relu-mlp).
package enum DrawnWeights {
  /// Bytes per weight at the peak of drawing: the Float weight and the Double draw it is made
  /// from (measured 12 on a 20-20000-625 network).
  package static let bytesPerWeight: Double = 12

  /// Refuses, before anything is allocated, a generator whose weights alone exceed the memory
  /// this machine has free: building it (which the plan does) would end the process. Double
  /// arithmetic: widths of Int64.max give a huge figure, never an overflow.
  package static func checkBuildable(_ bytes: Double, _ table: ConfigTable, key: String, value: String) throws(ConfigError) {
    let budget = MemoryBudget.available()
    let total = bytes + MemoryEstimate.processBase
    guard total <= budget.bytes else {
      throw table.error(
        key, "\(value) makes a generator whose weights need about \(MemoryBudget.format(total)) to draw, more than the \(budget); use smaller widths")
    }
  }

  /// Σ in·out over consecutive widths, in Double.
  package static func count(_ widths: [Int]) -> Double {
    zip(widths, widths.dropFirst()).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
  }
}
