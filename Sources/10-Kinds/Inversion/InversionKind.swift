import Foundation
import GGEPCore
import GGEPPrior
import GGEPNumerics
import GGEPModels
import GGEPConfig
import GGEPPipeline
import GGEPPlot
import GGEPComponents

/// Inverting a generator (docs/mathematics.md §10): each job draws z*, makes x = G(z*), corrupts it, inverts it
/// with one method, and records per-layer SNRs, success, the uniqueness prediction and ẑ.
public struct InversionKind: ExperimentKind {
  public init() {}
  public var name: String { "inversion" }

  /// Hidden layers whose SNR has a column (deeper networks record the first six).
  public static let maxHiddenLayers = 6

  public static let schema = ResultSchema(
    columns: [
      ResultColumn("method", .text, "adam, oracle, lp, lp-noiseless, latent-pursuit, latent-pursuit-debiased, layered-bp, hybrid (from Latent-Pursuit) or hybrid-<start>"),
      ResultColumn("generator", .text, "generator label"),
      ResultColumn("generator_checksum", .text, "full SHA-256 of a trained generator's weights; empty for seeded generators"),
      ResultColumn("widths", .text, "layer widths, latent first (20-100-625)"),
      ResultColumn("k", .integer, "latent dimension"),
      ResultColumn("n", .integer, "output dimension"),
      ResultColumn("n_hidden1", .integer, "width of the first hidden layer (0 without one)"),
      ResultColumn("expansion", .real, "mean expansion per layer, (n/k)^(1/L) for L layers"),
      ResultColumn("seed", .integer, "sweep seed"),
      ResultColumn("noise_snr_db", .real, "SNR of the added Gaussian noise in dB (NaN: none)"),
      ResultColumn("noise_sigma", .real, "standard deviation of the added noise per entry, when given as such (NaN otherwise)"),
      ResultColumn("mask_fraction", .real, "fraction of x's entries hidden at random"),
      ResultColumn("hidden_rows", .integer, "top image rows hidden"),
      ResultColumn("observed", .integer, "entries of x the method saw"),
      ResultColumn("snr_latent_db", .real, "SNR of ẑ against z* in dB (capped at 100)"),
    ] + (1...maxHiddenLayers).map { ResultColumn("snr_layer\($0)_db", .real, "SNR of hidden layer \($0) recomputed from ẑ, in dB (NaN beyond the depth)") }
      + [
        ResultColumn("snr_output_db", .real, "SNR of G(ẑ) against the clean x = G(z*), in dB"),
        ResultColumn("success", .integer, "1 if the latent SNR is at least 40 dB"),
        ResultColumn("uniqueness", .text, "per layer, docs/mathematics.md §10's prediction that its inversion is unique: yes, no or exempt (invertible output)"),
        ResultColumn("unique_predicted", .integer, "1 if every layer is predicted unique (or exempt)"),
        ResultColumn("residual", .real, "‖M ⊙ (G(ẑ) − x)‖ / ‖M ⊙ x‖ on the observed entries"),
        ResultColumn("iterations", .integer, "solver iterations summed over layers (pursuits), layers solved (lp, oracle), Adam steps (a hybrid adds its start's)"),
      ],
    vectors: [
      ResultVector("z_star", "the latent z* (k)"), ResultVector("z_hat", "the recovered ẑ (k)"),
      ResultVector("x", "the observed x (n; hidden entries 0)"), ResultVector("x_hat", "G(ẑ) (n)"),
    ])

  public var schema: ResultSchema { Self.schema }

  public var summary: SummarySpec {
    SummarySpec(
      labels: ["method"], axisColumns: ["method"], trailing: [], refinements: [:],
      columns: ["method", "generator", "widths", "k", "n", "n_hidden1", "noise_snr_db", "noise_sigma", "mask_fraction", "hidden_rows", "success"],
      metric: "snr_latent_db", metricTitle: "latent SNR dB")
  }

  public func decode(point root: ConfigNode, defaultName: String) throws(ConfigError) -> any KindSpec {
    try InversionSpec(config: root, defaultName: defaultName)
  }

  public func run(batch: [JobSpec]) throws -> [JobRecord] {
    try InversionBatch(jobs: batch).run()
  }

  public func failedRecord(_ job: JobSpec, batch: [JobSpec], reason: String) -> JobRecord {
    let spec = job.kindSpec as! InversionSpec
    var record = JobRecord(
      key: job.key, groupKey: job.groupKey, batchKey: JobSpec.batchKey(of: batch), planIndex: job.index, signal: job.signalIndex,
      trial: job.trial, sweepValues: Dictionary(job.sweepLabels.map { ($0.path, $0.value) }, uniquingKeysWith: { _, b in b }),
      parametersJSON: job.parametersJSON(batch: batch), status: .failed, error: reason, wallTime: 0, batchSize: batch.count)
    record.values = InversionBatch.settingValues(spec)
    return record
  }

  public func fileChecksums(_ record: JobRecord) -> [String] {
    let checksum = record.text("generator_checksum")
    return checksum.isEmpty ? [] : [checksum]
  }

  /// Every column that follows from the stored z* and ẑ — the latent, per-layer and output
  /// SNRs, success, the residual, the observed count and the uniqueness prediction — is
  /// recomputed from them, the job's own settings (its `params`) and the generator, and must
  /// match bit for bit: no re-run of the method, so `verify --sample` checks every row.
  public func rowProblems(_ r: JobRecord) -> [String] {
    let z = r.vector("z_star"), zHat = r.vector("z_hat")
    guard z.count == zHat.count, !z.isEmpty else { return ["/jobs/\(r.key): z_star and z_hat differ in length"] }
    guard let spec = Self.spec(of: r) else { return ["/jobs/\(r.key): its params do not hold the job's inversion settings"] }
    guard let network = Self.network(for: spec.generator) else {
      return ["/jobs/\(r.key): its generator cannot be built to check the row"]
    }
    let prepared = InversionBatch.prepare(spec: spec, signal: r.signal, trial: r.trial, network: network)
    guard prepared.zStar.map(\.bitPattern) == z.map(\.bitPattern) else {
      return ["/jobs/\(r.key)/z_star is not the z* its settings draw"]
    }
    var expected = InversionBatch.truthColumns(network: network, prepared: prepared)
    expected.merge(InversionBatch.estimateColumns(network: network, prepared: prepared, zHat: zHat).columns) { _, new in new }
    var problems: [String] = []
    for (name, value) in expected.sorted(by: { $0.key < $1.key }) {
      guard let stored = r.values[name] else { continue }  // a column the file predates
      if stored != value {
        problems.append("/runs/\(name) is \(stored), but z_star, z_hat and the job's settings give \(value)")
      }
    }
    return problems
  }

  /// The Double copy of a generator's layers, made once per generator for all the rows that
  /// share it (a file of thousands of rows would otherwise convert the weights per row).
  private static let networks = LockedCache<InversionNetwork>()

  static func network(for generator: GeneratorSpec) -> InversionNetwork? {
    let key = InversionSpec.json(generatorOnly: generator)
    if let hit = networks.get(key) { return hit }
    guard let built = try? GeneratorFactory.shared.build(generator), let layered = built.generator as? FeedForwardGenerator else {
      return nil
    }
    let network = InversionNetwork(layered)
    networks.set(key, network)
    return network
  }

  /// The job's settings, from the `spec` of its `params`: the canonical JSON the run wrote,
  /// which is the last member (`JobSpec.parametersJSON`), decoded from its own bytes so that
  /// no number is re-rounded on the way.
  static func spec(of r: JobRecord) -> InversionSpec? {
    let text = r.parametersJSON
    guard let range = text.range(of: ",\"spec\":", options: .backwards), text.hasSuffix("}") else { return nil }
    let json = text[range.upperBound..<text.index(before: text.endIndex)]
    return try? JSONDecoder().decode(InversionSpec.self, from: Data(json.utf8))
  }

  public func report(_ path: String, to directory: String, options: ReportOptions) throws -> [String] {
    try InversionReport.write(results: [path], to: directory, title: "")
  }

  public func report(combining paths: [String], to directory: String, options: ReportOptions) throws -> [String] {
    try InversionReport.write(results: paths, to: directory, title: options.title)
  }

  public func describe(_ records: [JobRecord]) -> [String] {
    func distinct(_ values: [String]) -> String {
      var seen: [String] = []
      for v in values where !seen.contains(v) { seen.append(v) }
      return seen.joined(separator: ", ")
    }
    let ok = records.filter { $0.status == .ok }
    let success = ok.isEmpty ? 0 : Double(ok.filter { $0.integer("success") == 1 }.count) / Double(ok.count)
    return [
      "  methods:   \(distinct(records.map { $0.text("method") }))",
      "  networks:  \(distinct(records.map { $0.text("widths") }))",
      String(format: "  success:   %.0f%% of finished jobs reach 40 dB in the latent", 100 * success),
    ]
  }
}
