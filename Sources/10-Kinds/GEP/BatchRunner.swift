import Foundation
import GGEPCore
import GGEPPrior
import GGEPNumerics
import GGEPPipeline
import GGEPComponents

/// Runs one batch: the jobs of a sweep point that differ only in signal and trial, in
/// lock-step, so every projection call carries (signals × trials) targets × restarts rows.
///
/// Random streams, all derived from the sweep seed (docs/mathematics.md §8):
/// * data (samples of Â, B̂; Σ's random diagonal): keyed by the job's *data identity* —
///   problem, m, generator, signal spec, signal index, trial — but not the algorithm or the
///   projection, so every method meets the same draws (a paired comparison);
/// * projection restarts and a random u₀: keyed by the job key.
/// None depends on the batch's other jobs, the thread, or the order of execution.
public struct BatchRunner: Sendable {
  public let factory: GeneratorFactory

  public init(factory: GeneratorFactory = .shared) { self.factory = factory }

  public func run(_ jobs: [JobSpec]) throws -> [JobRecord] {
    precondition(!jobs.isEmpty)
    let spec = jobs[0].spec
    precondition(jobs.allSatisfy { $0.groupKey == jobs[0].groupKey })
    let start = DispatchTime.now()
    let batchKey = JobSpec.batchKey(of: jobs)

    let built = try factory.build(spec.generator)
    // GCCA: the view signals come from the product's first factor (n_view entries).
    let source = try SignalSource(spec: spec.signal, generator: built.factors.first?.generator ?? built.generator)
    var gccaPairs: [GCCAPair?] = []
    var instances: [ProblemInstance] = []
    var initial: [[Double]] = []
    var slots: [ProjectionSlot] = []
    // User data (kind samples): one fixed instance from the file; the truth, if any, is v*.
    let userData = try spec.problem.userData.map { try UserData.forRun($0) }
    for job in jobs {
      var (signal, imageNorm) = userData == nil ? try source.signal(job.signalIndex) : ([], 1)
      gccaPairs.append(nil)
      if let gcca = spec.problem.gcca {
        // a* = the job's signal; b* = a* (views same) or its companion (views pair). The
        // instance's signal is v* ∝ (a*; c·b*).
        let dataKey = Self.dataIdentity(spec, signal: job.signalIndex, trial: job.trial)
        // The companion is drawn from the second factor (`source: generator`: in its range).
        let b = gcca.views == .same ? signal : try SignalSource(spec: spec.signal, generator: built.factors[1].generator).companion(of: job.signalIndex)
        let covariance = try gcca.covariance.covariance(
          ProblemContext(source: source, signalIndex: job.signalIndex, dataKey: dataKey, seed: spec.seed, n: signal.count))
        let pair = GCCAPair(alpha2: gcca.alpha2, covariance: covariance, a: signal, b: b)
        gccaPairs[gccaPairs.count - 1] = pair
        if gcca.population {
          instances.append(pair.population(signal: []))
        } else {
          var rng = RandomStream(seed: UInt64(spec.seed), key: dataKey, purpose: "data")
          instances.append(pair.sample(signal: [], m: spec.m, rng: &rng))
        }
        signal = instances[instances.count - 1].signal
      } else if let userData {
        let n = spec.generator.n
        if let truth = userData.truth {
          imageNorm = norm(truth)
          signal = truth.map { $0 / imageNorm }
        } else {
          // No truth: the cosines computed against 0 are discarded (has_truth = 0).
          signal = [Double](repeating: 0, count: n)
        }
        instances.append(
          ProblemInstance(a: userData.a, b: userData.b, signal: signal, lambda1: .nan, lambda2: .nan))
      } else if spec.problem.population {
        let dataKey = Self.dataIdentity(spec, signal: job.signalIndex, trial: job.trial)
        let pair = try problemPair(spec.problem, source: source, signalIndex: job.signalIndex, dataKey: dataKey, seed: spec.seed, n: signal.count)
        instances.append(pair.population(signal: signal))
      } else {
        let dataKey = Self.dataIdentity(spec, signal: job.signalIndex, trial: job.trial)
        let pair = try problemPair(spec.problem, source: source, signalIndex: job.signalIndex, dataKey: dataKey, seed: spec.seed, n: signal.count)
        var rng = RandomStream(seed: UInt64(spec.seed), key: dataKey, purpose: "data")
        instances.append(pair.sample(signal: signal, m: spec.m, rng: &rng))
      }
      var initRNG = RandomStream(seed: UInt64(spec.seed), key: job.key, purpose: "init")
      let start: InitialVector = spec.algorithm.initialization == .ones ? .ones : .random
      initial.append(start.vector(dimension: signal.count, rng: &initRNG))
      slots.append(ProjectionSlot(rng: RandomStream(seed: UInt64(spec.seed), key: job.key, purpose: "projection"), oracleScale: imageNorm))
    }

    let solver = spec.algorithm.solver(perView: spec.problem.gcca != nil ? spec.generator.signalGenerator.n : nil)
    let projector = try spec.projection.projector(for: built)
    let outcomes = LockstepSolver(solver: solver, iterations: spec.algorithm.iterations, tolerance: spec.algorithm.tolerance)
      .run(instances, initial: initial, projector: solver.usesProjection ? projector : nil, slots: slots)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9

    return zip(jobs.indices, zip(instances, outcomes)).map { index, pair in
      let job = jobs[index]
      let (instance, outcome) = pair
      // GCCA: the per-view cosines of the normalised halves (empty, i.e. NaN columns, otherwise).
      let viewCosines: [Double] = gccaPairs[index].map { gcca in
        let (c1, c2) = gcca.viewCosines(outcome.estimate)
        return outcome.failure == nil ? [c1, c2] : [.nan, .nan]
      } ?? []
      let aligned = outcome.estimate.isEmpty ? [] : outcome.estimate
      let sign: Double = dot(aligned.isEmpty ? instance.signal : aligned, instance.signal) < 0 ? -1 : 1
      let distance = aligned.isEmpty ? Double.nan : norm(zip(aligned, instance.signal).map { sign * $0 - $1 })
      let failed = outcome.failure != nil
      // Without a truth vector there is no v*: cosine and distance are NaN, marked by
      // has_truth = 0, and the cosine history and v_star are stored empty.
      let hasTruth = userData.map { $0.truth != nil } ?? true
      let signalID: String
      if let data = spec.problem.userData {
        signalID = data.truth.map { "\(data.file):\($0)" } ?? "none"
      } else {
        signalID = source.identifier(job.signalIndex)
      }
      let steps = Self.steps(spec.algorithm, lambda1: instance.lambda1)
      var record = JobRecord(
        key: job.key, groupKey: job.groupKey, planIndex: job.index, problem: spec.problem.label, generator: built.generator.summary,
        algorithm: solver.label, projection: solver.usesProjection ? projector.summary : "none", m: spec.m,
        eta: steps.eta, etaLambda1: steps.etaLambda1, seed: spec.seed, signal: job.signalIndex, signalID: signalID, trial: job.trial,
        sweepValues: Dictionary(job.sweepLabels.map { ($0.path, $0.value) }, uniquingKeysWith: { _, last in last }),
        parametersJSON: job.parametersJSON(batch: jobs), status: failed ? .failed : .ok, error: outcome.failure ?? "",
        cosine: failed || !hasTruth ? .nan : outcome.cosine, distance: failed || !hasTruth ? .nan : distance, finalRho: failed ? .nan : outcome.finalRho,
        lambda1: instance.lambda1, lambda2: instance.lambda2, projectionLoss: outcome.projectionLoss,
        iterations: outcome.iterations, converged: outcome.converged, wallTime: seconds / Double(jobs.count),
        batchSize: jobs.count, estimate: outcome.estimate, signalVector: hasTruth ? instance.signal : [],
        rhoHistory: outcome.rhoHistory, cosineHistory: hasTruth ? outcome.cosineHistory : [], hasTruth: hasTruth,
        viewCosines: viewCosines)
      record.generatorChecksum = spec.generator.contentChecksum
      record.batchKey = batchKey
      return record
    }
  }

  // MARK: - From config to objects

  /// `perView`: GCCA's n_view, so that Rifle truncates s entries per view.
  /// The instance's η and η·λ1 (NaN for PPower, which has no step; η·λ1 is NaN where λ1 is
  /// unknown, for user data).
  static func steps(_ spec: AlgorithmSpec, lambda1: Double) -> (eta: Double, etaLambda1: Double) {
    guard let step = spec.method.step else { return (.nan, .nan) }
    return (step.eta(lambda1: lambda1), step.etaLambda1(lambda1: lambda1))
  }

  /// The pair of one job of a regular family (not GCCA's views, not user data).
  func problemPair(
    _ spec: ProblemSpec, source: SignalSource, signalIndex: Int, dataKey: String, seed: Int, n: Int
  ) throws -> any ProblemPair {
    let context = ProblemContext(source: source, signalIndex: signalIndex, dataKey: dataKey, seed: seed, n: n)
    guard let pair = try spec.component.pair(context) else {
      preconditionFailure("problem kind \(spec.kind) builds its instance in the batch runner, not as a ProblemPair")
    }
    return pair
  }

  /// The text the data stream is keyed by: everything that defines the distribution of the
  /// samples, and nothing about the method that consumes them.
  static func dataIdentity(_ spec: ExperimentSpec, signal: Int, trial: Int) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    func json(_ value: some Encodable) -> String { String(decoding: (try? encoder.encode(value)) ?? Data(), as: UTF8.self) }
    return "problem=\(json(spec.problem));m=\(spec.m);generator=\(json(spec.generator));signal=\(json(spec.signal));index=\(signal);trial=\(trial)"
  }
}
