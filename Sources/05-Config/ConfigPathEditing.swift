import GGEPCore
/// Why a value could not be placed at a key path: the path leads through something that is not
/// a mapping (or not a list, for an index). Callers turn it into a `ConfigError` at the mark of
/// whatever asked for the assignment (a `--set`, a sweep axis).
public struct PathAssignmentError: UserFacingError, Sendable {
  public var path: ConfigPath
  public var reason: String
  public var description: String { "cannot set \(path): \(reason)" }
}

extension ConfigNode {
  /// Replaces the node at `path` with `value`, creating missing (or null) intermediate
  /// mappings with mark `mark`. Assignments go through the current tree, so a sweep axis
  /// `problem.beta` applies on top of whatever an earlier axis `problem` put there.
  public mutating func set(
    _ value: ConfigNode, at path: ConfigPath, creatingWith mark: SourceMark
  ) throws(PathAssignmentError) {
    try set(value, at: path.components[...], walked: .root, fullPath: path, mark: mark)
  }

  private mutating func set(
    _ value: ConfigNode, at rest: ArraySlice<ConfigPath.Component>, walked: ConfigPath,
    fullPath: ConfigPath, mark: SourceMark
  ) throws(PathAssignmentError) {
    guard let component = rest.first else {
      self = value
      return
    }
    func fail(_ reason: String) -> PathAssignmentError {
      PathAssignmentError(path: fullPath, reason: reason)
    }
    let here = walked.isRoot ? "the top level" : "\(walked)"
    switch (component, content) {
    case (.key(let key), .mapping(let entries)):
      let index = entries.lastIndex(where: { $0.key == key })
      var child = index.map { entries[$0].value } ?? .mapping([], mark: mark)
      try child.set(value, at: rest.dropFirst(), walked: walked.appending(key), fullPath: fullPath, mark: mark)
      var updated = entries
      if let index {
        updated[index].value = child
      } else {
        updated.append(ConfigEntry(key: key, keyMark: mark, value: child))
      }
      content = .mapping(updated)
    case (.key, .scalar(let text, _)):
      if isNull {
        self = .mapping([], mark: mark)
        try set(value, at: rest, walked: walked, fullPath: fullPath, mark: mark)
      } else {
        throw fail("\(here) is a scalar (\(ConfigNode.renderScalar(text, quoted: false))), not a mapping")
      }
    case (.key, .sequence):
      throw fail("\(here) is a list, not a mapping")
    case (.index(let index), .sequence(var items)):
      guard index < items.count else {
        throw fail("\(here) has \(items.count) item\(items.count == 1 ? "" : "s")")
      }
      try items[index].set(
        value, at: rest.dropFirst(), walked: walked.appending(index: index), fullPath: fullPath, mark: mark)
      content = .sequence(items)
    case (.index, _):
      throw fail("\(here) is \(kindDescription), not a list")
    }
  }

  /// The node at `path`, if every step exists.
  public func node(at path: ConfigPath) -> ConfigNode? {
    var node = self
    for component in path.components {
      switch (component, node.content) {
      case (.key(let key), .mapping):
        guard let child = node[key] else { return nil }
        node = child
      case (.index(let index), .sequence(let items)) where index < items.count:
        node = items[index]
      default:
        return nil
      }
    }
    return node
  }
}
