import Foundation
import GGEPCore
import GGEPConfig

/// `ggep inspect`: what a results file holds, in a few lines.
public enum Inspection {
  public static func describe(_ path: String) throws -> String {
    let (p, records) = try ResultsFile.read(path, withVectors: false)
    let ok = records.filter { $0.status == .ok }.count
    let failed = records.count - ok
    let groups = Set(records.map(\.groupKey)).count
    let kind = ResultsFile.kind(p)
    let firstVector = kind.schema.vectors.first?.name
    let n = try firstVector.flatMap { try dimension(path, firstKey: records.first(where: { $0.status == .ok })?.key, vector: $0) }
    var lines = [
      "\(path): ggep results \"\(p.name)\" (experiment \(p.experiment))",
      "  config:    \(p.configFile)\(p.overrides.isEmpty ? "" : " with --set \(p.overrides.joined(separator: " "))") (hash \(p.configHash.prefix(12)))",
      "  written:   \(p.created) by ggep \(p.ggepVersion), BLAS threads \(p.blasThreads)",
      "  jobs:      \(records.count) of \(p.plannedJobs) planned (\(ok) ok, \(failed) failed) in \(groups) batches",
    ] + kind.describe(records) + [
      "  sweep:     \(p.sweepAxes.isEmpty ? "(none)" : p.sweepAxes.joined(separator: " × "))",
      "  layout:    /runs (\(ResultsFile.kind(p).schema.allColumns.count) columns + \(Set(records.flatMap(\.sweepValues.keys)).count) sweep columns), /jobs/<job_key>/{\(ResultsFile.kind(p).schema.vectors.map(\.name).joined(separator: ", "))} (\(firstVector ?? "") has \(n.map(String.init) ?? "?") entries)",
    ]
    if failed > 0, let first = records.first(where: { $0.status == .failed }) {
      lines.append("  first failure: job \(first.key): \(first.error)")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  private static func dimension(_ path: String, firstKey: String?, vector: String) throws -> Int? {
    guard let key = firstKey else { return nil }
    let file = try HDF5File.open(path)
    defer { try? file.close() }
    return try file.root.openGroup("jobs/\(key)").shape(of: vector).first
  }
}
