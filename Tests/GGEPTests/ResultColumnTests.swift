import Foundation
import XCTest

@testable import GGEPCore
@testable import GGEPConfig
@testable import GGEPPipeline
@testable import GGEPKindGEP
@testable import GGEPKindInversion

/// Typed result columns: a kind reads and writes its columns only through `Column<Value>`
/// declarations, a value survives the results file with its type, and a file written before a
/// column existed reads as the column's declared missing value.
final class ResultColumnTests: GGEPTestCase {
  /// A kind whose schema grows between two versions: "v1" has `n`; "v2" adds a Bool column that
  /// older rows read as true, a real that reads as NaN, a text column and a vector.
  struct GrowingKind: ExperimentKind {
    var name: String { "growing-columns" }
    var version: Int

    enum Columns {
      static let n = Column<Int>("n", "dimension")
      static let flag = Column<Bool>("flag", "a flag older rows read as set", missing: true)
      static let score = Column<Double>("score", "a real older rows lack")
      static let label = Column<String>("label", "a text column")
      static let draw = ResultVector("draw", "a vector")
    }

    var schema: ResultSchema {
      version == 1
        ? ResultSchema(columns: [Columns.n], vectors: [])
        : ResultSchema(columns: [Columns.n, Columns.flag, Columns.score, Columns.label], vectors: [Columns.draw])
    }
    var summary: SummarySpec {
      SummarySpec(labels: [], axisColumns: ["n"], trailing: [], refinements: [:], columns: ["n"], metric: "n", metricTitle: "n")
    }
    func decode(point root: ConfigNode, defaultName: String) throws(ConfigError) -> any KindSpec { fatalError("not planned") }
    func run(batch: [JobSpec]) throws -> [JobRecord] { [] }
    func failedRecord(_ job: JobSpec, batch: [JobSpec], reason: String) -> JobRecord { fatalError("not planned") }
    func report(_ path: String, to directory: String, options: ReportOptions) throws -> [String] { [] }
    func report(combining paths: [String], to directory: String, options: ReportOptions) throws -> [String] { [] }
    func describe(_ records: [JobRecord]) -> [String] { [] }
  }

  override func tearDown() {
    ExperimentKinds.unregister("growing-columns")
    super.tearDown()
  }

  private func record(_ index: Int) -> JobRecord {
    JobRecord(
      key: "job\(index)", groupKey: "g", planIndex: index, signal: index, trial: 0, sweepValues: [:], parametersJSON: "{}",
      status: .ok, wallTime: 0.5, batchSize: 2)
  }

  private func provenance() -> RunProvenance {
    var p = RunProvenance(
      name: "growing", configFile: "growing.yaml", configText: "", resolvedConfig: "", configHash: "", overrides: [],
      ggepVersion: "test", created: "now", blasThreads: 1, sweepAxes: [], plannedJobs: 2)
    p.experiment = "growing-columns"
    return p
  }

  func testTypedColumnsRoundTripAndOlderFilesReadAsDeclaredMissingValues() throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ggep-columns-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    typealias C = GrowingKind.Columns

    // Version 1 writes only n.
    ExperimentKinds.register(GrowingKind(version: 1))
    var old = [record(0), record(1)]
    for i in old.indices { old[i][C.n] = 10 + i }
    try ResultsFile.write(old, provenance: provenance(), to: directory + "/v1.h5")

    // Version 2 reads the old file: the new columns hold their declared missing values.
    ExperimentKinds.register(GrowingKind(version: 2))
    let (p1, read1) = try ResultsFile.read(directory + "/v1.h5")
    XCTAssertFalse(p1.columns.contains("flag"))
    XCTAssertEqual(read1.map { $0[C.n] }, [10, 11])
    XCTAssertEqual(read1.map { $0[C.flag] }, [true, true], "a Bool column declared missing: true")
    XCTAssertTrue(read1.allSatisfy { $0[C.score].isNaN })
    XCTAssertEqual(read1.map { $0[C.label] }, ["", ""])
    XCTAssertEqual(read1.map { $0[C.draw] }, [[], []])

    // Version 2 writes every type; each comes back bit for bit, as the type it was written as.
    var new = [record(0), record(1)]
    new[0][C.n] = 3
    new[0][C.flag] = false
    new[0][C.score] = -0.1
    new[0][C.label] = "ε, λ₁"
    new[0][C.draw] = [1, .pi, -0.0]
    new[1][C.n] = 4
    new[1][C.flag] = true
    new[1][C.score] = .nan
    new[1][C.label] = "plain"
    new[1][C.draw] = [2]
    try ResultsFile.write(new, provenance: provenance(), to: directory + "/v2.h5")
    let (_, read2) = try ResultsFile.read(directory + "/v2.h5")
    XCTAssertEqual(read2, new)
    XCTAssertEqual(read2[0][C.flag], false)
    XCTAssertEqual(read2[0][C.score].bitPattern, (-0.1).bitPattern)
    XCTAssertEqual(read2[0][C.label], "ε, λ₁")
    XCTAssertEqual(read2[0][C.draw].map(\.bitPattern), [1, .pi, -0.0].map(\.bitPattern))
    // A Bool is stored as an integer column (0/1), so any HDF5 tool reads it.
    XCTAssertEqual(read2[0].value(of: "flag"), .integer(0))
    XCTAssertEqual(read2[1].value(of: "flag"), .integer(1))
  }

  /// Each kind's schema is exactly its typed declarations, with no name twice, and the GEP
  /// accessors write the columns they name.
  func testSchemasComeFromTheTypedDeclarations() {
    for kind in [GEPKind.schema, InversionKind.schema] {
      let names = (ResultSchema.identity + kind.columns).map(\.name)
      XCTAssertEqual(names.count, Set(names).count, "a column declared twice: \(names)")
    }
    XCTAssertEqual(InversionKind.schema.columns.filter { $0.name.hasPrefix("snr_layer") }.count, InversionKind.maxHiddenLayers)
    var r = record(0)
    r.cosine = 0.25
    r.hasTruth = false
    r.converged = true
    XCTAssertEqual(r.value(of: "cosine"), .real(0.25))
    XCTAssertEqual(r.value(of: "has_truth"), .integer(0))
    XCTAssertEqual(r.value(of: "converged"), .integer(1))
    XCTAssertTrue(record(1).hasTruth, "has_truth reads as 1 where unset, as in files that predate it")
  }
}
