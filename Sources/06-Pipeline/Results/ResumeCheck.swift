import Foundation
import GGEPCore

/// What a rerun may reuse of an output folder: resume follows the job keys.
///
/// A job already done whose key the plan still has is reused, whatever else changed in the
/// config: adding trials, signals or sweep points resumes the finished jobs instead of
/// demanding `--fresh`. Two things are refused, because folding them in would put wrong or
/// mixed numbers under the plan's name:
///
/// * a stored job whose key the plan has but whose expanded settings differ from the plan's
///   (a default changed meaning; keys are encoded from what identifies a job, the stored
///   `params` hold everything it ran with) — the message names each setting that changed;
/// * stored jobs the plan does not have: another config (`ConflictError`), or the same config
///   whose named files changed since (`StrayJobs`, e.g. a retrained model).
extension RunDirectory {
  /// A stored job whose settings differ from the plan's job of the same key.
  public struct MeaningChanged: UserFacingError {
    public let file: String
    public let key: String
    /// `path: stored → now`, for each setting that differs.
    public let changes: [String]
    public var description: String {
      "\(file): job \(key) ran with other settings than the config now gives it under the same key ("
        + changes.prefix(5).joined(separator: "; ") + (changes.count > 5 ? "; …" : "")
        + "); a setting changed its meaning. Rerun with --fresh to replace the results, or choose another --out"
    }
  }

  /// The jobs done in this folder (results file, then journal; later wins), checked against
  /// `plan` as above.
  public func resumableRecords(for plan: ExperimentPlan, withVectors: Bool = true) throws -> [String: JobRecord] {
    let planned = Dictionary(plan.jobs.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
    var settings: [String: [String: Any]] = [:]  // per group key: the plan's expanded settings
    func planSettings(_ job: JobSpec) -> [String: Any] {
      if let cached = settings[job.groupKey] { return cached }
      let parsed = Self.comparableSettings(job.kindSpec.canonicalJSON)
      settings[job.groupKey] = parsed
      return parsed
    }

    var records: [String: JobRecord] = [:]
    for (file, provenance, found) in try readAll(withVectors: withVectors) {
      let stray = found.filter { planned[$0.key] == nil }
      if !stray.isEmpty {
        if stray.count == found.count && provenance.configHash != plan.configHash {
          throw ConflictError(file: file, found: provenance.configHash, expected: plan.configHash)
        }
        func checksums(_ values: [String]) -> [String] { Set(values.filter { !$0.isEmpty }).sorted() }
        throw StrayJobs(
          directory: path, count: stray.count, stored: checksums(stray.flatMap(plan.kind.fileChecksums)),
          planned: checksums(plan.points.flatMap { $0.kindSpec.namedFiles.map(\.checksum) }))
      }
      for record in found {
        let job = planned[record.key]!
        let stored = Self.comparableSettings(Self.storedSpecJSON(record.parametersJSON))
        let changes = Self.differences(stored, planSettings(job), path: "")
        if !changes.isEmpty { throw MeaningChanged(file: file, key: record.key, changes: changes) }
        // Where the job sits in this plan (its row, its sweep values): a grown config moves it.
        var record = record
        record.planIndex = job.index
        record.sweepValues = Dictionary(job.sweepLabels.map { ($0.path, $0.value) }, uniquingKeysWith: { _, last in last })
        records[record.key] = record
      }
    }
    return records
  }

  /// Every file of the folder, read (a damaged results.h5 is reported as `DamagedResults`).
  package func readAll(withVectors: Bool) throws -> [(file: String, provenance: RunProvenance, records: [JobRecord])] {
    try existingFiles().map { file in
      do {
        let (provenance, records) = try ResultsFile.read(file, withVectors: withVectors, withParameters: true)
        return (file, provenance, records)
      } catch let error as HDF5Error where file == resultsPath && !error.message.hasPrefix("not a ggep results file") {
        let reason = error.message.components(separatedBy: "; the file is damaged").first ?? error.message
        throw DamagedResults(file: file, reason: reason, journalJobs: journalJobCount())
      }
    }
  }

  /// The `spec` object of a job's stored `params`.
  package static func storedSpecJSON(_ parameters: String) -> String {
    guard let object = try? JSONSerialization.jsonObject(with: Data(parameters.utf8)) as? [String: Any],
      let spec = object["spec"], let data = try? JSONSerialization.data(withJSONObject: spec, options: [.sortedKeys])
    else { return "{}" }
    return String(decoding: data, as: UTF8.self)
  }

  /// A spec's JSON as a dictionary without what never changes a job's numbers: its name,
  /// description and trial count (a job knows its own trial index).
  package static func comparableSettings(_ json: String) -> [String: Any] {
    var object = (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]) ?? [:]
    for key in ["name", "description", "trials"] { object.removeValue(forKey: key) }
    return object
  }

  /// `path: stored → now` for every leaf that differs.
  package static func differences(_ stored: Any?, _ now: Any?, path: String) -> [String] {
    if let a = stored as? [String: Any], let b = now as? [String: Any] {
      return Set(a.keys).union(b.keys).sorted().flatMap { key in
        differences(a[key], b[key], path: path.isEmpty ? key : "\(path).\(key)")
      }
    }
    func text(_ value: Any?) -> String {
      guard let value else { return "(absent)" }
      if let data = try? JSONSerialization.data(withJSONObject: [value], options: [.sortedKeys]) {
        return String(String(decoding: data, as: UTF8.self).dropFirst().dropLast())
      }
      return "\(value)"
    }
    let (x, y) = (text(stored), text(now))
    return x == y ? [] : ["\(path): \(x) → \(y)"]
  }
}

extension ExperimentPlan {
  /// SHA-256 of the resolved config's canonical JSON: what `results.h5` records as `config_hash`.
  public var configHash: String { document.configHash }
}
