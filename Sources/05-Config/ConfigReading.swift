import GGEPCore
/// A range or sign condition on a config number, with the wording used in error messages
/// (`must be > 0`, `must be in 1...784`, `must be in (-1, 1)`).
public struct ConfigCheck<Value: Comparable & Sendable>: Sendable {
  public let requirement: String
  private let test: @Sendable (Value) -> Bool

  public init(_ requirement: String, _ test: @escaping @Sendable (Value) -> Bool) {
    self.requirement = requirement
    self.test = test
  }

  public func accepts(_ value: Value) -> Bool { test(value) }

  /// Adds where a bound came from (`s must be in 1...784 (n)`), for cross-field limits.
  public func because(_ reason: String) -> ConfigCheck {
    ConfigCheck("\(requirement) (\(reason))", test)
  }
}

extension ConfigCheck {
  public static func greaterThan(_ bound: Value) -> ConfigCheck {
    ConfigCheck("must be > \(formatConfigNumber(bound))") { $0 > bound }
  }

  public static func atLeast(_ bound: Value) -> ConfigCheck {
    ConfigCheck("must be >= \(formatConfigNumber(bound))") { $0 >= bound }
  }

  public static func within(_ range: ClosedRange<Value>) -> ConfigCheck {
    ConfigCheck("must be in \(formatConfigNumber(range.lowerBound))...\(formatConfigNumber(range.upperBound))") {
      range.contains($0)
    }
  }

  /// The open interval (lower, upper), both ends excluded.
  public static func between(_ lower: Value, _ upper: Value) -> ConfigCheck {
    ConfigCheck("must be in the open interval (\(formatConfigNumber(lower)), \(formatConfigNumber(upper)))") {
      $0 > lower && $0 < upper
    }
  }
}

/// Numbers in messages and labels: integral doubles without a trailing `.0` (`2`, not `2.0`),
/// everything else in Swift's shortest round-trip form.
public func formatConfigNumber<Value>(_ value: Value) -> String {
  if let double = value as? Double {
    if double.rounded() == double && abs(double) < 1e15 { return String(Int64(double)) }
    return "\(double)"
  }
  return "\(value)"
}

/// A config node together with the key path that reached it: the unit every typed read starts
/// from, so any failure can name the file, line, key path and offending value.
public struct ConfigValue: Sendable {
  public let node: ConfigNode
  public let path: ConfigPath

  public init(_ node: ConfigNode, path: ConfigPath) {
    self.node = node
    self.path = path
  }

  public var mark: SourceMark { node.mark }
  public var isNull: Bool { node.isNull }

  public func error(_ message: String) -> ConfigError {
    ConfigError(at: node.mark, path: path, message)
  }

  /// The node as the user would recognise it in a message: `-0.1`, `"3"`, `[1, 2]`, shortened
  /// when long.
  public var shownValue: String {
    let text = node.compactText
    return text.count > 80 ? String(text.prefix(77)) + "..." : text
  }

  package func mismatch(_ expected: String) -> ConfigError {
    switch node.content {
    case .scalar(_, let quoted):
      let what = quoted ? " (a quoted string)" : ""
      return error("expected \(expected), got \(shownValue)\(what)")
    case .sequence, .mapping:
      return error("expected \(expected), got \(node.kindDescription) \(shownValue)")
    }
  }

  private func plainScalar(_ expected: String) throws(ConfigError) -> String {
    guard case .scalar(let text, quoted: false) = node.content, !node.isNull else { throw mismatch(expected) }
    return text
  }

  private func checked<T>(_ value: T, _ check: ConfigCheck<T>?) throws(ConfigError) -> T {
    if let check, !check.accepts(value) { throw error("\(check.requirement), got \(shownValue)") }
    return value
  }

  /// An integer written as one: `m: 2.5`, `m: "3"` and `m: 1e3` are all errors, because a
  /// config that needs rounding to make sense is probably not what the user meant.
  public func int(_ check: ConfigCheck<Int>? = nil) throws(ConfigError) -> Int {
    let text = try plainScalar("an integer")
    guard let value = YAMLScalarClass.integer(text) else {
      if YAMLScalarClass.looksLikeInteger(text) { throw error("integer out of range, got \(shownValue)") }
      throw mismatch("an integer")
    }
    return try checked(value, check)
  }

  /// A finite number; integers and YAML floats (`0.2`, `1e-3`) are accepted.
  public func double(_ check: ConfigCheck<Double>? = nil) throws(ConfigError) -> Double {
    let text = try plainScalar("a number")
    guard let value = YAMLScalarClass.number(text) else { throw mismatch("a number") }
    return try checked(value, check)
  }

  /// Only `true` and `false`: YAML 1.1's `yes`/`on`/`y` are too easy to write by accident.
  public func bool() throws(ConfigError) -> Bool {
    let text = try plainScalar("true or false")
    switch text {
    case "true": return true
    case "false": return false
    default: throw mismatch("true or false")
    }
  }

  /// Any scalar's text, quoted or not (`name: 2024` is the string "2024").
  public func string() throws(ConfigError) -> String {
    guard case .scalar(let text, _) = node.content, !node.isNull else { throw mismatch("a string") }
    return text
  }

  /// One of an enum's raw values; the message lists them all, and suggests the closest one.
  public func oneOf<E: CaseIterable & RawRepresentable>(_ type: E.Type = E.self) throws(ConfigError) -> E
  where E.RawValue == String {
    let allowed = E.allCases.map(\.rawValue)
    let listing = allowed.joined(separator: ", ")
    guard case .scalar(let text, _) = node.content, !node.isNull else {
      throw mismatch("one of \(listing)")
    }
    if let value = E(rawValue: text) { return value }
    var message = "must be one of \(listing); got \(shownValue)"
    if let suggestion = closestMatch(to: text, among: allowed) { message += " (did you mean `\(suggestion)`?)" }
    throw error(message)
  }

  /// The items of a list, each with its indexed path.
  public func list() throws(ConfigError) -> [ConfigValue] {
    guard case .sequence(let items) = node.content else { throw mismatch("a list") }
    return items.enumerated().map { ConfigValue($1, path: path.appending(index: $0)) }
  }

  public func intList(_ check: ConfigCheck<Int>? = nil) throws(ConfigError) -> [Int] {
    var values: [Int] = []
    for item in try list() { values.append(try item.int(check)) }
    return values
  }

  public func stringList() throws(ConfigError) -> [String] {
    var values: [String] = []
    for item in try list() { values.append(try item.string()) }
    return values
  }

  /// The value as a mapping to read keys from.
  public func table() throws(ConfigError) -> ConfigTable {
    guard case .mapping = node.content else { throw mismatch("a mapping") }
    return ConfigTable(self)
  }
}

/// A mapping being read by the schema. `nil`/absent and `null` are the same thing ("not set"),
/// so an including file can unset an inherited key by writing `key: null`.
public struct ConfigTable: Sendable {
  public let value: ConfigValue

  public init(_ value: ConfigValue) {
    self.value = value
  }

  public var path: ConfigPath { value.path }
  public var mark: SourceMark { value.mark }

  /// Keys that are present and not null, in written order.
  public var keys: [String] {
    (value.node.entries ?? []).filter { !$0.value.isNull }.map(\.key)
  }

  public subscript(key: String) -> ConfigValue? {
    guard let node = value.node[key], !node.isNull else { return nil }
    return ConfigValue(node, path: path.appending(key))
  }

  /// An error about `key`, at the key when it is present and at this mapping when it is not.
  public func error(_ key: String, _ message: String) -> ConfigError {
    if let entry = value.node.entries?.last(where: { $0.key == key }) {
      return ConfigError(at: entry.keyMark, path: path.appending(key), message)
    }
    return ConfigError(at: mark, path: path.appending(key), message)
  }

  /// Rejects keys outside `allowed`, suggesting the nearest allowed key within edit distance 2
  /// (`etta` → `eta`). `context` says why the set is what it is (`for kind ppower`).
  public func checkKnownKeys(allowed: [String], context: String? = nil) throws(ConfigError) {
    for entry in value.node.entries ?? [] where !allowed.contains(entry.key) && !entry.value.isNull {
      var message = "unknown key"
      if let context { message += " \(context)" }
      if let suggestion = closestMatch(to: entry.key, among: allowed) {
        message += "; did you mean `\(suggestion)`?"
      } else {
        message += " (allowed: \(allowed.joined(separator: ", ")))"
      }
      throw ConfigError(at: entry.keyMark, path: path.appending(entry.key), message)
    }
  }

  public func required(_ key: String, _ expected: String? = nil) throws(ConfigError) -> ConfigValue {
    guard let child = self[key] else {
      throw error(key, "missing required key" + (expected.map { " (\($0))" } ?? ""))
    }
    return child
  }

  // MARK: Typed reads. A nil default means the key is required.

  public func int(_ key: String, default fallback: Int? = nil, _ check: ConfigCheck<Int>? = nil) throws(ConfigError) -> Int {
    guard let child = self[key] else {
      guard let fallback else { throw error(key, "missing required key (an integer)") }
      return try checkedDefault(key, fallback, check)
    }
    return try child.int(check)
  }

  public func optionalInt(_ key: String, _ check: ConfigCheck<Int>? = nil) throws(ConfigError) -> Int? {
    try self[key]?.int(check)
  }

  public func double(_ key: String, default fallback: Double? = nil, _ check: ConfigCheck<Double>? = nil) throws(ConfigError) -> Double {
    guard let child = self[key] else {
      guard let fallback else { throw error(key, "missing required key (a number)") }
      return try checkedDefault(key, fallback, check)
    }
    return try child.double(check)
  }

  public func optionalDouble(_ key: String, _ check: ConfigCheck<Double>? = nil) throws(ConfigError) -> Double? {
    try self[key]?.double(check)
  }

  public func bool(_ key: String, default fallback: Bool) throws(ConfigError) -> Bool {
    try self[key]?.bool() ?? fallback
  }

  public func string(_ key: String, default fallback: String? = nil) throws(ConfigError) -> String {
    guard let child = self[key] else {
      guard let fallback else { throw error(key, "missing required key (a string)") }
      return fallback
    }
    return try child.string()
  }

  public func optionalString(_ key: String) throws(ConfigError) -> String? {
    try self[key]?.string()
  }

  public func oneOf<E: CaseIterable & RawRepresentable>(_ key: String, default fallback: E? = nil) throws(ConfigError) -> E
  where E.RawValue == String {
    guard let child = self[key] else {
      guard let fallback else {
        throw error(key, "missing required key (one of \(E.allCases.map(\.rawValue).joined(separator: ", ")))")
      }
      return fallback
    }
    return try child.oneOf(E.self)
  }

  /// The value of `key`, which must be one of `names` (a registry's names: a component's
  /// `kind`), with the same messages as an enumeration's `oneOf`.
  public func oneOf(_ key: String, among names: [String], default fallback: String? = nil) throws(ConfigError) -> String {
    let listing = names.joined(separator: ", ")
    guard let child = self[key] else {
      guard let fallback else { throw error(key, "missing required key (one of \(listing))") }
      return fallback
    }
    guard case .scalar(let text, _) = child.node.content, !child.node.isNull else {
      throw child.mismatch("one of \(listing)")
    }
    if names.contains(text) { return text }
    var message = "must be one of \(listing); got \(child.shownValue)"
    if let suggestion = closestMatch(to: text, among: names) { message += " (did you mean `\(suggestion)`?)" }
    throw child.error(message)
  }

  public func intList(_ key: String, default fallback: [Int]? = nil, _ check: ConfigCheck<Int>? = nil) throws(ConfigError) -> [Int] {
    guard let child = self[key] else {
      guard let fallback else { throw error(key, "missing required key (a list of integers)") }
      return fallback
    }
    return try child.intList(check)
  }

  public func stringList(_ key: String) throws(ConfigError) -> [String] {
    guard let child = self[key] else { throw error(key, "missing required key (a list of strings)") }
    return try child.stringList()
  }

  /// A nested mapping; an absent key reads as an empty mapping located at this one, so its
  /// own required keys are reported with the full path.
  public func table(_ key: String) throws(ConfigError) -> ConfigTable {
    guard let child = self[key] else {
      return ConfigTable(ConfigValue(.mapping([], mark: mark), path: path.appending(key)))
    }
    return try child.table()
  }

  /// A default can fail a check that depends on another key (`high` defaults to 2 but `low`
  /// was set to 3); say so, since the user never wrote the value.
  private func checkedDefault<T>(_ key: String, _ fallback: T, _ check: ConfigCheck<T>?) throws(ConfigError) -> T {
    if let check, !check.accepts(fallback) {
      throw error(key, "\(check.requirement), got \(formatConfigNumber(fallback)) (the default; set it explicitly)")
    }
    return fallback
  }
}

/// The candidate nearest to `word` by edit distance, if it is within 2 edits (and closer than
/// the word's own length, so `x` does not "suggest" `m`).
package func closestMatch(to word: String, among candidates: [String]) -> String? {
  var best: (String, Int)?
  for candidate in candidates {
    let distance = editDistance(word, candidate)
    if distance <= 2, distance < max(word.count, 2), best.map({ distance < $0.1 }) ?? true {
      best = (candidate, distance)
    }
  }
  return best?.0
}

/// Levenshtein distance (insertions, deletions, substitutions), two rows at a time.
package func editDistance(_ a: String, _ b: String) -> Int {
  let a = Array(a), b = Array(b)
  if a.isEmpty { return b.count }
  if b.isEmpty { return a.count }
  var previous = Array(0...b.count)
  var current = [Int](repeating: 0, count: b.count + 1)
  for i in 1...a.count {
    current[0] = i
    for j in 1...b.count {
      let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
      current[j] = min(substitution, previous[j] + 1, current[j - 1] + 1)
    }
    swap(&previous, &current)
  }
  return previous[b.count]
}
