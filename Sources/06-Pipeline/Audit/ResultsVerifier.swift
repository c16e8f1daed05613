import Foundation
import GGEPCore
import GGEPConfig

/// `ggep verify` (docs/mathematics.md §9, "Audit"): re-runs finished jobs from a results file's own provenance
/// and compares every stored value (each `/runs` column but `wall_time`, and the kind's
/// vectors) bit for bit.
///
/// The plan is rebuilt from the resolved config stored in the file. A job is re-run inside its
/// whole batch, because a row's last bits may depend on the batch it sat in (docs/reproducibility.md): the
/// batch's composition is a function of the config, so the re-run reproduces it exactly.
public enum ResultsVerifier {
  public struct Mismatch: Sendable, CustomStringConvertible {
    public var key: String
    public var what: String
    public var description: String { "job \(key): \(what)" }
  }

  public struct Report: Sendable {
    public var checked: [String]
    public var mismatches: [Mismatch]
    /// Provenance that differs between the file and this run: the likely causes of a mismatch.
    public var causes: [String]
    /// The vectors each job stores (`/jobs/<key>/<name>`), all compared.
    public var vectorNames: [String] = []
    public var passed: Bool { mismatches.isEmpty }
  }

  public typealias VerifyError = UserError

  /// Checks every completed job, or a seeded random sample of `sample` of them, by re-running
  /// it and comparing every stored value (each `/runs` column but `wall_time`, and each vector
  /// of `/jobs/<key>`); and checks every row of `/runs`, sampled or not, against its job's own
  /// data (`consistencyProblems`), so that an edited table is caught even when its job is not
  /// in the sample.
  public static func verify(_ path: String, sample: Int? = nil, seed: UInt64 = 0) throws -> Report {
    let (provenance, records) = try ResultsFile.read(path)
    let done = records.filter { $0.status == .ok }
    guard !done.isEmpty else { throw VerifyError(description: "\(path): no completed jobs to verify") }
    var chosen = done
    if let sample, sample < done.count {
      var rng = RandomStream(seed: seed, key: "verify", purpose: "sample")
      chosen = rng.sample(sample, from: done.count).sorted().map { done[$0] }
    }
    let schema = ResultsFile.kind(provenance).schema
    var mismatches = try consistencyProblems(path, records: records, kind: ResultsFile.kind(provenance))

    let plan: ExperimentPlan
    do {
      plan = try ExperimentPlan(document: try ConfigDocument(text: provenance.resolvedConfig, file: provenance.configFile))
    } catch {
      throw VerifyError(description: "\(path): the stored config no longer loads: \(error)")
    }
    // Each chosen job is re-run in the batch it ran in: the rows of the file that share its
    // batch key (files that predate the key: the plan's group).
    let planned = Dictionary(plan.jobs.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
    let groups = Dictionary(grouping: plan.jobs, by: \.groupKey)
    // The members' keys, from a job's params (`batch`).
    func members(_ r: JobRecord) -> [String]? {
      guard let object = try? JSONSerialization.jsonObject(with: Data(r.parametersJSON.utf8)) as? [String: Any] else { return nil }
      return object["batch"] as? [String]
    }
    func batchID(_ r: JobRecord) -> String { r.batchKey.isEmpty ? "group " + r.groupKey : r.batchKey }
    let wanted = Set(chosen.map(batchID))
    BLASThreads.set(provenance.blasThreads)
    var rerun: [String: JobRecord] = [:]
    for id in wanted.sorted() {
      let sample = chosen.first { batchID($0) == id }!
      let keys = sample.batchKey.isEmpty ? nil : members(sample)
      let batch = keys.map { $0.compactMap { planned[$0] }.sorted { $0.index < $1.index } } ?? groups[sample.groupKey]
      guard let batch, !batch.isEmpty, keys.map({ $0.count == batch.count }) ?? true else {
        for r in chosen where batchID(r) == id {
          mismatches.append(Mismatch(key: r.key, what: "not in the plan rebuilt from the stored config"))
        }
        continue
      }
      let groupKey = id
      do {
        for r in try plan.kind.run(batch: batch) { rerun[r.key] = r }
      } catch {
        for r in chosen where batchID(r) == groupKey { mismatches.append(Mismatch(key: r.key, what: "re-run failed: \(error)")) }
      }
    }
    for stored in chosen {
      guard let fresh = rerun[stored.key] else { continue }
      let recomputed = Dictionary(fresh.storedValues(schema), uniquingKeysWith: { first, _ in first })
      for (name, value) in stored.storedValues(schema) {
        // A column the file does not hold (written before it existed) is not compared.
        if name.hasPrefix("/runs/"), !provenance.columns.isEmpty, !provenance.columns.contains(String(name.dropFirst(6))) { continue }
        guard let again = recomputed[name] else {
          mismatches.append(Mismatch(key: stored.key, what: "\(name): stored \(value), not produced by the re-run"))
          continue
        }
        if again != value {
          let detail = again.differingEntries(from: value) ?? "stored \(value), recomputed \(again)"
          mismatches.append(Mismatch(key: stored.key, what: "\(name): \(detail)"))
        }
      }
      let storedNames = Set(stored.storedValues(schema).map(\.name))
      for (name, value) in fresh.storedValues(schema) where !storedNames.contains(name) && provenance.columns.contains(String(name.dropFirst(6))) {
        mismatches.append(Mismatch(key: stored.key, what: "\(name): missing from the file, recomputed \(value)"))
      }
    }

    var causes: [String] = []
    if provenance.ggepVersion != BuildInfo.gitDescribe {
      causes.append("code version: file \(provenance.ggepVersion), this ggep \(BuildInfo.gitDescribe)")
    }
    if !provenance.blasCore.isEmpty, provenance.blasCore != MachineInfo.blasCore {
      causes.append(
        "BLAS kernels: the file was written with OpenBLAS core \(provenance.blasCore) (CPU \(provenance.cpuModel)), this machine uses "
          + "\(MachineInfo.blasCore) (CPU \(MachineInfo.cpuModel)); other kernels round differently, so last bits differ "
          + "(verify on a machine of the file's core, or set OPENBLAS_CORETYPE=\(provenance.blasCore) if this CPU supports it)")
    }
    causes += plan.kind.likelyCauses(stored: chosen, rerun: Array(rerun.values))
    if provenance.blasThreads != 1 {
      causes.append("BLAS threads: the file was written with \(provenance.blasThreads)")
    }
    return Report(checked: chosen.map(\.key), mismatches: mismatches, causes: causes, vectorNames: schema.vectors.map(\.name))
  }

  /// Every row of `/runs` against its own job's data, without re-running anything:
  /// `/jobs/<key>` exists (and no group lacks a row); its `status` and `error` attributes and
  /// the key, batch, signal and trial in its `params` match the row; and what the kind checks
  /// of a completed row against its vectors (`ExperimentKind.rowProblems`; GEP: `cosine`,
  /// `final_rho` and `iterations` are the last entries and length of its histories).
  package static func consistencyProblems(_ path: String, records: [JobRecord], kind: any ExperimentKind) throws -> [Mismatch] {
    var problems: [Mismatch] = []
    let file = try HDF5File.open(path)
    defer { try? file.close() }
    let jobs = try file.root.openGroup("jobs")
    let keys = Set(records.map(\.key))
    for name in try jobs.memberNames() where !keys.contains(name) {
      problems.append(Mismatch(key: name, what: "/jobs/\(name) has no row in /runs"))
    }
    for r in records {
      guard jobs.exists(r.key) else {
        problems.append(Mismatch(key: r.key, what: "/runs row \(r.planIndex) has no group /jobs/\(r.key)"))
        continue
      }
      let group = try jobs.openGroup(r.key)
      let status = (try? group.stringAttribute("status")) ?? "(absent)"
      if status != r.status.rawValue {
        problems.append(Mismatch(key: r.key, what: "/runs/status is \(r.status.rawValue), but /jobs/\(r.key) says \(status)"))
      }
      let error = (try? group.stringAttribute("error")) ?? "(absent)"
      if error != r.error {
        problems.append(Mismatch(key: r.key, what: "/runs/error disagrees with the error attribute of /jobs/\(r.key)"))
      }
      if let params = try? JSONSerialization.jsonObject(with: Data(r.parametersJSON.utf8)) as? [String: Any] {
        let expected: [(String, Any)] = [("job_key", r.key), ("group_key", r.groupKey), ("signal", r.signal), ("trial", r.trial)]
        for (field, value) in expected where "\(params[field] ?? "(absent)")" != "\(value)" {
          let column = field == "job_key" || field == "group_key" ? field : field
          problems.append(Mismatch(key: r.key, what: "/runs/\(column) is \(value), but the job's params say \(params[field] ?? "(absent)")"))
        }
      } else {
        problems.append(Mismatch(key: r.key, what: "/jobs/\(r.key): the params attribute is not JSON"))
      }
      guard r.status == .ok else { continue }
      for problem in kind.rowProblems(r) { problems.append(Mismatch(key: r.key, what: problem)) }
    }
    return problems
  }
}
