import GGEPCore
import GGEPConfig

/// What the sweep replaces, and the two checks that keep a replaced value from being silently
/// ignored: a `--set` of a swept key is refused (it would never take effect), and a value
/// written in the base that every point replaces is still decoded and checked (a typo there is
/// a typo, even where it is unused).
package enum SweepReplacement {
  private static func location(of mark: SourceMark) -> String {
    mark.file == SourceMark.commandLine.file ? "set with --set" : "\(mark.file):\(mark.line)"
  }

  /// The base tree (sweep removed) and its axes; nil when there is no sweep.
  package static func axes(of root: ConfigNode) throws(ConfigError) -> (base: ConfigNode, axes: [SweepAxis])? {
    var base = root
    guard let entry = base.removeEntry("sweep"), !entry.value.isNull else { return nil }
    return (base, try SweepExpander.parseAxes(ConfigValue(entry.value, path: SweepExpander.sweepPath)))
  }

  /// Refuses an override that sets a swept path, or a path inside a subtree an axis replaces:
  /// the sweep would overwrite it at every point.
  package static func checkOverrides(_ overrides: [String], axes: [SweepAxis]) throws(ConfigError) {
    for assignment in overrides {
      guard let equals = assignment.firstIndex(of: "=") else { continue }
      let keyText = assignment[..<equals].trimmingCharacters(in: .whitespaces)
      guard let path = try? ConfigDocument.overridePath(keyText), path.components.first != .key("sweep") else { continue }
      for axis in axes {
        for entry in axis.entries where path.components.starts(with: entry.path.components) {
          let value = String(assignment[assignment.index(after: equals)...])
          let fix =
            axis.entries.count > 1
            ? "the axis is part of a zip group: edit sweep.zip in the config"
            : "to run it at other values, set the axis (--set 'sweep.\(entry.name)=[\(value)]'), or drop the axis (--set sweep.\(entry.name)=null)"
          throw ConfigError(
            file: SourceMark.commandLine.file, keyPath: keyText,
            message: "\(entry.name) is a sweep axis (sweep.\(entry.name), \(location(of: entry.keyMark))), which replaces \(keyText) at every point, so --set \(assignment) would be ignored; \(fix)")
        }
      }
    }
  }

  /// The base tree with each swept path the base does not write filled from the first sweep
  /// point, and the names of the axes whose base value it keeps. Nil when the base writes no
  /// swept path (then every written value is already checked by the points).
  package static func checkedBase(_ base: ConfigNode, axes: [SweepAxis]) -> (tree: ConfigNode, kept: [String])? {
    var tree = base
    var kept: [String] = []
    for axis in axes {
      for entry in axis.entries {
        if let written = base.node(at: entry.path), !written.isNull {
          kept.append(entry.name)
        } else {
          try? tree.set(entry.values[0], at: entry.path, creatingWith: entry.keyMark)
        }
      }
    }
    return kept.isEmpty ? nil : (tree, kept)
  }
}
