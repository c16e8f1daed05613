import Foundation
import Yams

extension ConfigNode {
  /// Parses one YAML document into a config tree whose marks name `file`.
  ///
  /// An empty document is an empty mapping, so an empty file reports its missing keys like any
  /// other config. Syntax errors, duplicate keys and non-string keys become `ConfigError`s at
  /// the line libyaml or this converter found them.
  public static func parse(yaml text: String, file: String) throws(ConfigError) -> ConfigNode {
    try checkNesting(text, file: file)
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

  /// The deepest nesting of flow collections (`[`, `{`) a document may have. The YAML composer
  /// recurses once per level, so `[[[[…]]]]` thousands deep would overflow the stack; real
  /// configs nest a handful of levels.
  public static let maximumNesting = 256

  /// Refuses text that nests deeper than `maximumNesting`, before the composer recurses into it:
  /// flow brackets, counted outside quoted strings and comments (a bracket inside a plain scalar,
  /// `mnist-test[3127]`, counts too, which only errs towards refusing a config no one writes), and
  /// block nesting, bounded by a line's indentation plus its leading `- ` entries (each block
  /// level needs one more of either).
  static func checkNesting(_ text: String, file: String) throws(ConfigError) {
    func refuse(_ line: Int) -> ConfigError {
      ConfigError(file: file, line: line, keyPath: "", message: "collections nested more than \(maximumNesting) levels deep; a config this deep is refused")
    }
    var lineStart = true, indent = 0
    var depth = 0, line = 1
    var quote: UInt8? = nil
    var comment = false
    var previous: UInt8 = 0x0A
    var bytes = Array(text.utf8).makeIterator()
    while let c = bytes.next() {
      defer { previous = c }
      if c == 0x0A { line += 1; comment = false; lineStart = true; indent = 0; continue }
      if comment { continue }
      if lineStart && quote == nil && depth == 0 {
        // Block context: spaces and `- ` entries before the line's content.
        if c == 0x20 || (c == UInt8(ascii: "-") && (previous == 0x20 || previous == 0x0A)) {
          indent += 1
          if indent > 2 * maximumNesting { throw refuse(line) }
          continue
        }
        lineStart = false
      }
      if let q = quote {
        if q == UInt8(ascii: "\"") && c == UInt8(ascii: "\\") { _ = bytes.next(); continue }
        if c == q { quote = nil }
        continue
      }
      switch c {
      case UInt8(ascii: "#") where previous == 0x20 || previous == 0x09 || previous == 0x0A: comment = true
      case UInt8(ascii: "'"), UInt8(ascii: "\""): quote = c
      case UInt8(ascii: "["), UInt8(ascii: "{"):
        depth += 1
        if depth > maximumNesting { throw refuse(line) }
      case UInt8(ascii: "]"), UInt8(ascii: "}"): depth = max(0, depth - 1)
      default: break
      }
    }
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
