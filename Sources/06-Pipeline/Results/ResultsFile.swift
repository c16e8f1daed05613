import Foundation
import GGEPCore
import GGEPConfig

/// The results file format (one per run of a config), readable with h5py/pandas alone:
///
///     /                 attrs: format, experiment (the kind), name, config_file, config,
///                              resolved_config, config_hash (SHA-256 of the resolved config's
///                              canonical JSON), config_hash_scheme, overrides (JSON list), ggep_version,
///                              created, blas_threads, sweep_axes (JSON list), planned_jobs,
///                              shard ("i/N" or ""), blas_core (OpenBLAS kernels), cpu_model
///     /runs/<column>    one 1-D dataset per column, one row per job: the generic columns
///                       (`ResultSchema.identity`) and the kind's (`ExperimentKind.schema`), each
///                       with a `description` attribute; swept values as string columns
///                       `sweep.<config path>`
///     /jobs/<key>/      the kind's vectors (GEP: u_hat, v_star, rho_history, cosine_history),
///                       each described by an attribute `description.<name>` of /jobs;
///                       attrs params (JSON), status, error
///
/// Files are only ever written whole (`writeHDF5Atomically`): a reader never sees a half-written
/// job, and a crash leaves the previous file intact.
public enum ResultsFile {
  public static let format = "ggep-results/1"

  /// The kind of a provenance (GEP for files that predate kinds).
  public static func kind(_ provenance: RunProvenance) -> any ExperimentKind {
    ExperimentKinds.named(provenance.experiment) ?? ExperimentKinds.defaultKind
  }

  public static func write(_ records: [JobRecord], provenance: RunProvenance, to path: String) throws {
    let schema = kind(provenance).schema
    try writeHDF5Atomically(to: path) { file in
      let root = file.root
      try root.setAttribute("format", format)
      try root.setAttribute("experiment", provenance.experiment)
      try root.setAttribute("name", provenance.name)
      try root.setAttribute("config_file", provenance.configFile)
      try root.setAttribute("config", provenance.configText)
      try root.setAttribute("resolved_config", provenance.resolvedConfig)
      try root.setAttribute("config_hash", provenance.configHash)
      try root.setAttribute("config_hash_scheme", ConfigDocument.configHashScheme)
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
      for column in schema.allColumns {
        let values = records.map { $0.value(of: column.name) ?? column.missing }
        switch column.type {
        case .text: try runs.write(column.name, strings: values.map { $0.text ?? "" })
        case .integer: try runs.write(column.name, values.map { Int64($0.integer ?? 0) })
        case .real: try runs.write(column.name, values.map { $0.real ?? .nan })
        }
        // Each column says what it holds, for whoever opens the file without the README.
        try runs.setAttribute("description", column.description, on: column.name)
      }
      for axis in Set(records.flatMap(\.sweepValues.keys)).sorted() {
        try runs.write("sweep.\(axis)", strings: records.map { $0.sweepValues[axis] ?? "" })
        try runs.setAttribute("description", "the swept value of config path \(axis) (empty where it was not swept)", on: "sweep.\(axis)")
      }

      let jobs = try root.createGroup("jobs")
      // What each job's vectors hold, once for all jobs (an attribute per dataset would repeat
      // it thousands of times).
      for vector in schema.vectors { try jobs.setAttribute("description.\(vector.name)", vector.description) }
      for record in records {
        let group = try jobs.createGroup(record.key)
        for vector in schema.vectors { try group.write(vector.name, record.vectors[vector.name] ?? []) }
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
          + "recover (docs/results-format.md, \"Crash safety\")")
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
    if (try? root.stringAttribute("config_hash_scheme")) != ConfigDocument.configHashScheme {
      // Written before the canonical hash (its config_hash is SHA-256 of the YAML text): the
      // identity follows from the resolved config the file stores, so it compares with today's.
      if let tree = try? ConfigNode.parse(yaml: provenance.resolvedConfig, file: path) {
        provenance.configHash = ConfigDocument.configHash(of: tree)
      }
    }
    provenance.experiment = (try? root.stringAttribute("experiment")) ?? "gep"
    provenance.blasCore = (try? root.stringAttribute("blas_core")) ?? ""
    provenance.cpuModel = (try? root.stringAttribute("cpu_model")) ?? ""
    guard let kind = ExperimentKinds.named(provenance.experiment) else {
      throw HDF5Error(
        path: path, object: "/",
        message: "experiment kind \"\(provenance.experiment)\" is not one this ggep knows (\(ExperimentKinds.all.map(\.name).joined(separator: ", ")))")
    }

    let runs = try root.openGroup("runs")
    let present = Set(try runs.memberNames())
    provenance.columns = present
    let keys = try runs.readStrings("job_key")
    var columns: [String: [ColumnValue]] = [:]
    for column in kind.schema.allColumns where column.name != "job_key" {
      guard present.contains(column.name) else {
        columns[column.name] = [ColumnValue](repeating: column.missing, count: keys.count)
        continue
      }
      switch column.type {
      case .text: columns[column.name] = try runs.readStrings(column.name).map(ColumnValue.text)
      case .integer: columns[column.name] = try runs.readInt64s(column.name).values.map { .integer(Int($0)) }
      case .real: columns[column.name] = try runs.readDoubles(column.name).values.map(ColumnValue.real)
      }
      guard columns[column.name]!.count == keys.count else {
        throw HDF5Error(path: path, object: "/runs/\(column.name)", message: "has \(columns[column.name]!.count) rows, job_key has \(keys.count)")
      }
    }
    var sweepColumns: [String: [String]] = [:]
    for name in present where name.hasPrefix("sweep.") {
      sweepColumns[String(name.dropFirst("sweep.".count))] = try runs.readStrings(name)
    }
    let jobs = withVectors || withParameters ? try root.openGroup("jobs") : nil

    var records: [JobRecord] = []
    records.reserveCapacity(keys.count)
    for i in keys.indices {
      func value(_ name: String) -> ColumnValue { columns[name]![i] }
      var sweepValues: [String: String] = [:]
      for (axis, column) in sweepColumns where !column[i].isEmpty { sweepValues[axis] = column[i] }
      var values: [String: ColumnValue] = [:]
      for column in kind.schema.columns { values[column.name] = value(column.name) }
      var record = JobRecord(
        key: keys[i], groupKey: value("group_key").text ?? "", batchKey: value("batch_key").text ?? "",
        planIndex: value("plan_index").integer ?? 0, signal: value("signal").integer ?? 0, trial: value("trial").integer ?? 0,
        sweepValues: sweepValues, parametersJSON: "", status: JobRecord.Status(rawValue: value("status").text ?? "") ?? .failed,
        error: value("error").text ?? "", wallTime: value("wall_time").real ?? .nan, batchSize: value("batch_size").integer ?? 0,
        values: values, vectors: [:])
      kind.upgrade(&record, columns: present)
      if let jobs {
        let group = try jobs.openGroup(keys[i])
        if withVectors {
          for vector in kind.schema.vectors where group.exists(vector.name) {
            record.vectors[vector.name] = try group.readDoubles(vector.name).values
          }
        }
        record.parametersJSON = try group.stringAttribute("params")
      }
      records.append(record)
    }
    return (provenance, records)
  }

  package static func jsonList(_ items: [String]) -> String {
    let data = try! JSONSerialization.data(withJSONObject: items, options: [.sortedKeys])
    return String(decoding: data, as: UTF8.self)
  }

  package static func parseList(_ text: String) -> [String] {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String] ?? []
  }
}
