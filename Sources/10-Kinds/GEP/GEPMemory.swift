import GGEPPrior
import GGEPPipeline
import GGEPComponents

/// A GEP batch's peak memory (`KindSpec.memoryEstimate`). The terms, in bytes (8 per Double, 4 per Float), for a batch of J jobs:
///
///     sampled pair      J · 2·m·n·8          Â and B̂ as m × n sample matrices (Eq. 24, 25, GFDA, GCCA)
///                       + m·n·8              the next instance's draws while it is built
///     population pair   J · 2·n²·8           dense A and B
///     projection        J·R · (Σ widths)·4·3 activations and two gradient buffers (R restarts)
///                       + J·R · (k·4·4 + n·4) + J·n·8·2   Adam state, ∂L/∂G, targets
///     results           J · (2n + 2(T+1))·8  û, v*, the ρ and cosine histories
///
/// plus 64 MiB for the process itself. It errs high (the draws of an instance may be released
/// before the next is made), never low by more than the process's small allocations.
extension ExperimentSpec {
  /// The estimate for one batch of `jobs` jobs of this spec.
  public func memoryEstimate(jobs: Int) -> MemoryEstimate {
    let spec = self
    let J = Double(jobs)
    let n = Double(spec.generator.n)
    let m = Double(spec.m)
    let T = Double(spec.algorithm.iterations)
    var terms: [(bytes: Double, key: String, value: String, what: String)] = []
    if spec.problem.userData != nil {
      // The file's matrices are loaded (once) when the plan is made: already in memory.
    } else if spec.problem.population {
      terms.append((J * 2 * n * n * 8, "generator.n", String(spec.generator.n), "dense population A and B: 2 × \(spec.generator.n)² doubles per job"))
    } else {
      terms.append((
        J * 2 * m * n * 8 + m * n * 8, "m", String(spec.m),
        "the samples of Â and B̂: 2 × \(spec.m) × \(spec.generator.n) doubles per job"
      ))
    }
    if spec.algorithm.solver().usesProjection {
      let R = Double(spec.projection.component.rowsPerTarget)
      let k = Double(spec.generator.k)
      let rows = J * R
      let projection = rows * spec.generator.component.layerWidthSum * 4 * 3 + rows * (k * 16 + n * 4) + J * n * 16
      terms.append((projection, "signal.count", String(spec.signal.count), "the batched projection's buffers"))
    }
    terms.append((J * (2 * n + 2 * (T + 1)) * 8, "signal.count", String(spec.signal.count), "the results"))
    return MemoryEstimate(terms: terms, shared: spec.generator.component.weightBytes, jobs: jobs)
  }
}
