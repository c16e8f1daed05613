import Foundation
import Yams

extension ConfigNode {
  /// Parses one YAML document into a config tree whose marks name `file`.
  ///
  /// An empty document is an empty mapping, so an empty file reports its missing keys like any
  /// other config. Syntax errors, duplicate keys and non-string keys become `ConfigError`s at
  /// the line libyaml or this converter found them.
  public static func parse(yaml text: String, file: String) throws(ConfigError) -> ConfigNode {
    let node: Node?
    do {
      node = try Yams.compose(yaml: text)
    } catch {
      throw ConfigError(yamlError: error, file: file)
    }
    guard let node else {
      return .mapping([], mark: SourceMark(file: file, line: 1, column: 1))
    }
    var budget = maximumValues
    return try ConfigNode(yams: node, file: file, path: .root, budget: &budget)
  }

  /// The most values (scalars, lists, mappings) one YAML document may expand to. An alias
  /// (`*name`) repeats its anchor's whole tree, so nine levels of ten aliases each make 10⁹
  /// values from a few hundred bytes (an "alias bomb", which SnakeYAML and go-yaml bound too).
  /// Real configs have hundreds; the largest sweeps a few thousand.
  public static let maximumValues = 100_000

  /// Converts a Yams node, checking the things configs rely on that YAML itself allows:
  /// keys must be scalars, and a mapping must not repeat a key (YAML says it is an error, but
  /// libyaml keeps both and a later reader would silently pick one).
  package init(yams node: Node, file: String, path: ConfigPath, budget: inout Int) throws(ConfigError) {
    let mark = SourceMark(yams: node.mark, file: file)
    budget -= 1
    guard budget >= 0 else {
      throw ConfigError(
        at: mark, path: path,
        "the document expands to more than \(ConfigNode.maximumValues) values; YAML aliases (*name) repeat their anchor's whole tree, and nested aliases multiply it (an alias bomb?). A config this large is refused")
    }
    switch node {
    case .scalar(let scalar):
      let quoted = scalar.style != .plain && scalar.style != .any || scalar.tag.description == Tag.Name.str.rawValue
      self = .scalar(scalar.string, quoted: quoted, mark: mark)
    case .sequence(let sequence):
      var items: [ConfigNode] = []
      for (index, item) in sequence.enumerated() {
        items.append(try ConfigNode(yams: item, file: file, path: path.appending(index: index), budget: &budget))
      }
      self = .sequence(items, mark: mark)
    case .mapping(let mapping):
      var entries: [ConfigEntry] = []
      for (key, value) in mapping {
        let keyMark = SourceMark(yams: key.mark, file: file)
        guard case .scalar(let keyScalar) = key else {
          throw ConfigError(
            at: keyMark, path: path, "mapping keys must be plain strings, got a \(key.isMapping ? "mapping" : "list")")
        }
        let name = keyScalar.string
        let keyPath = path.appending(name)
        if name == "<<" && keyScalar.style == .plain {
          throw ConfigError(at: keyMark, path: path, "YAML merge keys (<<) are not supported; use include: instead")
        }
        if let previous = entries.first(where: { $0.key == name }) {
          throw ConfigError(
            at: keyMark, path: keyPath,
            "duplicate key (first written at line \(previous.keyMark.line))")
        }
        let converted = try ConfigNode(yams: value, file: file, path: keyPath, budget: &budget)
        entries.append(ConfigEntry(key: name, keyMark: keyMark, value: converted))
      }
      self = .mapping(entries, mark: mark)
    }
  }
}

extension Node {
  fileprivate var isMapping: Bool {
    if case .mapping = self { return true }
    return false
  }
}

extension SourceMark {
  package init(yams mark: Mark?, file: String) {
    self.init(file: file, line: mark?.line ?? 0, column: mark?.column ?? 0)
  }
}

extension ConfigError {
  /// Turns whatever Yams threw into an error naming the file and line. Yams' own description
  /// repeats the whole offending line with a caret, which is noise in a one-line CLI message.
  package init(yamlError error: any Error, file: String) {
    guard let yamlError = error as? YamlError else {
      self.init(file: file, message: "cannot parse YAML: \(error)")
      return
    }
    func located(_ problem: String, _ context: YamlError.Context?, _ mark: Mark) -> ConfigError {
      var message = "YAML syntax error: \(problem)"
      if let context { message += " (\(context.text) at line \(context.mark.line))" }
      return ConfigError(file: file, line: mark.line, column: mark.column, message: message)
    }
    if case .scanner(let context, let problem, let mark, _) = yamlError {
      self = located(problem, context, mark)
    } else if case .parser(let context, let problem, let mark, _) = yamlError {
      self = located(problem, context, mark)
    } else if case .composer(let context, let problem, let mark, _) = yamlError {
      self = located(problem, context, mark)
    } else if case .reader(let problem, let offset, _, let yaml) = yamlError {
      // The reader reports a character offset; count the newlines before it for the line.
      var line: Int?
      if let offset {
        line = yaml.prefix(offset).reduce(1) { $1 == "\n" ? $0 + 1 : $0 }
      }
      self.init(file: file, line: line, message: "YAML syntax error: \(problem)")
    } else {
      self.init(file: file, message: "cannot parse YAML: \(yamlError)")
    }
  }
}
