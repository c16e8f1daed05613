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
  public static var maxHiddenLayers: Int { InversionColumn.snrLayer.count }

  public var schema: ResultSchema { Self.schema }

  public var indexColumns: [ResultColumn] { [InversionColumn.generator.declaration, InversionColumn.method.declaration] }

  public var summary: SummarySpec {
    SummarySpec(
      labels: ["method"], axisColumns: ["method"], trailing: [], refinements: [:],
      columns: ["method", "generator", "widths", "k", "n", "n_hidden1", "noise_snr_db", "noise_sigma", "mask_fraction", "hidden_rows", "success"],
      metric: "snr_latent_db", metricTitle: "latent SNR dB")
  }

  public func decode(point root: ConfigNode, defaultName: String) throws(ConfigError) -> any KindSpec {
    try InversionSpec(config: root, defaultName: defaultName)
  }

  public func validate(_ spec: any KindSpec, point root: ConfigNode) throws(ConfigError) {
    try (spec as! InversionSpec).validate(point: root)
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
    InversionBatch.writeSettingColumns(&record, spec)
    return record
  }

  public func fileChecksums(_ record: JobRecord) -> [String] {
    let checksum = record[InversionColumn.generatorChecksum]
    return checksum.isEmpty ? [] : [checksum]
  }

  /// Every column that follows from the stored z* and ẑ — the latent, per-layer and output
  /// SNRs, success, the residual, the observed count and the uniqueness prediction — is
  /// recomputed from them, the job's own settings (its `params`) and the generator, and must
  /// match bit for bit: no re-run of the method, so `verify --sample` checks every row.
  public func rowProblems(_ r: JobRecord) -> [String] {
    let z = r[InversionColumn.zStar], zHat = r[InversionColumn.zHat]
    guard z.count == zHat.count, !z.isEmpty else { return ["/jobs/\(r.key): z_star and z_hat differ in length"] }
    guard let spec = Self.spec(of: r) else { return ["/jobs/\(r.key): its params do not hold the job's inversion settings"] }
    guard let network = Self.network(for: spec.generator) else {
      return ["/jobs/\(r.key): its generator cannot be built to check the row"]
    }
    let prepared = InversionBatch.prepare(spec: spec, signal: r.signal, trial: r.trial, network: network)
    guard prepared.zStar.map(\.bitPattern) == z.map(\.bitPattern) else {
      return ["/jobs/\(r.key)/z_star is not the z* its settings draw"]
    }
    var expected = r
    InversionBatch.writeTruthColumns(&expected, network: network, prepared: prepared)
    _ = InversionBatch.writeEstimateColumns(&expected, network: network, prepared: prepared, zHat: zHat)
    var problems: [String] = []
    for column in Self.schema.columns.sorted(by: { $0.name < $1.name }) {
      guard let stored = r.values[column.name], let value = expected.values[column.name] else { continue }  // a column the file predates
      if stored != value {
        problems.append("/runs/\(column.name) is \(stored), but z_star, z_hat and the job's settings give \(value)")
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
    let success = ok.isEmpty ? 0 : Double(ok.filter { $0[InversionColumn.success] }.count) / Double(ok.count)
    return [
      "  methods:   \(distinct(records.map { $0[InversionColumn.method] }))",
      "  networks:  \(distinct(records.map { $0[InversionColumn.widths] }))",
      String(format: "  success:   %.0f%% of finished jobs reach 40 dB in the latent", 100 * success),
    ]
  }
}
