/// `ggep merge`: combines the files of one plan's shards into one results file.
public enum ResultsMerger {
  public struct MergeError: Error, CustomStringConvertible {
    public let description: String
  }

  public struct Outcome: Sendable {
    public var jobs: Int
    public var planned: Int
    public var failed: Int
  }

  /// Reads every input, refuses files of different configs (by resolved-config hash), keeps one
  /// record per job key (a completed one over a failed one), and writes `output` atomically in
  /// plan order.
  @discardableResult
  public static func merge(_ inputs: [String], into output: String) throws -> Outcome {
    guard !inputs.isEmpty else { throw MergeError(description: "merge: no input files") }
    var first: RunProvenance?
    var firstPath = ""
    var byKey: [String: JobRecord] = [:]
    for path in inputs {
      let (provenance, records) = try ResultsFile.read(path)
      if let reference = first {
        guard provenance.configHash == reference.configHash else {
          throw MergeError(
            description: "merge: \(path) was written by a different config than \(firstPath) "
              + "(config hash \(provenance.configHash.prefix(12)) vs \(reference.configHash.prefix(12)); "
              + "\(provenance.configFile) vs \(reference.configFile))")
        }
      } else {
        first = provenance
        firstPath = path
      }
      for record in records where byKey[record.key]?.status != .ok { byKey[record.key] = record }
    }
    var provenance = first!
    provenance.shard = ""
    provenance.created = BuildInfo.timestamp()
    let ordered = byKey.values.sorted { ($0.planIndex, $0.key) < ($1.planIndex, $1.key) }
    try ResultsFile.write(ordered, provenance: provenance, to: output)
    return Outcome(jobs: ordered.count, planned: provenance.plannedJobs, failed: ordered.filter { $0.status == .failed }.count)
  }
}
