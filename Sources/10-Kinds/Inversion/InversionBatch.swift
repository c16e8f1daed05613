import Foundation
import GGEPCore
import GGEPPrior
import GGEPNumerics
import GGEPModels
import GGEPPipeline
import GGEPComponents

/// Runs one batch of inversion jobs (docs/mathematics.md §10): jobs of one sweep point, differing in signal and
/// trial.
///
/// Random streams, and why they are keyed as they are:
/// * z* ~ N(0, I_k): keyed by the generator, the seed, the signal and the trial only (`latent`),
///   so every method and every corruption level of a sweep meets the same z* — paired
///   comparisons, as in the papers' figures;
/// * the noise direction ε ~ N(0, I_n) and the random mask: keyed alike (`noise`, `mask`), so
///   a noise sweep scales one ε and a mask sweep hides nested draws of one permutation;
/// * Adam's restarts: keyed by the job (`restarts`).
///
/// x = G(z*) is computed in Double by `InversionNetwork.forward`, so an exact method can reach
/// the 100 dB cap; noise: x + σε with σ = ‖x‖ / (√n · 10^{SNR/20}) or the given σ.
struct InversionBatch {
  let jobs: [JobSpec]

  /// Latent SNR at or above which an inversion counts as a success (docs/mathematics.md §10).
  static let successThresholdDB = 40.0

  /// What a job holds before its method runs.
  struct Prepared {
    var zStar: [Double]
    var clean: [Double]
    /// The corrupted x the method sees (hidden entries keep their value here; `observed` hides them).
    var x: [Double]
    var observed: [Bool]?
  }

  func run() throws -> [JobRecord] {
    guard let spec = jobs.first?.kindSpec as? InversionSpec else { return [] }
    let built = try GeneratorFactory.shared.build(spec.generator)
    guard let layered = built.generator as? FeedForwardGenerator else {
      throw UserError("generator \(built.generator.summary) has no layers to invert")
    }
    let network = InversionNetwork(layered)
    let prepared = jobs.map { Self.prepare(spec: spec, signal: $0.signalIndex, trial: $0.trial, network: network) }
    let batchKey = JobSpec.batchKey(of: jobs)

    var outcomes: [(z: [Double], iterations: Int, seconds: Double)?] = Array(repeating: nil, count: jobs.count)
    // A job whose target is not finite never reaches its method: no method can invert NaN, and
    // LAPACK and CLP answer it with errors that do not say why.
    var failures: [String?] = prepared.map { p in
      p.clean.allSatisfy(\.isFinite)
        ? (p.x.allSatisfy(\.isFinite) ? nil : "the corrupted target x is not finite (check noise.sigma)")
        : "the generator's output G(z*) is not finite (NaN or infinite entries): its weights hold NaN, or its layers overflow Float"
    }
    let runnable = jobs.indices.filter { failures[$0] == nil }

    /// A layer-wise method per job: each job's own time.
    func layerwise(_ inverter: any LatentInverter, _ i: Int) {
      let start = DispatchTime.now()
      do {
        let (z, iterations) = try inverter.invertCounting(prepared[i].x, observed: prepared[i].observed)
        outcomes[i] = (z, iterations, Self.seconds(since: start))
      } catch {
        failures[i] = error.description
      }
    }

    switch spec.method {
    case .oracle:
      for i in runnable { layerwise(OracleInverter(network: network, truth: prepared[i].zStar), i) }
    case .layerwise(let method):
      let inverter = method.inverter(network)
      for i in runnable { layerwise(inverter, i) }
    case .adam(let settings):
      let live = runnable
      let start = DispatchTime.now()
      let results = AdamInverter(generator: built.generator, settings: settings).invert(
        live.map { i in
          AdamInverter.Target(
            x: prepared[i].x, observed: prepared[i].observed, rng: RandomStream(seed: UInt64(spec.seed), key: jobs[i].key, purpose: "restarts"))
        })
      // Adam's rows share GEMMs: each job is charged its share of the batch.
      let share = live.isEmpty ? 0 : Self.seconds(since: start) / Double(live.count)
      for (slot, i) in live.enumerated() { outcomes[i] = (results[slot].z, settings.steps, share) }
    case .hybrid(let method, let settings):
      // Adam with one more start: the layer-wise ẑ. The Adam part is the `adam` job of the same
      // settings, signal and trial — its restarts drawn from that job's stream, batched alike —
      // so it gives that job's bits; the layer-wise start runs as one more restart, and the
      // lower output residual wins. A hybrid can therefore never end worse than Adam alone.
      let inverter = method.inverter(network)
      var starts: [[Double]] = Array(repeating: [], count: jobs.count)
      var startSeconds = [Double](repeating: 0, count: jobs.count)
      var startIterations = [Int](repeating: 0, count: jobs.count)
      for i in runnable {
        layerwise(inverter, i)
        if let outcome = outcomes[i] { (starts[i], startSeconds[i], startIterations[i]) = (outcome.z, outcome.seconds, outcome.iterations) }
        // A layer-wise start that fails leaves Adam's answer: the job still runs.
        failures[i] = nil
        outcomes[i] = nil
      }
      var twin = spec
      twin.method = .adam(settings)
      let live = runnable
      let start = DispatchTime.now()
      let adamPart = AdamInverter(generator: built.generator, settings: settings).invert(
        live.map { i in
          AdamInverter.Target(
            x: prepared[i].x, observed: prepared[i].observed,
            rng: RandomStream(
              seed: UInt64(spec.seed), key: JobSpec.key(for: twin, signalIndex: jobs[i].signalIndex, trial: jobs[i].trial), purpose: "restarts"))
        })
      let seeded = live.filter { !starts[$0].isEmpty }
      var fromStart = settings
      fromStart.restarts = 1
      let startPart = AdamInverter(generator: built.generator, settings: fromStart).invert(
        seeded.map { i in
          AdamInverter.Target(
            x: prepared[i].x, observed: prepared[i].observed, start: starts[i],
            rng: RandomStream(seed: UInt64(spec.seed), key: jobs[i].key, purpose: "restarts"))
        })
      let share = live.isEmpty ? 0 : Self.seconds(since: start) / Double(live.count)
      for (slot, i) in live.enumerated() {
        var z = adamPart[slot].z
        if let s = seeded.firstIndex(of: i) {
          let candidate = startPart[s].z
          let residual = { (z: [Double]) in Self.residual(network.forward(z).last!, prepared[i].x, observed: prepared[i].observed) }
          if residual(candidate) < residual(z) { z = candidate }
        }
        outcomes[i] = (z, startIterations[i] + settings.steps, startSeconds[i] + share)
      }
    }

    return jobs.indices.map { i in
      let job = jobs[i]
      var record = JobRecord(
        key: job.key, groupKey: job.groupKey, batchKey: batchKey, planIndex: job.index, signal: job.signalIndex, trial: job.trial,
        sweepValues: Dictionary(job.sweepLabels.map { ($0.path, $0.value) }, uniquingKeysWith: { _, b in b }),
        parametersJSON: job.parametersJSON(batch: jobs), status: .ok, wallTime: outcomes[i]?.seconds ?? 0, batchSize: jobs.count)
      Self.writeSettingColumns(&record, spec, label: built.generator.summary)
      let p = prepared[i]
      Self.writeTruthColumns(&record, network: network, prepared: p)
      record[InversionColumn.zStar] = p.zStar
      record[InversionColumn.x] = p.observed.map { mask in zip(p.x, mask).map { $1 ? $0 : 0 } } ?? p.x
      guard let outcome = outcomes[i] else {
        record.status = .failed
        record.error = failures[i] ?? "the inversion did not run"
        return record
      }
      let zHat = outcome.z
      guard zHat.allSatisfy(\.isFinite) else {
        record.status = .failed
        record.error = "the recovered latent is not finite"
        return record
      }
      var estimated = record
      let xHat = Self.writeEstimateColumns(&estimated, network: network, prepared: p, zHat: zHat)
      guard xHat.allSatisfy(\.isFinite), estimated[InversionColumn.residual].isFinite else {
        record.status = .failed
        record.error = "the recovered output G(ẑ) is not finite (the method's ẑ overflows the generator)"
        return record
      }
      record = estimated
      record[InversionColumn.iterations] = outcome.iterations
      record[InversionColumn.zHat] = zHat
      record[InversionColumn.xHat] = xHat
      return record
    }
  }

  /// The columns a job has from its truth alone: how many entries were observed, and the
  /// uniqueness prediction of Aberdam et al.'s Corollary 1 (every layer's active count at least doubles).
  static func writeTruthColumns(_ record: inout JobRecord, network: InversionNetwork, prepared p: Prepared) {
    let uniqueness = Self.uniqueness(network: network, zStar: p.zStar, observed: p.observed)
    record[InversionColumn.observed] = p.observed?.filter { $0 }.count ?? p.x.count
    record[InversionColumn.uniqueness] = uniqueness.joined(separator: ",")
    record[InversionColumn.uniquePredicted] = uniqueness.allSatisfy { $0 != "no" }
  }

  /// The columns that follow from ẑ (every SNR, success, the residual) and G(ẑ): written by the
  /// run, and recomputed from the stored z* and ẑ by `verify` for every row, sampled or not.
  /// Returns G(ẑ).
  static func writeEstimateColumns(_ record: inout JobRecord, network: InversionNetwork, prepared p: Prepared, zHat: [Double]) -> [Double] {
    let truth = network.forward(p.zStar), estimate = network.forward(zHat)
    let snrLatent = signalToNoiseDB(p.zStar, zHat)
    record[InversionColumn.snrLatentDB] = snrLatent
    for (l, column) in zip(1..., InversionColumn.snrLayer) {
      record[column] = l < network.layers.count ? signalToNoiseDB(truth[l - 1], estimate[l - 1]) : .nan
    }
    record[InversionColumn.snrOutputDB] = signalToNoiseDB(p.clean, estimate.last!)
    record[InversionColumn.success] = snrLatent >= Self.successThresholdDB
    record[InversionColumn.residual] = Self.residual(estimate.last!, p.x, observed: p.observed)
    return estimate.last!
  }

  /// z*, the clean output and the corrupted, masked x of a job.
  static func prepare(spec: InversionSpec, signal: Int, trial: Int, network: InversionNetwork) -> Prepared {
    let base = latentKey(spec, signal: signal, trial: trial)
    var latentRNG = RandomStream(seed: UInt64(spec.seed), key: base, purpose: "latent")
    let zStar = latentRNG.normals(network.latentDimension)
    let clean = network.forward(zStar).last!
    var x = clean
    let n = clean.count
    if spec.noiseSNR != nil || spec.noiseSigma != nil {
      var noiseRNG = RandomStream(seed: UInt64(spec.seed), key: base, purpose: "noise")
      let sigma = spec.noiseSigma ?? norm(clean) / (Double(n).squareRoot() * pow(10, spec.noiseSNR! / 20))
      let epsilon = noiseRNG.normals(n)
      for j in 0..<n { x[j] += sigma * epsilon[j] }
    }
    var observed: [Bool]?
    if spec.maskFraction > 0 {
      var maskRNG = RandomStream(seed: UInt64(spec.seed), key: base, purpose: "mask")
      var mask = [Bool](repeating: true, count: n)
      // A permutation's first round(f·n) entries: larger fractions hide supersets.
      for j in maskRNG.sample(n, from: n).prefix(Int((spec.maskFraction * Double(n)).rounded())) { mask[j] = false }
      observed = mask
    }
    if spec.hiddenRows > 0 {
      let side = Int(Double(n).squareRoot().rounded())
      var mask = observed ?? [Bool](repeating: true, count: n)
      for j in 0..<(spec.hiddenRows * side) { mask[j] = false }
      observed = mask
    }
    return Prepared(zStar: zStar, clean: clean, x: x, observed: observed)
  }

  /// The key of a job's latent draw: the generator, the signal and the trial (not the method or
  /// the corruption), so every method and every corruption level meets the same z*.
  static func latentKey(_ spec: InversionSpec, signal: Int, trial: Int) -> String {
    "inversion \(InversionSpec.json(generatorOnly: spec.generator)) signal=\(signal) trial=\(trial)"
  }

  /// docs/mathematics.md §10's uniqueness prediction per layer from the true supports: the first layer unique
  /// when |S₁| ≥ 2k, a deeper ReLU layer when |S_i| ≥ 2|S_{i−1}| (the output counting only its
  /// observed entries), an invertible output "exempt". A layer whose input is not a ReLU output
  /// (dense input) compares with its input's full width.
  static func uniqueness(network: InversionNetwork, zStar: [Double], observed: [Bool]?) -> [String] {
    let outputs = network.forward(zStar)
    let last = network.layers.count - 1
    var inputCount = network.latentDimension
    var verdicts: [String] = []
    for (l, layer) in network.layers.enumerated() {
      let seen: (Int) -> Bool = { j in l < last || (observed?[j] ?? true) }
      let active = outputs[l].indices.filter { seen($0) && (layer.activation != .relu || outputs[l][$0] > 0) }.count
      if l == last && layer.activation.isInvertible {
        verdicts.append("exempt")
      } else {
        verdicts.append(active >= 2 * inputCount ? "yes" : "no")
      }
      inputCount = layer.activation == .relu ? outputs[l].filter { $0 > 0 }.count : outputs[l].count
    }
    return verdicts
  }

  /// ‖M ⊙ (x̂ − x)‖ / ‖M ⊙ x‖.
  static func residual(_ xHat: [Double], _ x: [Double], observed: [Bool]?) -> Double {
    var error = 0.0, signal = 0.0
    for j in x.indices where observed?[j] ?? true {
      error += (xHat[j] - x[j]) * (xHat[j] - x[j])
      signal += x[j] * x[j]
    }
    return signal > 0 ? (error / signal).squareRoot() : error.squareRoot()
  }

  /// The columns a job has from its settings alone (also those of a job that failed).
  static func writeSettingColumns(_ record: inout JobRecord, _ spec: InversionSpec, label: String? = nil) {
    let generatorLabel = label ?? (try? GeneratorFactory.shared.build(spec.generator).generator.summary) ?? spec.generator.kind
    let widths = spec.widths
    record[InversionColumn.method] = spec.method.name
    record[InversionColumn.generator] = generatorLabel
    record[InversionColumn.generatorChecksum] = spec.generator.contentChecksum
    record[InversionColumn.widths] = widths.map(String.init).joined(separator: "-")
    record[InversionColumn.k] = spec.generator.k
    record[InversionColumn.n] = spec.generator.n
    record[InversionColumn.nHidden1] = widths.count > 2 ? widths[1] : 0
    record[InversionColumn.expansion] = pow(Double(widths.last!) / Double(widths[0]), 1 / Double(widths.count - 1))
    record[InversionColumn.seed] = spec.seed
    record[InversionColumn.noiseSNRDB] = spec.noiseSNR ?? .nan
    record[InversionColumn.noiseSigma] = spec.noiseSigma ?? .nan
    record[InversionColumn.maskFraction] = spec.maskFraction
    record[InversionColumn.hiddenRows] = spec.hiddenRows
  }

  static func seconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
  }
}

extension InversionSpec {
  /// The generator's layer widths, latent first (k, n only when it cannot be built).
  var widths: [Int] {
    guard let built = try? GeneratorFactory.shared.build(generator), let layered = built.generator as? FeedForwardGenerator else {
      return [generator.k, generator.n]
    }
    return layered.stack.widths
  }
}
