import Foundation
import GGEPConfig

/// The parts of `docs/config-reference.md` that are generated from the components' declared
/// keys, so that the page cannot drift from what the readers accept. Each part sits between
/// `<!-- BEGIN GENERATED: <part> -->` and `<!-- END GENERATED: <part> -->`; `update` rewrites
/// them (`ggep config-reference --update docs/config-reference.md`, `make docs`) and a test
/// fails while the committed page differs from its update.
public enum ConfigReference {
  /// The generated parts, by name.
  public static var parts: [(name: String, markdown: String)] {
    [
      ("generators", section(GeneratorComponents.all.map { ("kind: \($0.kind)", $0.summary, $0.keys) })),
      ("problems", section(ProblemComponents.all.map { ("kind: \($0.kind)", $0.summary, $0.keys) })),
      ("projectors", section(ProjectorComponents.all.map { ("method: \($0.method)", $0.summary, $0.keys) })),
      ("algorithm-keys", table(AlgorithmSpec.commonKeys)),
      ("algorithms", section(AlgorithmComponents.all.map { ("kind: \($0.kind)", $0.summary, $0.keys) })),
      ("inverters", section(InverterComponents.all.map { ("kind: \($0.kind)", $0.summary, $0.keys) }, level: 4)),
    ]
  }

  /// A table of `keys`.
  static func table(_ keys: [DeclaredKey]) -> String {
    var lines = ["| key | takes | default | meaning |", "|---|---|---|---|"]
    for key in keys {
      let fallback = key.defaultValue.map { $0.isEmpty ? "—" : "`\($0)`" } ?? "required"
      // A cell's own `|` would end it.
      let cells = [key.type, fallback, key.doc].map { $0.replacingOccurrences(of: "|", with: "\\|") }
      lines.append("| `\(key.name)` | \(cells.joined(separator: " | ")) |")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// One heading (`###`, or `level` #s) per component, its summary and a table of its keys.
  static func section(_ components: [(heading: String, summary: String, keys: [DeclaredKey])], level: Int = 3) -> String {
    var lines: [String] = []
    for (heading, summary, keys) in components {
      lines += [String(repeating: "#", count: level) + " `\(heading)`", "", summary.prefix(1).uppercased() + summary.dropFirst() + ".", ""]
      lines.append(keys.isEmpty ? "No other keys.\n" : table(keys))
    }
    return lines.joined(separator: "\n")
  }

  /// `document` with every generated part replaced by its current text; parts it lacks are
  /// left out (a page chooses where each goes by placing its markers).
  public static func update(_ document: String) -> String {
    var text = document
    for (name, markdown) in parts {
      let begin = "<!-- BEGIN GENERATED: \(name) -->", end = "<!-- END GENERATED: \(name) -->"
      guard let start = text.range(of: begin), let stop = text.range(of: end, range: start.upperBound..<text.endIndex) else { continue }
      text.replaceSubrange(start.upperBound..<stop.lowerBound, with: "\n" + markdown + "\n")
    }
    return text
  }
}
