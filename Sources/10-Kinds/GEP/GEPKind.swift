import Foundation
import GGEPCore
import GGEPNumerics
import GGEPConfig
import GGEPPipeline
import GGEPComponents

/// The generalized eigenvalue experiments of the paper (docs/mathematics.md §1–9): PRFM, PPower and Rifle on
/// Eq. (24)/(25), GPCA, GFDA, GCCA and user data, with a generative prior.
public struct GEPKind: ExperimentKind {
  public init() {}
  public var name: String { "gep" }
  public var schema: ResultSchema { Self.schema }
  public var summary: SummarySpec { Self.summary }
  public var indexColumns: [ResultColumn] { [GEPColumn.generator.declaration, GEPColumn.projection.declaration] }

  /// Mean ± std of the cosine by problem, method, every swept setting and m; a step swept
  /// inside whole algorithm mappings gets its eta (or eta_lambda1) column.
  public static let summary = SummarySpec(
    labels: ["problem", "algorithm"], axisColumns: ["problem", "algorithm", "generator", "m", "seed"], trailing: ["m"],
    refinements: ["algorithm": ["eta", "eta_lambda1"]],
    columns: ["problem", "generator", "algorithm", "projection", "m", "eta", "eta_lambda1", "seed"],
    metric: "cosine", metricTitle: "cosine", metricPresence: "has_truth")

  public func decode(point root: ConfigNode, defaultName: String) throws(ConfigError) -> any KindSpec {
    try ExperimentSpec(config: root, defaultName: defaultName)
  }

  /// A projection method that cannot project onto the generator's range (a layer-wise one on a
  /// convolution, say) is refused by name, the generator built to look at its layers.
  public func validate(_ spec: any KindSpec, point root: ConfigNode) throws(ConfigError) {
    let spec = spec as! ExperimentSpec
    try spec.projection.validate(for: spec.generator.projectionSurrogate, point: root)
  }

  public func run(batch: [JobSpec]) throws -> [JobRecord] {
    try BatchRunner().run(batch)
  }

  public func failedRecord(_ job: JobSpec, batch: [JobSpec], reason: String) -> JobRecord {
    JobRecord.failed(job, batch: batch, reason: reason)
  }

  public func report(_ path: String, to directory: String, options: ReportOptions) throws -> [String] {
    try ResultReport.write(results: path, to: directory, options: options.kindOptions(GEPReportOptions.self) ?? GEPReportOptions())
  }

  public func report(combining paths: [String], to directory: String, options: ReportOptions) throws -> [String] {
    try ResultReport.writeCombined(
      results: paths, to: directory, title: options.title.isEmpty ? "Mean cosine similarity against m" : options.title,
      bestStep: options.kindOptions(GEPReportOptions.self)?.bestStep ?? false)
  }

  public func describe(_ records: [JobRecord]) -> [String] {
    func distinct(_ values: [String]) -> String {
      var seen: [String] = []
      for v in values where !seen.contains(v) { seen.append(v) }
      return seen.joined(separator: ", ")
    }
    return [
      "  problems:  \(distinct(records.map(\.problem)))",
      "  methods:   \(distinct(records.map(\.algorithm)))",
      "  m:         \(distinct(records.map { String($0.m) }))",
    ]
  }

  /// A completed row's cosine, ρ and iteration count are its histories' last entries and
  /// length, as the run wrote them: an edited table shows here even when its job is not re-run.
  public func rowProblems(_ r: JobRecord) -> [String] {
    var problems: [String] = []
    if r.rhoHistory.count != r.iterations + 1 {
      problems.append("/runs/iterations is \(r.iterations), but rho_history has \(r.rhoHistory.count) entries")
    }
    if let last = r.rhoHistory.last, last.bitPattern != r.finalRho.bitPattern {
      problems.append("/runs/final_rho is \(r.finalRho), but rho_history ends with \(last)")
    }
    if r.hasTruth, let last = r.cosineHistory.last, last.bitPattern != r.cosine.bitPattern {
      problems.append("/runs/cosine is \(r.cosine), but cosine_history ends with \(last)")
    }
    return problems
  }

  public func fileChecksums(_ record: JobRecord) -> [String] {
    record.generatorChecksum.isEmpty ? [] : record.generatorChecksum.split(separator: ",").map(String.init)
  }

  /// A re-run with another trained generator (the model file changed) differs for that reason.
  public func likelyCauses(stored: [JobRecord], rerun: [JobRecord]) -> [String] {
    let before = Set(stored.map(\.generator))
    let now = Set(rerun.map(\.generator))
    guard !rerun.isEmpty, before != now else { return [] }
    return ["generator/model: file \(before.sorted().joined(separator: ", ")), now \(now.sorted().joined(separator: ", "))"]
  }
}

/// The GEP kind's settings of one sweep point: `ExperimentSpec` (Config schema in this folder).
extension ExperimentSpec: KindSpec, UsesGenerators {
  public var generators: [GeneratorSpec] { [generator] }
  public var signalCount: Int { signal.count }

  public var namedFiles: [(path: String, checksum: String)] {
    var files = generator.files
    if let data = problem.userData { files.append((data.file, data.checksum)) }
    return files
  }

  /// `eq24 PRFM m=300`, plus any other swept scalar (`algorithm.eta=0.1`), plus the step when
  /// whole algorithm mappings are swept (`PRFM η=0.05`), so that the lines of a step sweep
  /// differ.
  public func progressLabel(sweepLabels: [SweepLabel]) -> String {
    let named = ["problem", "algorithm", "m", "generator", "signal"]
    let extra = sweepLabels.filter { !named.contains($0.path) && !$0.value.hasPrefix("{") }.map(\.description)
    var parts = [problem.label, algorithm.label]
    if sweepLabels.contains(where: { $0.path == "algorithm" }) {
      switch algorithm.method.step {
      case .absolute(let eta): parts.append("η=\(formatNumber(eta))")
      case .perLambda1(let c): parts.append("η·λ1=\(formatNumber(c))")
      case nil: break
      }
    }
    // A swept projection names its method (`P=latent-pursuit`), so that the lines differ.
    if sweepLabels.contains(where: { $0.path == "projection" }) { parts.append("P=\(projection.method)") }
    return (parts + ["m=\(m)"] + extra).joined(separator: " ")
  }
}

extension JobSpec {
  /// A GEP job's settings.
  public var spec: ExperimentSpec {
    guard let spec = kindSpec as? ExperimentSpec else { preconditionFailure("not a GEP job: \(type(of: kindSpec))") }
    return spec
  }
}

extension ExperimentPlan.Point {
  /// A GEP point's settings.
  public var spec: ExperimentSpec {
    guard let spec = kindSpec as? ExperimentSpec else { preconditionFailure("not a GEP point: \(type(of: kindSpec))") }
    return spec
  }
}

extension JobRecord {
  /// A job that could not even start (its batch threw): recorded, and retried by the next run.
  static func failed(_ job: JobSpec, batch: [JobSpec]? = nil, reason: String) -> JobRecord {
    let batch = batch ?? [job]
    var record = JobRecord(
      key: job.key, groupKey: job.groupKey, planIndex: job.index, problem: job.spec.problem.label, generator: job.spec.generator.kind,
      algorithm: job.spec.algorithm.label, projection: job.spec.projection.method, m: job.spec.m,
      eta: BatchRunner.steps(job.spec.algorithm, lambda1: .nan).eta,
      etaLambda1: BatchRunner.steps(job.spec.algorithm, lambda1: .nan).etaLambda1, seed: job.spec.seed, signal: job.signalIndex, trial: job.trial,
      sweepValues: Dictionary(job.sweepLabels.map { ($0.path, $0.value) }, uniquingKeysWith: { _, last in last }),
      parametersJSON: job.parametersJSON(batch: batch), status: .failed, error: reason, cosine: .nan, distance: .nan,
      finalRho: .nan, lambda1: .nan, lambda2: .nan, projectionLoss: .nan, iterations: 0, converged: false, wallTime: 0,
      batchSize: 0, estimate: [], signalVector: [], rhoHistory: [], cosineHistory: [])
    record.generatorChecksum = job.spec.generator.contentChecksum
    record.batchKey = JobSpec.batchKey(of: batch)
    return record
  }
}
