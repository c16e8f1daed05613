import GGEPCore
/// A problem with the user's configuration, reported as
/// `configs/x.yaml:12: algorithm.eta: must be > 0, got -0.1`.
///
/// Every config failure is one of these values rather than a trap, so the CLI can print it and
/// exit before any job runs. The four parts (file, line, key path, message with the offending
/// value) are kept separately so tests and tools can check them without parsing text.
public struct ConfigError: UserFacingError, Sendable, Hashable {
  /// The file the bad value came from, or `--set` for a command-line override.
  public var file: String
  /// 1-based; nil when there is no line to point at (overrides, unreadable files).
  public var line: Int?
  public var column: Int?
  /// Dotted key path with list indices (`sweep.m[2]`); empty for whole-file problems.
  public var keyPath: String
  /// What is wrong, including the offending value where there is one.
  public var message: String
  /// Where in the sweep the problem arose (e.g. `sweep point 3 of 12: m=50`), when the value
  /// is only wrong in combination with a swept value.
  public var context: String?

  public init(
    file: String, line: Int? = nil, column: Int? = nil, keyPath: String = "", message: String,
    context: String? = nil
  ) {
    self.file = file
    self.line = line
    self.column = column
    self.keyPath = keyPath
    self.message = message
    self.context = context
  }

  /// An error located at `mark`, about the value at `path`.
  public init(at mark: SourceMark, path: ConfigPath, _ message: String) {
    self.init(
      file: mark.file, line: mark.line > 0 ? mark.line : nil,
      column: mark.line > 0 && mark.column > 0 ? mark.column : nil,
      keyPath: path.description, message: message)
  }

  public var description: String {
    var text = file
    if let line { text += ":\(line)" }
    text += ": "
    if !keyPath.isEmpty { text += "\(keyPath): " }
    text += message
    if let context { text += " (\(context))" }
    return text
  }
}
