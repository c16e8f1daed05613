import Foundation
import GGEPConfig

/// `range(start, stop, step)` in sweep values, with Python's semantics: start, start+step, …
/// while short of stop (stop excluded), in either direction. Also `range(stop)` and
/// `range(start, stop)` with step 1.
///
/// Values are integers when every argument is written as an integer, otherwise doubles. Double
/// values are computed as start + i·step (no accumulated drift) and rounded to 12 significant
/// digits, so `range(0.1, 0.5, 0.1)` yields 0.1, 0.2, 0.3, 0.4 with clean labels rather than
/// 0.30000000000000004 (and, after rounding, 0.5 is correctly excluded).
package struct RangeExpression: Sendable {
  package enum Bounds: Sendable {
    case integers(start: Int, stop: Int, step: Int)
    case doubles(start: Double, stop: Double, step: Double)
  }

  package var bounds: Bounds
  package var text: String

  /// Guards against a typo (`range(0, 1e9)`) that would expand into millions of jobs.
  package static let maximumCount = 100_000

  /// True when a scalar should be read as a range expression (quoted or not: a literal string
  /// "range(...)" is never a meaningful sweep value).
  package static func isCandidate(_ text: String) -> Bool {
    text.trimmingCharacters(in: .whitespaces).hasPrefix("range(")
  }

  /// Parses the expression; `fail` turns a reason into the caller's located error.
  package init(_ raw: String, fail: (String) -> ConfigError) throws(ConfigError) {
    let text = raw.trimmingCharacters(in: .whitespaces)
    self.text = text
    let usage = "expected range(start, stop, step) with numeric arguments, got \(text)"
    guard text.hasPrefix("range("), text.hasSuffix(")") else { throw fail("malformed range: \(usage)") }
    let inner = text.dropFirst("range(".count).dropLast()
    let arguments = inner.split(separator: ",", omittingEmptySubsequences: false)
      .map { $0.trimmingCharacters(in: .whitespaces) }
    guard (1...3).contains(arguments.count), arguments.allSatisfy({ !$0.isEmpty }) else {
      throw fail("malformed range: \(usage)")
    }
    let integers = arguments.map(YAMLScalarClass.integer)
    if integers.allSatisfy({ $0 != nil }) {
      let values = integers.map { $0! }
      let (start, stop, step) = Self.expand(values, one: 1)
      bounds = .integers(start: start, stop: stop, step: step)
    } else {
      let doubles = arguments.map(YAMLScalarClass.number)
      guard doubles.allSatisfy({ $0 != nil }) else { throw fail("malformed range: \(usage)") }
      let (start, stop, step) = Self.expand(doubles.map { $0! }, one: 1.0)
      bounds = .doubles(start: start, stop: stop, step: step)
    }
  }

  /// Python's argument forms: (stop), (start, stop), (start, stop, step).
  private static func expand<T: Numeric>(_ values: [T], one: T) -> (T, T, T) {
    switch values.count {
    case 1: return (0, values[0], one)
    case 2: return (values[0], values[1], one)
    default: return (values[0], values[1], values[2])
    }
  }

  /// The values as plain scalar texts, in order. Zero steps, empty results and oversized
  /// results are errors, since each would make an axis that cannot be what the user meant.
  package func values(fail: (String) -> ConfigError) throws(ConfigError) -> [String] {
    var texts: [String] = []
    switch bounds {
    case .integers(let start, let stop, let step):
      guard step != 0 else { throw fail("range step must not be 0, got \(text)") }
      var value = start
      while step > 0 ? value < stop : value > stop {
        texts.append(String(value))
        guard texts.count <= Self.maximumCount else { throw tooLong(fail) }
        let (next, overflow) = value.addingReportingOverflow(step)
        if overflow { break }
        value = next
      }
    case .doubles(let start, let stop, let step):
      guard step != 0 else { throw fail("range step must not be 0, got \(text)") }
      var index = 0.0
      while true {
        let value = Self.rounded(start + index * step)
        guard step > 0 ? value < stop : value > stop else { break }
        texts.append(Self.format(value))
        guard texts.count <= Self.maximumCount else { throw tooLong(fail) }
        index += 1
      }
    }
    guard !texts.isEmpty else {
      throw fail("\(text) is empty (Python semantics: the stop value is excluded, and the step must point from start toward stop)")
    }
    return texts
  }

  private func tooLong(_ fail: (String) -> ConfigError) -> ConfigError {
    fail("\(text) has more than \(Self.maximumCount) values")
  }

  private static func rounded(_ value: Double) -> Double {
    Double(String(format: "%.12g", value)) ?? value
  }

  /// Shortest text that reads back as the same double and as a YAML float (never an integer:
  /// `2.0` stays `2.0`, so a double range keeps one type throughout).
  private static func format(_ value: Double) -> String {
    "\(value == 0 ? 0 : value)"  // 0 rather than -0.0
  }
}
