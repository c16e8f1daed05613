import Foundation
import GGEPCore
import GGEPConfig

/// `ggep merge`: combines the files of one plan's shards into one results file.
public enum ResultsMerger {
  public typealias MergeError = UserError

  public struct Outcome: Sendable {
    public var jobs: Int
    public var planned: Int
    public var failed: Int
    /// What an existing output held before `--force` replaced it (nil: nothing was replaced,
    /// or the output was itself one of the inputs).
    public var replaced: Replaced?
  }

  /// An existing output file that the merge replaced.
  public struct Replaced: Sendable {
    public var jobs: Int
    /// Its jobs that are not in the merge: lost with the replacement.
    public var dropped: Int
  }

  /// What an existing output holds, for the refusal message.
  package static func describeExisting(_ path: String) -> (text: String, keys: Set<String>?) {
    guard let (provenance, records) = try? ResultsFile.read(path, withVectors: false) else {
      return ("a file that is not a readable ggep results file", nil)
    }
    return ("\(records.count) job(s) of \(provenance.name), config hash \(provenance.configHash.prefix(12))", Set(records.map(\.key)))
  }

  /// Reads every input, refuses files of different configs (by resolved-config hash), keeps one
  /// record per job key (a completed one over a failed one), and writes `output` atomically in
  /// plan order.
  ///
  /// An existing `output` is never replaced unless it is one of the inputs (then every job of
  /// it is in the merge) or `force` is set: `ggep merge good.h5 other.h5`, meant as "merge
  /// both", once replaced 240 good jobs with the 2 of other.h5. The output folder's
  /// run lock is held while writing, so a merge never races a run into the same folder.
  @discardableResult
  public static func merge(_ inputs: [String], into output: String, force: Bool = false) throws -> Outcome {
    guard !inputs.isEmpty else { throw MergeError(description: "merge: no input files") }
    let outputKind = FileSystem.kind(of: output)
    if outputKind.isDirectory {
      throw MergeError(description: "merge: \(output) is a folder; the first argument is the merged file to write (e.g. \(output)/results.h5)")
    }
    let resolvedOutput = URL(fileURLWithPath: output).standardizedFileURL.resolvingSymlinksInPath().path
    let outputIsInput = inputs.contains { URL(fileURLWithPath: $0).standardizedFileURL.resolvingSymlinksInPath().path == resolvedOutput }
    var existingKeys: Set<String>?
    if outputKind.exists && !outputIsInput {
      let existing = describeExisting(output)
      guard force else {
        throw MergeError(
          description: "merge: \(output) already exists (\(existing.text)) and is not among the files to merge, so merging would "
            + "replace it with the merge of \(inputs.joined(separator: " ")). The usage is `ggep merge OUTPUT INPUT…`: to merge it "
            + "too, name it as an input as well (`ggep merge \(output) \(output) \(inputs.joined(separator: " "))`); to replace it, add --force")
      }
      existingKeys = existing.keys ?? []
    }
    let directory = (output as NSString).deletingLastPathComponent
    try FileSystem.createDirectory(directory.isEmpty ? "." : directory)
    let lock = try RunLock.acquire(directory: directory.isEmpty ? "." : directory, command: "ggep merge \(output)")
    defer { lock.release() }
    var first: RunProvenance?
    var firstPath = ""
    var byKey: [String: JobRecord] = [:]
    var machines: [(core: String, cpu: String)] = []
    for path in inputs {
      let (provenance, records) = try ResultsFile.read(path)
      machines.append((provenance.blasCore, provenance.cpuModel))
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
      // One config can plan other jobs after its model file changed: never merge two models.
      let kind = ResultsFile.kind(provenance)
      let checksums = Set(records.map { kind.fileChecksums($0).joined(separator: ",") })
      if let earlier = byKey.values.first.map({ kind.fileChecksums($0).joined(separator: ",") }), !checksums.isEmpty, checksums != [earlier] {
        throw MergeError(
          description: "merge: \(path) ran with another trained generator than \(firstPath) (weights sha256 "
            + "\(checksums.sorted().map { String($0.prefix(12)) }.joined(separator: ", ")) vs \(earlier.prefix(12))); merge files of one model only")
      }
      for record in records where byKey[record.key]?.status != .ok { byKey[record.key] = record }
    }
    var provenance = first!
    provenance.shard = ""
    // Shards may have run on different nodes: record every core and CPU model met.
    provenance.blasCore = Set(machines.map(\.core)).sorted().joined(separator: ", ")
    provenance.cpuModel = Set(machines.map(\.cpu)).sorted().joined(separator: ", ")
    provenance.created = BuildInfo.timestamp()
    let ordered = byKey.values.sorted { ($0.planIndex, $0.key) < ($1.planIndex, $1.key) }
    try ResultsFile.write(ordered, provenance: provenance, to: output)
    let replaced = existingKeys.map { keys in Replaced(jobs: keys.count, dropped: keys.subtracting(byKey.keys).count) }
    return Outcome(
      jobs: ordered.count, planned: provenance.plannedJobs, failed: ordered.filter { $0.status == .failed }.count, replaced: replaced)
  }
}
