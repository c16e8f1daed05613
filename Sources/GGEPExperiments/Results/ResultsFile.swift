import Foundation
import GGEPCore
import GGEPModels
import GGEPNumerics

/// The results file format (one per run of a config), readable with h5py/pandas alone:
///
///     /                 attrs: format, name, config_file, config, resolved_config, config_hash,
///                              overrides (JSON list), ggep_version, created, blas_threads,
///                              sweep_axes (JSON list), planned_jobs, shard ("i/N" or ""),
///                              blas_core (OpenBLAS kernels), cpu_model
///     /runs/<column>    one 1-D dataset per field, one row per job (see `ResultsFile.columns`);
///                       swept values as string columns `sweep.<config path>`
///     /jobs/<key>/      u_hat, v_star, rho_history, cosine_history; attrs params (JSON),
///                       status, error
///
/// Files are only ever written whole (`writeHDF5Atomically`): a reader never sees a half-written
/// job, and a crash leaves the previous file intact.
public enum ResultsFile {
  public static let format = "ggep-results/1"

  /// The fixed `/runs` columns and what they hold (README's layout table is generated from
  /// the same list by `ggep inspect --columns`).
  public static let columns: [(name: String, meaning: String)] = [
    ("job_key", "stable hash of the job's expanded parameters"),
    ("group_key", "the batch it ran in (jobs differing only in signal and trial)"),
    ("plan_index", "position in the plan: the row order, also across shards"),
    ("problem", "problem label, e.g. eq24, eq25-square, eq24-toeplitz(r=0.5)"),
    ("generator", "generator label (a trained model's checksum shortened; see generator_checksum)"),
    ("generator_checksum", "full SHA-256 of a trained generator's weights; empty for seeded generators"),
    ("algorithm", "PRFM, PPower, Rifle<s>"),
    ("projection", "projector and its settings"), ("m", "number of samples"),
    ("eta", "step size η of the instance (NaN for PPower)"),
    ("eta_lambda1", "η·λ1 of the instance: the configured value for an eta_lambda1 step (NaN for PPower, or λ1 unknown)"), ("seed", "sweep seed"), ("signal", "signal (image) index within the experiment"),
    ("signal_id", "what the signal is: mnist-test[3127], generator[2], …"),
    ("trial", "independent data draw"), ("status", "ok or failed"), ("error", "why a job failed"),
    ("cosine", "|⟨û, v*⟩|"), ("distance", "‖û − v*‖, sign-aligned"), ("final_rho", "ρ(û) = ûᵀÂû / ûᵀB̂û"),
    ("lambda1", "population λ1"), ("lambda2", "population λ2"), ("projection_loss", "last projection loss"),
    ("iterations", "iterations run"), ("converged", "1 if stopped by tolerance"),
    ("wall_time", "seconds (batch time / batch size)"), ("batch_size", "jobs in the batch"),
    ("batch_key", "the batch the job ran in (hash of its members' keys): verify re-runs exactly it"),
    ("has_truth", "1 if there is a v* (0: user data without truth; cosine and distance are then NaN)"),
    ("cosine_view1", "gcca: |⟨a*, â⟩| of the normalised first half of û (NaN for other problems)"),
    ("cosine_view2", "gcca: |⟨b*, b̂⟩| of the normalised second half of û (NaN for other problems)"),
  ]

  public static func write(_ records: [JobRecord], provenance: RunProvenance, to path: String) throws {
    try writeHDF5Atomically(to: path) { file in
      let root = file.root
      try root.setAttribute("format", format)
      try root.setAttribute("name", provenance.name)
      try root.setAttribute("config_file", provenance.configFile)
      try root.setAttribute("config", provenance.configText)
      try root.setAttribute("resolved_config", provenance.resolvedConfig)
      try root.setAttribute("config_hash", provenance.configHash)
      try root.setAttribute("overrides", jsonList(provenance.overrides))
      try root.setAttribute("ggep_version", provenance.ggepVersion)
      try root.setAttribute("created", provenance.created)
      try root.setAttribute("blas_threads", Int64(provenance.blasThreads))
      try root.setAttribute("sweep_axes", jsonList(provenance.sweepAxes))
      try root.setAttribute("planned_jobs", Int64(provenance.plannedJobs))
      try root.setAttribute("shard", provenance.shard)
      try root.setAttribute("blas_core", provenance.blasCore)
      try root.setAttribute("cpu_model", provenance.cpuModel)

      let runs = try root.createGroup("runs")
      try runs.write("job_key", strings: records.map(\.key))
      try runs.write("group_key", strings: records.map(\.groupKey))
      try runs.write("plan_index", records.map { Int64($0.planIndex) })
      try runs.write("problem", strings: records.map(\.problem))
      try runs.write("generator", strings: records.map(\.generator))
      try runs.write("generator_checksum", strings: records.map(\.generatorChecksum))
      try runs.write("algorithm", strings: records.map(\.algorithm))
      try runs.write("projection", strings: records.map(\.projection))
      try runs.write("m", records.map { Int64($0.m) })
      try runs.write("eta", records.map(\.eta))
      try runs.write("eta_lambda1", records.map(\.etaLambda1))
      try runs.write("seed", records.map { Int64($0.seed) })
      try runs.write("signal", records.map { Int64($0.signal) })
      try runs.write("signal_id", strings: records.map(\.signalID))
      try runs.write("trial", records.map { Int64($0.trial) })
      try runs.write("status", strings: records.map(\.status.rawValue))
      try runs.write("error", strings: records.map(\.error))
      try runs.write("cosine", records.map(\.cosine))
      try runs.write("distance", records.map(\.distance))
      try runs.write("final_rho", records.map(\.finalRho))
      try runs.write("lambda1", records.map(\.lambda1))
      try runs.write("lambda2", records.map(\.lambda2))
      try runs.write("projection_loss", records.map(\.projectionLoss))
      try runs.write("iterations", records.map { Int64($0.iterations) })
      try runs.write("converged", records.map { Int64($0.converged ? 1 : 0) })
      try runs.write("wall_time", records.map(\.wallTime))
      try runs.write("batch_size", records.map { Int64($0.batchSize) })
      try runs.write("batch_key", strings: records.map(\.batchKey))
      try runs.write("has_truth", records.map { Int64($0.hasTruth ? 1 : 0) })
      try runs.write("cosine_view1", records.map { $0.viewCosines.count == 2 ? $0.viewCosines[0] : .nan })
      try runs.write("cosine_view2", records.map { $0.viewCosines.count == 2 ? $0.viewCosines[1] : .nan })
      for axis in Set(records.flatMap(\.sweepValues.keys)).sorted() {
        try runs.write("sweep.\(axis)", strings: records.map { $0.sweepValues[axis] ?? "" })
        try runs.setAttribute("description", "the swept value of config path \(axis) (empty where it was not swept)", on: "sweep.\(axis)")
      }
      // Each column says what it holds, for whoever opens the file without this README.
      for (name, meaning) in columns { try runs.setAttribute("description", meaning, on: name) }

      let jobs = try root.createGroup("jobs")
      for record in records {
        let group = try jobs.createGroup(record.key)
        try group.write("u_hat", record.estimate)
        try group.write("v_star", record.signalVector)
        try group.write("rho_history", record.rhoHistory)
        try group.write("cosine_history", record.cosineHistory)
        try group.setAttribute("params", record.parametersJSON)
        try group.setAttribute("status", record.status.rawValue)
        try group.setAttribute("error", record.error)
      }
    }
  }

  /// Reads a whole results file (`withVectors: false` skips the vectors of `/jobs`, for tables;
  /// `withParameters` still reads each job's `params`, for the resume check).
  public static func read(
    _ path: String, withVectors: Bool = true, withParameters: Bool? = nil
  ) throws -> (provenance: RunProvenance, records: [JobRecord]) {
    let withParameters = withParameters ?? withVectors
    let file: HDF5File
    do {
      file = try HDF5File.open(path)
    } catch let error as HDF5Error where error.message.hasPrefix("could not open file") {
      // A truncated or damaged file (a full disk, an interrupted copy): say what to do.
      throw HDF5Error(
        path: path, object: "",
        message: "\(error.message); the file is damaged. If `ggep run` wrote it, run its config again: the run says how to "
          + "recover (README, \"Crash safety\")")
    }
    defer { try? file.close() }
    let root = file.root
    guard (try? root.stringAttribute("format")) == format else {
      throw HDF5Error(path: path, object: "/", message: "not a ggep results file (attribute format is not \(format))")
    }
    var provenance = RunProvenance(
      name: try root.stringAttribute("name"), configFile: try root.stringAttribute("config_file"),
      configText: try root.stringAttribute("config"), resolvedConfig: try root.stringAttribute("resolved_config"),
      configHash: try root.stringAttribute("config_hash"), overrides: parseList(try root.stringAttribute("overrides")),
      ggepVersion: try root.stringAttribute("ggep_version"), created: try root.stringAttribute("created"),
      blasThreads: Int(try root.int64Attribute("blas_threads")),
      sweepAxes: parseList(try root.stringAttribute("sweep_axes")), plannedJobs: Int(try root.int64Attribute("planned_jobs")),
      shard: (try? root.stringAttribute("shard")) ?? "")
    provenance.blasCore = (try? root.stringAttribute("blas_core")) ?? ""
    provenance.cpuModel = (try? root.stringAttribute("cpu_model")) ?? ""

    let runs = try root.openGroup("runs")
    provenance.columns = Set(try runs.memberNames())
    func strings(_ name: String) throws -> [String] { try runs.readStrings(name) }
    func doubles(_ name: String) throws -> [Double] { try runs.readDoubles(name).values }
    func ints(_ name: String) throws -> [Int] { try runs.readInt64s(name).values.map { Int($0) } }
    let keys = try strings("job_key")
    let (groupKeys, problems, generators, algorithms, projections) = (
      try strings("group_key"), try strings("problem"), try strings("generator"), try strings("algorithm"), try strings("projection")
    )
    let planIndices = try ints("plan_index")
    let (ms, etas, seeds, signals, trials) = (try ints("m"), try doubles("eta"), try ints("seed"), try ints("signal"), try ints("trial"))
    let (statuses, errors) = (try strings("status"), try strings("error"))
    let signalIDs = try strings("signal_id")
    let (cosines, distances, rhos, l1s, l2s, losses) = (
      try doubles("cosine"), try doubles("distance"), try doubles("final_rho"), try doubles("lambda1"), try doubles("lambda2"),
      try doubles("projection_loss")
    )
    let (iterations, converged, times, sizes) = (try ints("iterations"), try ints("converged"), try doubles("wall_time"), try ints("batch_size"))
    // Files written before the column existed had absolute steps only: η·λ1 follows.
    let etaLambda1s = runs.exists("eta_lambda1") ? try doubles("eta_lambda1") : zip(etas, l1s).map { $0 * $1 }
    // Files written before the column existed always had a v*.
    let hasTruth = runs.exists("has_truth") ? try ints("has_truth").map { $0 != 0 } : [Bool](repeating: true, count: keys.count)
    // GCCA's per-view cosines; absent in older files, all-NaN rows are non-GCCA jobs.
    let viewColumns = runs.exists("cosine_view1") && runs.exists("cosine_view2") ? (try doubles("cosine_view1"), try doubles("cosine_view2")) : nil
    let batchKeys = runs.exists("batch_key") ? try strings("batch_key") : [String](repeating: "", count: keys.count)
    let generatorChecksums = runs.exists("generator_checksum") ? try strings("generator_checksum") : [String](repeating: "", count: keys.count)
    var sweepColumns: [String: [String]] = [:]
    for name in try runs.memberNames() where name.hasPrefix("sweep.") {
      sweepColumns[String(name.dropFirst("sweep.".count))] = try strings(name)
    }
    let jobs = withVectors || withParameters ? try root.openGroup("jobs") : nil

    var records: [JobRecord] = []
    records.reserveCapacity(keys.count)
    for i in keys.indices {
      var sweepValues: [String: String] = [:]
      for (axis, column) in sweepColumns where !column[i].isEmpty { sweepValues[axis] = column[i] }
      var record = JobRecord(
        key: keys[i], groupKey: groupKeys[i], planIndex: planIndices[i], problem: problems[i], generator: generators[i], algorithm: algorithms[i],
        projection: projections[i], m: ms[i], eta: etas[i], etaLambda1: etaLambda1s[i], seed: seeds[i], signal: signals[i], signalID: signalIDs[i], trial: trials[i],
        sweepValues: sweepValues, parametersJSON: "", status: JobRecord.Status(rawValue: statuses[i]) ?? .failed,
        error: errors[i], cosine: cosines[i], distance: distances[i], finalRho: rhos[i], lambda1: l1s[i], lambda2: l2s[i],
        projectionLoss: losses[i], iterations: iterations[i], converged: converged[i] != 0, wallTime: times[i],
        batchSize: sizes[i], estimate: [], signalVector: [], rhoHistory: [], cosineHistory: [], hasTruth: hasTruth[i],
        viewCosines: viewColumns.map { columns in
          columns.0[i].isNaN && columns.1[i].isNaN && !problems[i].hasPrefix("gcca") ? [] : [columns.0[i], columns.1[i]]
        } ?? [])
      record.generatorChecksum = generatorChecksums[i]
      record.batchKey = batchKeys[i]
      if let jobs {
        let group = try jobs.openGroup(keys[i])
        if withVectors {
          record.estimate = try group.readDoubles("u_hat").values
          record.signalVector = try group.readDoubles("v_star").values
          record.rhoHistory = try group.readDoubles("rho_history").values
          record.cosineHistory = try group.readDoubles("cosine_history").values
        }
        record.parametersJSON = try group.stringAttribute("params")
      }
      records.append(record)
    }
    return (provenance, records)
  }

  static func jsonList(_ items: [String]) -> String {
    let data = try! JSONSerialization.data(withJSONObject: items, options: [.sortedKeys])
    return String(decoding: data, as: UTF8.self)
  }

  static func parseList(_ text: String) -> [String] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String] ?? []
  }
}
