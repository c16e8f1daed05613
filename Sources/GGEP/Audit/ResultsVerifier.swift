import Foundation

/// `ggep verify` (SPEC 9, "Audit"): re-runs finished jobs from a results file's own provenance
/// and compares û and the ρ and cosine histories bit for bit.
///
/// The plan is rebuilt from the resolved config stored in the file. A job is re-run inside its
/// whole batch, because a row's last bits may depend on the batch it sat in (TOOLCHAIN): the
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
    public var passed: Bool { mismatches.isEmpty }
  }

  public struct VerifyError: Error, CustomStringConvertible {
    public let description: String
  }

  /// Checks every completed job, or a seeded random sample of `sample` of them.
  public static func verify(_ path: String, sample: Int? = nil, seed: UInt64 = 0) throws -> Report {
    let (provenance, records) = try ResultsFile.read(path)
    let done = records.filter { $0.status == .ok }
    guard !done.isEmpty else { throw VerifyError(description: "\(path): no completed jobs to verify") }
    var chosen = done
    if let sample, sample < done.count {
      var rng = RandomStream(seed: seed, key: "verify", purpose: "sample")
      chosen = rng.sample(sample, from: done.count).sorted().map { done[$0] }
    }

    let plan: ExperimentPlan
    do {
      plan = try ExperimentPlan(document: try ConfigDocument(text: provenance.resolvedConfig, file: provenance.configFile))
    } catch {
      throw VerifyError(description: "\(path): the stored config no longer loads: \(error)")
    }
    let batches = Dictionary(grouping: plan.jobs, by: \.groupKey)
    var mismatches: [Mismatch] = []
    let wanted = Set(chosen.map(\.groupKey))
    BLASThreads.set(provenance.blasThreads)
    var rerun: [String: JobRecord] = [:]
    for groupKey in wanted.sorted() {
      guard let batch = batches[groupKey] else {
        for r in chosen where r.groupKey == groupKey {
          mismatches.append(Mismatch(key: r.key, what: "not in the plan rebuilt from the stored config"))
        }
        continue
      }
      do {
        for r in try BatchRunner().run(batch) { rerun[r.key] = r }
      } catch {
        for r in chosen where r.groupKey == groupKey { mismatches.append(Mismatch(key: r.key, what: "re-run failed: \(error)")) }
      }
    }
    for stored in chosen {
      guard let fresh = rerun[stored.key] else { continue }
      let bits = { (x: [Double]) in x.map(\.bitPattern) }
      if bits(fresh.estimate) != bits(stored.estimate) {
        let differing = zip(fresh.estimate, stored.estimate).filter { $0.bitPattern != $1.bitPattern }.count
        mismatches.append(Mismatch(key: stored.key, what: "û differs in \(differing) of \(stored.estimate.count) entries"))
      } else if bits(fresh.rhoHistory) != bits(stored.rhoHistory) {
        mismatches.append(Mismatch(key: stored.key, what: "ρ history differs"))
      } else if bits(fresh.cosineHistory) != bits(stored.cosineHistory) {
        mismatches.append(Mismatch(key: stored.key, what: "cosine history differs"))
      } else if fresh.status != stored.status {
        mismatches.append(Mismatch(key: stored.key, what: "status \(fresh.status.rawValue), stored \(stored.status.rawValue)"))
      }
    }

    var causes: [String] = []
    if provenance.ggepVersion != BuildInfo.gitDescribe {
      causes.append("code version: file \(provenance.ggepVersion), this ggep \(BuildInfo.gitDescribe)")
    }
    let storedGenerators = Set(chosen.map(\.generator))
    let currentGenerators = Set(rerun.values.map(\.generator))
    if !rerun.isEmpty, storedGenerators != currentGenerators {
      causes.append("generator/model: file \(storedGenerators.sorted().joined(separator: ", ")), now \(currentGenerators.sorted().joined(separator: ", "))")
    }
    if provenance.blasThreads != 1 {
      causes.append("BLAS threads: the file was written with \(provenance.blasThreads)")
    }
    return Report(checked: chosen.map(\.key), mismatches: mismatches, causes: causes)
  }
}
