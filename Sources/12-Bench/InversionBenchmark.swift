import Foundation
import GGEPCore
import GGEPPrior
import GGEPNumerics
import GGEPModels
import GGEPComponents

extension Benchmark {
  /// The inversion methods at the inversion study's sizes (docs/mathematics.md §10: random 20 → n₁ → 625 ReLU
  /// nets, n₁ = 100 in the good regime and 1000 ≫ n₂), median seconds per inversion over 5
  /// draws of z*; and a PRFM job on Eq. (24) with each projector on the 20-100-625 prior.
  static func runInversion(quick: Bool, report: (Line) -> Void) throws {
    let draws = quick ? 2 : 5
    for n1 in [100, 1000] {
      let generator = FeedForwardGenerator.reluMLP(widths: [20, n1, 625], bias: false, activations: [.relu, .relu], seed: 1)
      let network = InversionNetwork(generator)
      var rng = RandomStream(seed: 5, key: "bench inversion")
      let truths = (0..<draws).map { _ in rng.normals(20) }
      let targets = truths.map { network.forward($0).last! }
      let methods: [(String, (Int) throws -> Void)] = [
        ("oracle", { i in _ = try OracleInverter(network: network, truth: truths[i]).invert(targets[i]) }),
        ("lp", { i in _ = try LPInverter(network: network).invert(targets[i]) }),
        ("layered-bp", { i in _ = try LayeredBasisPursuit(network: network).invert(targets[i]) }),
        ("latent-pursuit", { i in _ = try LatentPursuit(network: network).invert(targets[i]) }),
        ("latent-pursuit-debiased", { i in _ = try LatentPursuit(network: network, settings: .init(debias: true)).invert(targets[i]) }),
      ]
      for (name, body) in methods {
        var times: [Double] = []
        for i in 0..<draws {
          times.append(try bestThrowing(of: 1) { try body(i) })
        }
        let median = times.sorted()[times.count / 2]
        report(Line(name: "inversion 20-\(n1)-625, \(name)", seconds: median, gflops: nil, note: "median of \(draws) inversions"))
      }
      // Adam: the inversion kind's default (500 steps, 3 restarts), the draws in one batch.
      let adam = AdamInverter(generator: generator, settings: AdamProjector.Settings(steps: 500, learningRate: 0.05, restarts: 3, lambdaZ: 0))
      let seconds = best(of: quick ? 1 : 2) {
        _ = adam.invert(targets.enumerated().map { AdamInverter.Target(x: $1, rng: RandomStream(seed: UInt64($0), key: "bench")) })
      }
      report(Line(
        name: "inversion 20-\(n1)-625, adam", seconds: seconds / Double(draws), gflops: nil,
        note: "500 steps × 3 restarts, \(draws) targets batched: batch time / \(draws)"))
    }

    // A PRFM job (Eq. 24, m = 300, T = 30, one signal) with each projector on the random prior.
    let generator = FeedForwardGenerator.reluMLP(widths: [20, 100, 625], bias: false, activations: [.relu, .relu], seed: 1)
    let network = InversionNetwork(generator)
    let source = try SignalSource(spec: SignalSpec(source: .generator, count: 1, seed: 3), generator: generator)
    var dataRNG = RandomStream(seed: 4, key: "bench prfm inversion")
    let instance = SpikedCovariancePair(beta: 2).sample(signal: try source.signal(0).unit, m: 300, rng: &dataRNG)
    let projectors: [any Projector] = [
      AdamProjector(generator: generator, steps: 100, restarts: 3),
      LayerwiseProjector(generator: generator, inverter: LatentPursuit(network: network), mode: .cosine),
      LayerwiseProjector(generator: generator, inverter: LPInverter(network: network), mode: .cosine),
      LayerwiseProjector(generator: generator, inverter: LayeredBasisPursuit(network: network), mode: .cosine),
      LayerwiseProjector(
        generator: generator, inverter: LatentPursuit(network: network), mode: .cosine,
        refinement: AdamProjector.Settings(steps: 20, learningRate: 0.01, restarts: 1, lambdaZ: 0.001)),
    ]
    for projector in projectors {
      let seconds = best(of: quick ? 1 : 2) {
        var rng = RandomStream(seed: 0)
        _ = LockstepSolver(solver: PRFM(eta: 0.2), iterations: 30, tolerance: 0).run(
          [instance], initial: [InitialVector.ones.vector(dimension: 625, rng: &rng)], projector: projector,
          slots: [ProjectionSlot(rng: RandomStream(seed: 1))])
      }
      report(Line(
        name: "PRFM job, eq24 m=300 T=30, 20-100-625 prior, P=\(projector.summary.prefix { $0 != "(" })", seconds: seconds, gflops: nil,
        note: projector.summary))
    }
  }
}
