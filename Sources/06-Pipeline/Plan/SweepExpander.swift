import GGEPConfig
/// One (path, value) assignment that made a sweep point, for labels: `("m", "100")`,
/// `("problem", "{kind: spiked, beta: 3}")`.
public struct SweepLabel: Codable, Hashable, Sendable, CustomStringConvertible {
  public var path: String
  public var value: String

  public init(path: String, value: String) {
    self.path = path
    self.value = value
  }

  public var description: String { "\(path)=\(value)" }
}

/// One point of the expanded sweep: the config tree with the point's values applied (and
/// `sweep` removed), plus the assignments that made it.
public struct SweepPoint: Sendable {
  public var index: Int
  public var root: ConfigNode
  public var labels: [SweepLabel]

  public var labelText: String { labels.map(\.description).joined(separator: ", ") }
}

/// One axis of the product: a single path, or a `zip` group of paths stepping together.
public struct SweepAxis: Sendable {
  public struct Entry: Sendable {
    public var path: ConfigPath
    /// The key as written, e.g. `algorithm.eta`.
    public var name: String
    public var keyMark: SourceMark
    public var values: [ConfigNode]
  }

  public var entries: [Entry]
  public var count: Int { entries.first?.values.count ?? 0 }
}

/// Expands the root `sweep:` mapping into the cartesian product of its axes.
///
/// Axes combine in the order written, the last varying fastest, like nested loops in the order
/// they are read. Each point applies its values in axis order to the base tree, so a later axis
/// may set a path inside a mapping an earlier axis replaced (`problem` then `problem.beta`).
public enum SweepExpander {
  /// Refuses sweeps so large they are certainly a mistake (memory would go first).
  public static let maximumPoints = 1_000_000

  package static let sweepPath = ConfigPath.root.appending("sweep")

  public static func expand(_ root: ConfigNode) throws(ConfigError) -> [SweepPoint] {
    var base = root
    let sweepEntry = base.removeEntry("sweep")
    guard let sweepEntry, !sweepEntry.value.isNull else {
      return [SweepPoint(index: 0, root: base, labels: [])]
    }
    let axes = try parseAxes(ConfigValue(sweepEntry.value, path: sweepPath))

    var total = 1
    for axis in axes {
      total = total.multipliedReportingOverflow(by: axis.count).partialValue
      if total > maximumPoints {
        throw ConfigError(
          at: sweepEntry.keyMark, path: sweepPath,
          "expands to more than \(maximumPoints) points; split the experiment")
      }
    }

    var points: [SweepPoint] = []
    points.reserveCapacity(total)
    var indices = [Int](repeating: 0, count: axes.count)
    for pointIndex in 0..<total {
      var tree = base
      var labels: [SweepLabel] = []
      for (axis, valueIndex) in zip(axes, indices) {
        for entry in axis.entries {
          let value = entry.values[valueIndex]
          do {
            try tree.set(value, at: entry.path, creatingWith: entry.keyMark)
          } catch {
            throw ConfigError(at: entry.keyMark, path: sweepPath.appending(entry.name), "\(error)")
          }
          labels.append(SweepLabel(path: entry.name, value: value.compactText))
        }
      }
      points.append(SweepPoint(index: pointIndex, root: tree, labels: labels))
      // Odometer step: the last axis turns fastest.
      for position in indices.indices.reversed() {
        indices[position] += 1
        if indices[position] < axes[position].count { break }
        indices[position] = 0
      }
    }
    return points
  }

  /// Reads the `sweep:` mapping into axes, checking everything that does not depend on the
  /// base tree: shapes, empty lists, ranges, zip lengths, duplicate paths.
  public static func parseAxes(_ sweep: ConfigValue) throws(ConfigError) -> [SweepAxis] {
    guard let entries = sweep.node.entries else {
      throw sweep.error("expected a mapping from config paths to lists of values, got \(sweep.node.kindDescription) \(sweep.shownValue)")
    }
    var axes: [SweepAxis] = []
    var seen: [ConfigPath: (name: String, mark: SourceMark)] = [:]

    func entry(_ name: String, keyMark: SourceMark, value: ConfigNode, under parent: ConfigPath) throws(ConfigError) -> SweepAxis.Entry {
      let keyPath = parent.appending(name)
      let path: ConfigPath
      do {
        path = try ConfigPath.parse(name)
      } catch {
        throw ConfigError(at: keyMark, path: keyPath, "\(error)")
      }
      if case .key(let first) = path.components.first, first == "sweep" || first == "include" {
        throw ConfigError(at: keyMark, path: keyPath, "\(first) cannot be a sweep axis")
      }
      if let previous = seen[path] {
        throw ConfigError(
          at: keyMark, path: keyPath,
          "duplicate sweep path \(path) (already an axis as \(previous.name) at line \(previous.mark.line))")
      }
      seen[path] = (name, keyMark)
      let values = try axisValues(ConfigValue(value, path: keyPath))
      return SweepAxis.Entry(path: path, name: name, keyMark: keyMark, values: values)
    }

    // A null axis is "not set" (how an including file drops an inherited axis), not an error.
    for item in entries where !item.value.isNull {
      guard item.key == "zip" else {
        axes.append(SweepAxis(entries: [try entry(item.key, keyMark: item.keyMark, value: item.value, under: sweep.path)]))
        continue
      }
      // `zip:` is one group (a mapping) or several (a list of mappings).
      let zipValue = ConfigValue(item.value, path: sweep.path.appending("zip"))
      var groups: [ConfigValue] = []
      switch item.value.content {
      case .mapping: groups = [zipValue]
      case .sequence: groups = try zipValue.list()
      case .scalar:
        throw zipValue.error("expected a mapping of paths to equal-length lists (or a list of such mappings), got \(zipValue.shownValue)")
      }
      if groups.isEmpty { throw zipValue.error("empty zip list") }
      for group in groups {
        guard let groupEntries = group.node.entries else {
          throw group.error("expected a mapping of paths to equal-length lists, got \(group.node.kindDescription) \(group.shownValue)")
        }
        guard !groupEntries.isEmpty else { throw group.error("empty zip group") }
        var zipped: [SweepAxis.Entry] = []
        for zipEntry in groupEntries {
          zipped.append(try entry(zipEntry.key, keyMark: zipEntry.keyMark, value: zipEntry.value, under: group.path))
        }
        let first = zipped[0]
        for other in zipped.dropFirst() where other.values.count != first.values.count {
          throw ConfigError(
            at: other.keyMark, path: group.path.appending(other.name),
            "zip lists must have equal lengths: \(first.name) has \(first.values.count) values, \(other.name) has \(other.values.count)")
        }
        axes.append(SweepAxis(entries: zipped))
      }
    }
    return axes
  }

  /// An axis' values: a non-empty list whose `range(...)` items expand inline, or a single
  /// `range(...)`.
  package static func axisValues(_ value: ConfigValue) throws(ConfigError) -> [ConfigNode] {
    let usage = "expected a list of values or range(start, stop, step)"
    switch value.node.content {
    case .scalar(let text, _) where !value.isNull && RangeExpression.isCandidate(text):
      return try expandRange(text, at: value)
    case .scalar, .mapping:
      throw value.error("\(usage), got \(value.node.isNull ? "null" : value.shownValue)")
    case .sequence(let items):
      guard !items.isEmpty else { throw value.error("empty list: a sweep axis needs at least one value") }
      var values: [ConfigNode] = []
      var index = 0
      while index < items.count {
        let item = items[index]
        let itemValue = ConfigValue(item, path: value.path.appending(index: index))
        guard case .scalar(let text, let quoted) = item.content, RangeExpression.isCandidate(text) else {
          values.append(item)
          index += 1
          continue
        }
        // In a flow list `[50, range(100, 600, 100)]` YAML splits the expression at its
        // commas; glue the plain pieces back together up to the closing parenthesis.
        var expression = text
        if !quoted {
          while !expression.contains(")"), index + 1 < items.count,
            case .scalar(let piece, quoted: false) = items[index + 1].content
          {
            expression += ", " + piece
            index += 1
          }
        }
        values += try expandRange(expression, at: itemValue)
        index += 1
      }
      return values
    }
  }

  private static func expandRange(_ text: String, at value: ConfigValue) throws(ConfigError) -> [ConfigNode] {
    let fail = { (message: String) in value.error(message) }
    let range = try RangeExpression(text, fail: fail)
    return try range.values(fail: fail).map { .scalar($0, mark: value.mark) }
  }
}
