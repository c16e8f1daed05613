import Synchronization

/// The registry of one component family (generators, problems, projection methods, algorithms,
/// layer-wise inverters): the built-in types in the order messages list them, then the ones a
/// test or plug-in registered. Each family's namespace (`GeneratorComponents`, …) holds one.
public final class ComponentRegistry<Entry: Sendable>: Sendable {
  /// The types ggep ships with; `unregister` never removes them.
  public let builtIn: [Entry]
  private let name: @Sendable (Entry) -> String
  private let entries: Mutex<[Entry]>

  /// `name` gives an entry's config value (`kind`, `method`).
  public init(_ builtIn: [Entry], name: @escaping @Sendable (Entry) -> String) {
    self.builtIn = builtIn
    self.name = name
    entries = Mutex(builtIn)
  }

  /// Every registered type.
  public var all: [Entry] { entries.withLock { $0 } }

  /// The type named `value`, or nil.
  public func named(_ value: String) -> Entry? { all.first { name($0) == value } }

  /// Adds a type; one of the same name is replaced.
  public func register(_ entry: Entry) {
    let key = name(entry)
    entries.withLock { list in
      list.removeAll { name($0) == key }
      list.append(entry)
    }
  }

  /// Removes a type added with `register` (a built-in one stays).
  public func unregister(_ value: String) {
    let isBuiltIn = builtIn.contains { name($0) == value }
    entries.withLock { list in list.removeAll { name($0) == value && !isBuiltIn } }
  }
}
