import GGEPCore
import GGEPModels
import GGEPNumerics
/// A job's stored values as `ggep verify` compares them: each `/runs` column (but wall time)
/// and each vector of `/jobs/<key>`, by its name in the file.
///
/// Reals compare by bit pattern (NaN equals the same NaN), so "equal" means bit for bit.
enum StoredValue: Equatable, CustomStringConvertible {
  case text(String)
  case integer(Int)
  case real(Double)
  case vector([Double])

  static func == (a: StoredValue, b: StoredValue) -> Bool {
    switch (a, b) {
    case (.text(let x), .text(let y)): return x == y
    case (.integer(let x), .integer(let y)): return x == y
    case (.real(let x), .real(let y)): return x.bitPattern == y.bitPattern
    case (.vector(let x), .vector(let y)): return x.map(\.bitPattern) == y.map(\.bitPattern)
    default: return false
    }
  }

  var description: String {
    switch self {
    case .text(let x): return x.debugDescription
    case .integer(let x): return String(x)
    case .real(let x): return "\(x)"
    case .vector(let x): return "\(x.count) entries"
    }
  }

  /// For a vector mismatch: how many entries differ.
  func differingEntries(from other: StoredValue) -> String? {
    guard case .vector(let x) = self, case .vector(let y) = other else { return nil }
    guard x.count == y.count else { return "\(y.count) entries, recomputed \(x.count)" }
    let count = zip(x, y).filter { $0.bitPattern != $1.bitPattern }.count
    return "differs in \(count) of \(x.count) entries"
  }
}

extension JobRecord {
  /// Every value the file stores for this job, named as in the file: `/runs/<column>` for the
  /// scalars (all but `wall_time`, a measurement) and `/jobs/<key>/<name>` for the vectors.
  var storedValues: [(name: String, value: StoredValue)] {
    let columns: [(String, StoredValue)] = [
      ("job_key", .text(key)), ("group_key", .text(groupKey)), ("plan_index", .integer(planIndex)), ("problem", .text(problem)),
      ("generator", .text(generator)), ("generator_checksum", .text(generatorChecksum)), ("algorithm", .text(algorithm)), ("projection", .text(projection)), ("m", .integer(m)),
      ("eta", .real(eta)), ("eta_lambda1", .real(etaLambda1)), ("seed", .integer(seed)), ("signal", .integer(signal)),
      ("signal_id", .text(signalID)), ("trial", .integer(trial)), ("status", .text(status.rawValue)), ("error", .text(error)),
      ("cosine", .real(cosine)), ("distance", .real(distance)), ("final_rho", .real(finalRho)), ("lambda1", .real(lambda1)),
      ("lambda2", .real(lambda2)), ("projection_loss", .real(projectionLoss)), ("iterations", .integer(iterations)),
      ("converged", .integer(converged ? 1 : 0)), ("batch_size", .integer(batchSize)), ("batch_key", .text(batchKey)), ("has_truth", .integer(hasTruth ? 1 : 0)),
      ("cosine_view1", .real(viewCosines.count == 2 ? viewCosines[0] : .nan)),
      ("cosine_view2", .real(viewCosines.count == 2 ? viewCosines[1] : .nan)),
    ]
    var values = columns.map { (name: "/runs/\($0.0)", value: $0.1) }
    for axis in sweepValues.keys.sorted() { values.append((name: "/runs/sweep.\(axis)", value: .text(sweepValues[axis]!))) }
    let vectors: [(String, [Double])] = [
      ("u_hat", estimate), ("v_star", signalVector), ("rho_history", rhoHistory), ("cosine_history", cosineHistory),
    ]
    values += vectors.map { (name: "/jobs/\(key)/\($0.0)", value: StoredValue.vector($0.1)) }
    return values
  }
}
