import Foundation
import GGEPCore

/// A config tree as canonical JSON: the identity of a resolved config (docs/reproducibility.md,
/// "Identity").
///
/// Two trees that a reader cannot tell apart encode to the same bytes, whatever their YAML style:
/// mapping keys are sorted (by their UTF-8 bytes), flow and block style, comments, anchors and
/// quoting of plain strings vanish, and numbers are normalised:
///
/// * a plain integer (`300`, `+300`, `3_00`) is the JSON integer `300`;
/// * any other plain number (`0.2`, `2e-1`, `.2`, `1.0`) is the shortest decimal that reads back
///   as the same binary64 value (`0.2`, `1`), integral values written as integers;
/// * `true`/`false` are JSON booleans, the spellings of null (empty, `~`, `null`) are `null`;
/// * every other scalar, and every quoted one, is a JSON string.
///
/// So `eta: 0.2` and `eta: 2e-1` have one identity, while `m: 300` and `m: "300"` (which the
/// reader refuses as a number) do not.
extension ConfigNode {
  public var canonicalJSON: String {
    var out = ""
    appendCanonical(to: &out)
    return out
  }

  private func appendCanonical(to out: inout String) {
    switch content {
    case .mapping(let entries):
      out += "{"
      for (i, entry) in entries.sorted(by: { Array($0.key.utf8).lexicographicallyPrecedes(Array($1.key.utf8)) }).enumerated() {
        if i > 0 { out += "," }
        Self.appendString(entry.key, to: &out)
        out += ":"
        entry.value.appendCanonical(to: &out)
      }
      out += "}"
    case .sequence(let items):
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += "," }
        item.appendCanonical(to: &out)
      }
      out += "]"
    case .scalar(let text, let quoted):
      if quoted {
        Self.appendString(text, to: &out)
      } else if YAMLScalarClass.isNull(text) {
        out += "null"
      } else if text == "true" || text == "false" {
        out += text
      } else if let integer = YAMLScalarClass.integer(text) {
        out += String(integer)
      } else if let number = YAMLScalarClass.number(text), number.isFinite {
        out += Self.canonicalNumber(number)
      } else {
        Self.appendString(text, to: &out)
      }
    }
  }

  /// The shortest round-tripping decimal, integral values without a fraction (`1.0` → `1`,
  /// `-0.0` → `0`), exponents as `e-5`, never `e-05`.
  static func canonicalNumber(_ x: Double) -> String {
    if x == x.rounded(), abs(x) < 9.007_199_254_740_992e15 { return String(Int64(x)) }
    var text = "\(x)"  // Swift's shortest round-trip form: 0.2, 1e-05, 1.5e+20
    if let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) {
      var mantissa = String(text[..<e])
      var exponent = String(text[text.index(after: e)...])
      if mantissa.hasSuffix(".0") { mantissa.removeLast(2) }
      let negative = exponent.hasPrefix("-")
      exponent = String(exponent.drop { $0 == "+" || $0 == "-" || $0 == "0" })
      text = mantissa + "e" + (negative ? "-" : "") + (exponent.isEmpty ? "0" : exponent)
    }
    return text
  }

  private static func appendString(_ text: String, to out: inout String) {
    out += "\""
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      default:
        if scalar.value < 0x20 {
          out += String(format: "\\u%04x", scalar.value)
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    out += "\""
  }
}

extension ConfigDocument {
  /// The scheme of `configHash`, recorded beside it in results files.
  public static let configHashScheme = "canonical-json/1"

  /// SHA-256 of the resolved tree's canonical JSON (includes merged, overrides applied, sweep
  /// unexpanded): one resolved config, one hash, whatever YAML style it was written in.
  public var configHash: String { Self.configHash(of: root) }

  public static func configHash(of root: ConfigNode) -> String {
    SHA256.hexDigest(Array(root.canonicalJSON.utf8))
  }
}
