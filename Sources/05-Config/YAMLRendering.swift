/// How YAML 1.1 readers (libyaml via Yams, PyYAML) would resolve a plain scalar. The renderer
/// uses it to decide which strings need quotes; the typed readers use the stricter number
/// grammars below, because configs want `m: 0x10` or `eta: .5e1` to be questioned, not guessed.
package enum YAMLScalarClass {
  package static func isNull(_ text: String) -> Bool {
    text.isEmpty || text == "~" || text == "null" || text == "Null" || text == "NULL"
  }

  package static let boolWords: Set<String> = [
    "yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False", "FALSE",
    "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N",
  ]

  /// True when a YAML 1.1 reader could give the plain scalar `text` a non-string type. It errs
  /// on the side of yes (anything starting like a number counts), since an unneeded pair of
  /// quotes costs nothing and a missing one changes the value's type.
  package static func resolvesToNonString(_ text: String) -> Bool {
    if isNull(text) || boolWords.contains(text) || text == "<<" || text == "=" { return true }
    var scalars = Substring(text)
    if scalars.first == "+" || scalars.first == "-" { scalars = scalars.dropFirst() }
    if scalars.first == "." { scalars = scalars.dropFirst() }
    guard let first = scalars.first else { return false }
    if first.isASCII && first.isNumber { return true }
    let lowered = scalars.lowercased()
    return lowered == "inf" || lowered == "nan"
  }

  /// A decimal integer: optional sign, digits, `_` allowed between digits (YAML 1.1).
  package static func integer(_ text: String) -> Int? {
    var body = Substring(text)
    var negative = false
    if let sign = body.first, sign == "+" || sign == "-" {
      negative = sign == "-"
      body = body.dropFirst()
    }
    guard let first = body.first, first.isASCII, first.isNumber, body.last != "_",
      body.allSatisfy({ ($0.isASCII && $0.isNumber) || $0 == "_" })
    else { return nil }
    let digits = body.filter { $0 != "_" }
    return Int((negative ? "-" : "") + digits)
  }

  /// True when `text` is written as a decimal integer, even one too large for `Int`, so the
  /// reader can say "out of range" rather than "not an integer".
  package static func looksLikeInteger(_ text: String) -> Bool {
    var body = Substring(text)
    if body.first == "+" || body.first == "-" { body = body.dropFirst() }
    return !body.isEmpty && body.allSatisfy { ($0.isASCII && $0.isNumber) || $0 == "_" }
  }

  /// A finite decimal number: an integer, or digits with a fraction and/or an exponent
  /// (`0.2`, `1e-3`, `-2.5E+4`, `.5`, `3.`). No hex floats, no inf or nan.
  package static func number(_ text: String) -> Double? {
    var chars = Array(text)[...]
    if let sign = chars.first, sign == "+" || sign == "-" { chars = chars.dropFirst() }
    let mantissaEnd = chars.firstIndex(where: { $0 == "e" || $0 == "E" }) ?? chars.endIndex
    let mantissa = chars[chars.startIndex..<mantissaEnd]
    let parts = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
    let isDigit: (Character) -> Bool = { ($0.isASCII && $0.isNumber) || $0 == "_" }
    guard parts.count <= 2, parts.allSatisfy({ $0.allSatisfy(isDigit) }),
      parts.contains(where: { $0.contains(where: { $0 != "_" }) }),
      parts.allSatisfy({ $0.first != "_" })
    else { return nil }
    if mantissaEnd != chars.endIndex {
      var exponent = chars[(mantissaEnd + 1)...]
      if let sign = exponent.first, sign == "+" || sign == "-" { exponent = exponent.dropFirst() }
      guard !exponent.isEmpty, exponent.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
    }
    guard let value = Double(text.filter { $0 != "_" }), value.isFinite else { return nil }
    return value
  }
}

extension ConfigNode {
  /// The tree as block-style YAML that parses back to an equal tree: the "resolved config"
  /// recorded in results files, so a run can be repeated from its results alone.
  public func yamlText() -> String {
    var lines: [String] = []
    switch content {
    case .mapping(let entries) where !entries.isEmpty:
      renderEntries(entries, indent: "", into: &lines)
    case .sequence(let items) where !items.isEmpty && !canRenderInline:
      renderItems(items, indent: "", into: &lines)
    default:
      lines.append(inlineText)
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// One-line flow YAML (`{kind: spiked, beta: 3}`, `[100, 200]`): how sweep values appear
  /// in labels and error messages. It parses back to the same tree.
  public var compactText: String { inlineText }

  private func renderEntries(_ entries: [ConfigEntry], indent: String, into lines: inout [String]) {
    for entry in entries {
      let key = ConfigNode.renderKey(entry.key)
      switch entry.value.content {
      case .mapping(let nested) where !nested.isEmpty:
        lines.append("\(indent)\(key):")
        entry.value.renderEntries(nested, indent: indent + "  ", into: &lines)
      case .sequence(let items) where !items.isEmpty && !entry.value.canRenderInline:
        lines.append("\(indent)\(key):")
        entry.value.renderItems(items, indent: indent + "  ", into: &lines)
      default:
        lines.append("\(indent)\(key): \(entry.value.inlineText)")
      }
    }
  }

  private func renderItems(_ items: [ConfigNode], indent: String, into lines: inout [String]) {
    for item in items {
      switch item.content {
      case .mapping(let nested) where !nested.isEmpty:
        // The first entry shares the dash's line; the rest align under it.
        var nestedLines: [String] = []
        item.renderEntries(nested, indent: indent + "  ", into: &nestedLines)
        nestedLines[0] = indent + "- " + nestedLines[0].dropFirst(indent.count + 2)
        lines.append(contentsOf: nestedLines)
      case .sequence(let nested) where !nested.isEmpty && !item.canRenderInline:
        lines.append("\(indent)-")
        item.renderItems(nested, indent: indent + "  ", into: &lines)
      default:
        lines.append("\(indent)- \(item.inlineText)")
      }
    }
  }

  /// Lists of scalars read best on one line (`m: [50, 100, 200]`); anything deeper is
  /// rendered in block style.
  private var canRenderInline: Bool {
    guard case .sequence(let items) = content else { return true }
    return items.allSatisfy { if case .scalar = $0.content { return true } else { return false } }
  }

  private var inlineText: String {
    switch content {
    case .scalar(let text, let quoted):
      return ConfigNode.renderScalar(text, quoted: quoted)
    case .sequence(let items):
      return "[" + items.map(\.inlineText).joined(separator: ", ") + "]"
    case .mapping(let entries):
      return "{" + entries.map { "\(ConfigNode.renderKey($0.key)): \($0.value.inlineText)" }
        .joined(separator: ", ") + "}"
    }
  }

  /// Plain scalars are written back as they were read (so `1e-3` stays `1e-3` and keeps its
  /// type), unless their characters would break flow syntax. Quoted scalars lose their quotes
  /// only when the plain form would still read back as the same string.
  package static func renderScalar(_ text: String, quoted: Bool) -> String {
    if !quoted {
      if YAMLScalarClass.isNull(text) { return text.isEmpty ? "null" : text }
      return isStructurallySafePlain(text) ? text : doubleQuoted(text)
    }
    if YAMLScalarClass.resolvesToNonString(text) || !isStructurallySafePlain(text) {
      return doubleQuoted(text)
    }
    return text
  }

  package static func renderKey(_ key: String) -> String {
    isStructurallySafePlain(key) && !YAMLScalarClass.isNull(key) ? key : doubleQuoted(key)
  }

  /// Whether `text` can be written as a plain scalar in both block and flow context.
  private static func isStructurallySafePlain(_ text: String) -> Bool {
    guard let first = text.first, let last = text.last else { return false }
    if first.isWhitespace || last.isWhitespace || last == ":" { return false }
    if ",[]{}#&*!|>'\"%@`".contains(first) { return false }
    // `-`, `?` and `:` are indicators only when followed by a space (so `-0.1` is plain).
    if "-?:".contains(first) && (text.count == 1 || text.dropFirst().first!.isWhitespace) {
      return false
    }
    if text.contains(": ") || text.contains(" #") { return false }
    if text.hasPrefix("---") || text.hasPrefix("...") { return false }  // document markers
    return !text.contains { $0.isNewline || "\t,[]{}".contains($0) || ($0.asciiValue.map { $0 < 0x20 } ?? false) }
  }

  private static func doubleQuoted(_ text: String) -> String {
    var out = "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\t": out += "\\t"
      case "\r": out += "\\r"
      default:
        if scalar.value < 0x20 || scalar.value == 0x7F {
          out += "\\x" + String(scalar.value, radix: 16, uppercase: true).leftPadded(to: 2)
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }
}

extension String {
  fileprivate func leftPadded(to width: Int) -> String {
    String(repeating: "0", count: max(0, width - count)) + self
  }
}
