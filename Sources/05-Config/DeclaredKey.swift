/// A config key as a component declares it: its name, what it takes, its default and what it
/// means. A component's reader allows exactly its declared keys, and the config reference
/// (`docs/config-reference.md`) is generated from the declarations, so neither can drift.
public struct DeclaredKey: Sendable, Equatable {
  /// The key (`hidden`).
  public var name: String
  /// What it takes, in words (`integer ≥ 1`, `list of integers`, `path`).
  public var type: String
  /// Its default as written in YAML, or nil when the key is required; "" for an optional key
  /// with no default (its absence means something, which `doc` says).
  public var defaultValue: String?
  /// What it means, one or two sentences.
  public var doc: String

  public init(_ name: String, _ type: String, default defaultValue: String? = nil, _ doc: String) {
    self.name = name
    self.type = type
    self.defaultValue = defaultValue
    self.doc = doc
  }
}
