/// A job's stored values as `ggep verify` compares them: each `/runs` column (but wall time)
/// and each vector of `/jobs/<key>`, by its name in the file.
///
/// Reals compare by bit pattern (NaN equals the same NaN), so "equal" means bit for bit.
package enum StoredValue: Equatable, CustomStringConvertible {
  case text(String)
  case integer(Int)
  case real(Double)
  case vector([Double])

  package static func == (a: StoredValue, b: StoredValue) -> Bool {
    switch (a, b) {
    case (.text(let x), .text(let y)): return x == y
    case (.integer(let x), .integer(let y)): return x == y
    case (.real(let x), .real(let y)): return x.bitPattern == y.bitPattern
    case (.vector(let x), .vector(let y)): return x.map(\.bitPattern) == y.map(\.bitPattern)
    default: return false
    }
  }

  package var description: String {
    switch self {
    case .text(let x): return x.debugDescription
    case .integer(let x): return String(x)
    case .real(let x): return "\(x)"
    case .vector(let x): return "\(x.count) entries"
    }
  }

  /// For a vector mismatch: how many entries differ.
  package func differingEntries(from other: StoredValue) -> String? {
    guard case .vector(let x) = self, case .vector(let y) = other else { return nil }
    guard x.count == y.count else { return "\(y.count) entries, recomputed \(x.count)" }
    let count = zip(x, y).filter { $0.bitPattern != $1.bitPattern }.count
    return "differs in \(count) of \(x.count) entries"
  }
}

extension JobRecord {
  /// Every value the file stores for this job, named as in the file: `/runs/<column>` for
  /// each column of `schema` and each swept value (all but `wall_time`, a measurement), and
  /// `/jobs/<key>/<name>` for each vector.
  package func storedValues(_ schema: ResultSchema) -> [(name: String, value: StoredValue)] {
    var values: [(name: String, value: StoredValue)] = []
    for column in schema.allColumns where column.name != "wall_time" {
      let value = self.value(of: column.name) ?? column.missing
      let stored: StoredValue
      switch value {
      case .text(let x): stored = .text(x)
      case .integer(let x): stored = .integer(x)
      case .real(let x): stored = .real(x)
      }
      values.append((name: "/runs/\(column.name)", value: stored))
    }
    for axis in sweepValues.keys.sorted() { values.append((name: "/runs/sweep.\(axis)", value: .text(sweepValues[axis]!))) }
    for vector in schema.vectors {
      values.append((name: "/jobs/\(key)/\(vector.name)", value: StoredValue.vector(self.vectors[vector.name] ?? [])))
    }
    return values
  }
}
