import GGEPCore
/// Where a config node was written: the file (or `--set` for command-line overrides) and the
/// 1-based line and column. Line 0 means "no line" (overrides, synthesised nodes), so error
/// messages omit it instead of pointing at a line that does not exist.
public struct SourceMark: Hashable, Sendable, Codable, CustomStringConvertible {
  public var file: String
  public var line: Int
  public var column: Int

  public init(file: String, line: Int, column: Int) {
    self.file = file
    self.line = line
    self.column = column
  }

  /// The mark of nodes that come from `--set name=value` on the command line.
  public static let commandLine = SourceMark(file: "--set", line: 0, column: 0)

  public var description: String { line > 0 ? "\(file):\(line)" : file }
}

/// One entry of a config mapping. The key keeps its own mark because errors about the key
/// itself (unknown key, duplicate key) should point at the key, not at its value, which for a
/// nested mapping starts on the next line.
public struct ConfigEntry: Hashable, Sendable {
  public var key: String
  public var keyMark: SourceMark
  public var value: ConfigNode

  public init(key: String, keyMark: SourceMark, value: ConfigNode) {
    self.key = key
    self.keyMark = keyMark
    self.value = value
  }
}

/// A YAML tree reduced to what configs need, with provenance on every node.
///
/// Scalars keep their raw text instead of a resolved type: the typed readers decide what a
/// scalar means for the key being read, so `"3"` (quoted) is never silently an integer and
/// `m: 2.5` can be reported as "expected an integer" rather than truncated. Mappings keep
/// their written order, because sweep axes combine in the order they are written.
///
/// Equality and hashing ignore marks (and quotes that change nothing): two trees are equal
/// when they say the same thing, wherever and however they were written.
public struct ConfigNode: Sendable, CustomStringConvertible {
  public enum Content: Hashable, Sendable {
    /// The scalar's text and whether it was quoted (or a block scalar, or tagged `!!str`),
    /// i.e. explicitly a string.
    case scalar(String, quoted: Bool)
    case sequence([ConfigNode])
    case mapping([ConfigEntry])

    /// Quoting only changes a scalar's meaning when the plain text would read as something
    /// other than a string (`"3"` vs `3`), so `"abc"` and `abc` compare equal; so do the
    /// spellings of null (empty, `~`, `null`).
    public static func == (lhs: Content, rhs: Content) -> Bool {
      switch (lhs, rhs) {
      case (.scalar(let a, let quotedA), .scalar(let b, let quotedB)):
        if !quotedA && !quotedB && YAMLScalarClass.isNull(a) && YAMLScalarClass.isNull(b) { return true }
        return a == b && (quotedA == quotedB || !YAMLScalarClass.resolvesToNonString(a))
      case (.sequence(let a), .sequence(let b)):
        return a == b
      case (.mapping(let a), .mapping(let b)):
        return a == b
      default:
        return false
      }
    }

    public func hash(into hasher: inout Hasher) {
      switch self {
      case .scalar(let text, let quoted):
        hasher.combine(0)
        hasher.combine(!quoted && YAMLScalarClass.isNull(text) ? "" : text)
        hasher.combine(quoted && YAMLScalarClass.resolvesToNonString(text))
      case .sequence(let items):
        hasher.combine(1)
        hasher.combine(items)
      case .mapping(let entries):
        hasher.combine(2)
        hasher.combine(entries)
      }
    }
  }

  public var content: Content
  public var mark: SourceMark

  public init(_ content: Content, mark: SourceMark) {
    self.content = content
    self.mark = mark
  }

  public static func scalar(_ text: String, quoted: Bool = false, mark: SourceMark) -> ConfigNode {
    ConfigNode(.scalar(text, quoted: quoted), mark: mark)
  }

  public static func sequence(_ items: [ConfigNode], mark: SourceMark) -> ConfigNode {
    ConfigNode(.sequence(items), mark: mark)
  }

  public static func mapping(_ entries: [ConfigEntry], mark: SourceMark) -> ConfigNode {
    ConfigNode(.mapping(entries), mark: mark)
  }

  /// YAML's null: an empty plain scalar, `~` or `null`. Configs treat null as "not set", which
  /// is how an including file or an override removes a value it inherited.
  public var isNull: Bool {
    guard case .scalar(let text, quoted: false) = content else { return false }
    return YAMLScalarClass.isNull(text)
  }

  public var scalarText: String? {
    if case .scalar(let text, _) = content { return text }
    return nil
  }

  public var entries: [ConfigEntry]? {
    if case .mapping(let entries) = content { return entries }
    return nil
  }

  public var items: [ConfigNode]? {
    if case .sequence(let items) = content { return items }
    return nil
  }

  /// The value stored under `key` in a mapping node (the last one, should a tree built in
  /// code contain duplicates; loaded trees never do).
  public subscript(key: String) -> ConfigNode? {
    get { entries?.last(where: { $0.key == key })?.value }
  }

  /// A short word for the node's shape, used in "expected X, got a mapping" messages.
  package var kindDescription: String {
    switch content {
    case .scalar: return isNull ? "null" : "a scalar"
    case .sequence: return "a list"
    case .mapping: return "a mapping"
    }
  }

  /// Sets (or appends) `key` in a mapping node, keeping the position of an existing key so
  /// that overriding a sweep axis does not move it in the axis order.
  package mutating func setEntry(_ key: String, keyMark: SourceMark, value: ConfigNode) {
    guard case .mapping(var entries) = content else { return }
    if let index = entries.lastIndex(where: { $0.key == key }) {
      entries[index].value = value
      entries[index].keyMark = keyMark
    } else {
      entries.append(ConfigEntry(key: key, keyMark: keyMark, value: value))
    }
    content = .mapping(entries)
  }

  /// Removes `key` from a mapping node; returns the removed entry.
  @discardableResult
  package mutating func removeEntry(_ key: String) -> ConfigEntry? {
    guard case .mapping(var entries) = content,
      let index = entries.firstIndex(where: { $0.key == key })
    else { return nil }
    let removed = entries.remove(at: index)
    content = .mapping(entries)
    return removed
  }

  public var description: String { compactText }
}

extension ConfigNode: Hashable {
  public static func == (lhs: ConfigNode, rhs: ConfigNode) -> Bool { lhs.content == rhs.content }
  public func hash(into hasher: inout Hasher) { hasher.combine(content) }
}

extension ConfigEntry {
  // Entries compare by content too, so that marks never make two equal trees differ.
  public static func == (lhs: ConfigEntry, rhs: ConfigEntry) -> Bool {
    lhs.key == rhs.key && lhs.value == rhs.value
  }
  public func hash(into hasher: inout Hasher) {
    hasher.combine(key)
    hasher.combine(value)
  }
}
