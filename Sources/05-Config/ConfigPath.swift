import GGEPCore
/// A key path into a config tree, printed the way users write it: `sweep.m[2]`,
/// `problem.covariance.r`. Errors carry one so the user can find the value without counting
/// indentation.
public struct ConfigPath: Hashable, Sendable, CustomStringConvertible {
  public enum Component: Hashable, Sendable {
    case key(String)
    case index(Int)
  }

  public var components: [Component]

  public init(_ components: [Component] = []) {
    self.components = components
  }

  public static let root = ConfigPath()

  public var isRoot: Bool { components.isEmpty }

  public func appending(_ key: String) -> ConfigPath {
    ConfigPath(components + [.key(key)])
  }

  public func appending(index: Int) -> ConfigPath {
    ConfigPath(components + [.index(index)])
  }

  public func appending(_ other: ConfigPath) -> ConfigPath {
    ConfigPath(components + other.components)
  }

  public var description: String {
    var text = ""
    for component in components {
      switch component {
      case .key(let key):
        if !text.isEmpty { text += "." }
        text += key
      case .index(let index):
        text += "[\(index)]"
      }
    }
    return text
  }

  /// Parses `a.b[2].c`. Keys are separated by dots; `[i]` selects a list element.
  /// Throws a plain message (callers attach the file and line they know about).
  public static func parse(_ text: String) throws(PathSyntaxError) -> ConfigPath {
    var components: [Component] = []
    var current = ""
    var expectKey = true  // at the start and after a dot a key must follow
    var iterator = Array(text).makeIterator()
    var pending = iterator.next()
    func fail(_ why: String) -> PathSyntaxError { PathSyntaxError(path: text, reason: why) }
    while let character = pending {
      pending = iterator.next()
      switch character {
      case ".":
        if expectKey && current.isEmpty { throw fail("empty key") }
        if !current.isEmpty { components.append(.key(current)) }
        current = ""
        expectKey = true
      case "[":
        if !current.isEmpty { components.append(.key(current)) }
        else if expectKey { throw fail("'[' must follow a key") }
        current = ""
        var digits = ""
        while let next = pending, next != "]" {
          digits.append(next)
          pending = iterator.next()
        }
        guard pending == "]" else { throw fail("unclosed '['") }
        pending = iterator.next()
        guard let index = Int(digits), index >= 0, digits.allSatisfy(\.isASCII) else {
          throw fail("list index must be a non-negative integer, got [\(digits)]")
        }
        components.append(.index(index))
        expectKey = false
        if let next = pending, next != ".", next != "[" {
          throw fail("expected '.' or '[' after ']'")
        }
      case "]":
        throw fail("unexpected ']'")
      default:
        if character.isWhitespace { throw fail("keys cannot contain spaces") }
        current.append(character)
        expectKey = false
      }
    }
    if !current.isEmpty { components.append(.key(current)) }
    else if expectKey { throw fail(text.isEmpty ? "empty path" : "empty key") }
    return ConfigPath(components)
  }
}

/// Why a key path could not be parsed; converted to a `ConfigError` by whoever knows the file.
public struct PathSyntaxError: UserFacingError, Sendable {
  public var path: String
  public var reason: String
  public var description: String { "malformed key path '\(path)': \(reason)" }
}
