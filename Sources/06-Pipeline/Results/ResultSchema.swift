import GGEPConfig
/// The value of one job in one `/runs` column.
///
/// Reals compare by bit pattern, so equality means "bit for bit" (NaN equals the same NaN):
/// what `verify` and the round-trip tests need.
public enum ColumnValue: Sendable, Hashable, CustomStringConvertible {
  case text(String)
  case integer(Int)
  case real(Double)

  public static func == (a: ColumnValue, b: ColumnValue) -> Bool {
    switch (a, b) {
    case (.text(let x), .text(let y)): return x == y
    case (.integer(let x), .integer(let y)): return x == y
    case (.real(let x), .real(let y)): return x.bitPattern == y.bitPattern
    default: return false
    }
  }

  public func hash(into hasher: inout Hasher) {
    switch self {
    case .text(let x): hasher.combine(0); hasher.combine(x)
    case .integer(let x): hasher.combine(1); hasher.combine(x)
    case .real(let x): hasher.combine(2); hasher.combine(x.bitPattern)
    }
  }

  public var description: String {
    switch self {
    case .text(let x): return x.debugDescription
    case .integer(let x): return String(x)
    case .real(let x): return "\(x)"
    }
  }

  /// The value as a table shows it: text unquoted, numbers as `description` writes them.
  public func description(plain: Bool) -> String {
    if plain, case .text(let x) = self { return x }
    return description
  }

  public var text: String? { if case .text(let x) = self { return x } else { return nil } }
  public var integer: Int? { if case .integer(let x) = self { return x } else { return nil } }
  public var real: Double? { if case .real(let x) = self { return x } else { return nil } }
}

/// One `/runs` column of an experiment kind, declared once: its name, type, meaning (written
/// as the dataset's `description` attribute) and the value a file written before the column
/// existed is read with.
public struct ResultColumn: Sendable {
  public enum ValueType: Sendable { case text, integer, real }
  public let name: String
  public let type: ValueType
  public let description: String
  /// What a row of an older file that lacks the column holds (a kind may refine it in
  /// `ExperimentKind.upgrade`).
  public let missing: ColumnValue

  public init(_ name: String, _ type: ValueType, _ description: String, missing: ColumnValue? = nil) {
    self.name = name
    self.type = type
    self.description = description
    switch type {
    case .text: self.missing = missing ?? .text("")
    case .integer: self.missing = missing ?? .integer(0)
    case .real: self.missing = missing ?? .real(.nan)
    }
  }
}

/// A vector of `/jobs/<key>/` (float64).
public struct ResultVector: Sendable {
  public let name: String
  public let description: String
  public init(_ name: String, _ description: String) {
    self.name = name
    self.description = description
  }
}

/// What every job of a kind records: the columns of `/runs` beyond the generic ones
/// (`ResultSchema.identity`), and the vectors of `/jobs/<key>/`.
public struct ResultSchema: Sendable {
  public let columns: [ResultColumn]
  public let vectors: [ResultVector]

  public init(columns: [any AnyResultColumn], vectors: [ResultVector]) {
    self.columns = columns.map(\.declaration)
    self.vectors = vectors
  }

  /// The columns every kind has: where the job sits in the plan and in its batch, how it
  /// ended, and how long it took.
  public static let identity: [ResultColumn] = [
    ResultColumn("job_key", .text, "stable hash of the job's identifying settings, signal and trial"),
    ResultColumn("group_key", .text, "the plan's batch (jobs differing only in signal and trial)"),
    ResultColumn("batch_key", .text, "the batch the job ran in (hash of its members' keys): verify re-runs exactly it"),
    ResultColumn("plan_index", .integer, "position in the plan: the row order, also across shards"),
    ResultColumn("signal", .integer, "signal (image) index within the experiment"),
    ResultColumn("trial", .integer, "independent data draw"),
    ResultColumn("status", .text, "ok or failed"),
    ResultColumn("error", .text, "why a job failed"),
    ResultColumn("wall_time", .real, "seconds (batch time / batch size)"),
    ResultColumn("batch_size", .integer, "jobs in the batch"),
  ]

  public var allColumns: [ResultColumn] { Self.identity + columns }
}
