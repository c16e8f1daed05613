/// A Swift type a `/runs` column can hold: what it is stored as, and how it is read back.
///
/// `Bool` is stored as an integer column (0 or 1), so files stay readable by any HDF5 tool.
public protocol ColumnType: Sendable {
  /// The column's storage in the file.
  static var storage: ResultColumn.ValueType { get }
  /// What a row of a file written before the column existed holds, unless the column says.
  static var defaultMissing: Self { get }
  /// The stored value, or nil when it has another type.
  init?(stored: ColumnValue)
  var stored: ColumnValue { get }
}

extension String: ColumnType {
  public static var storage: ResultColumn.ValueType { .text }
  public static var defaultMissing: String { "" }
  public init?(stored: ColumnValue) {
    guard let x = stored.text else { return nil }
    self = x
  }
  public var stored: ColumnValue { .text(self) }
}

extension Int: ColumnType {
  public static var storage: ResultColumn.ValueType { .integer }
  public static var defaultMissing: Int { 0 }
  public init?(stored: ColumnValue) {
    guard let x = stored.integer else { return nil }
    self = x
  }
  public var stored: ColumnValue { .integer(self) }
}

extension Double: ColumnType {
  public static var storage: ResultColumn.ValueType { .real }
  public static var defaultMissing: Double { .nan }
  public init?(stored: ColumnValue) {
    guard let x = stored.real else { return nil }
    self = x
  }
  public var stored: ColumnValue { .real(self) }
}

extension Bool: ColumnType {
  public static var storage: ResultColumn.ValueType { .integer }
  public static var defaultMissing: Bool { false }
  public init?(stored: ColumnValue) {
    guard let x = stored.integer else { return nil }
    self = x != 0
  }
  public var stored: ColumnValue { .integer(self ? 1 : 0) }
}

/// One `/runs` column of a kind, typed: declared once (name, meaning, the value of a row that
/// predates it), and the only way a kind reads or writes it (`record[column]`). A misspelt
/// column is a compile error, not a silently empty value.
///
/// Its untyped `declaration` is what the schema, the writer, the reader, `verify`, summaries
/// and reports work from.
public struct Column<Value: ColumnType>: Sendable, AnyResultColumn {
  public let declaration: ResultColumn
  /// The value a row without the column holds.
  public let missing: Value
  public var name: String { declaration.name }

  public init(_ name: String, _ description: String, missing: Value = Value.defaultMissing) {
    self.missing = missing
    declaration = ResultColumn(name, Value.storage, description, missing: missing.stored)
  }
}

/// A declared column of any type: what a schema is listed from.
public protocol AnyResultColumn: Sendable {
  var declaration: ResultColumn { get }
}

extension ResultColumn: AnyResultColumn {
  public var declaration: ResultColumn { self }
}

extension JobRecord {
  /// The job's value of one of its kind's columns (its declared missing value when absent).
  public subscript<Value>(column: Column<Value>) -> Value {
    get { values[column.name].flatMap(Value.init(stored:)) ?? column.missing }
    set { values[column.name] = newValue.stored }
  }

  /// One of the job's `/jobs/<key>/` vectors (empty when absent, or read without vectors).
  public subscript(vector: ResultVector) -> [Double] {
    get { vectors[vector.name] ?? [] }
    set { vectors[vector.name] = newValue }
  }
}
