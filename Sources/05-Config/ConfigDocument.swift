import Foundation
import GGEPCore

/// A config file after `include:` resolution and `--set` overrides: the tree every later step
/// (sweep expansion, schema decoding) reads, plus what results files record about it.
public struct ConfigDocument: Sendable {
  /// The top file's path as the user gave it; error messages and the default name use it.
  public let path: String
  /// The top file's text exactly as read, recorded in results next to the resolved tree.
  public let sourceText: String
  /// Included files in the order they were loaded (deepest first), for provenance.
  public let includedFiles: [String]
  /// The merged tree, `include` removed, overrides applied.
  public private(set) var root: ConfigNode
  /// The overrides applied so far, in order, as written on the command line.
  public private(set) var overrides: [String] = []

  /// Reads `path`, resolves its includes, and applies `overrides` in order.
  public static func load(path: String, overrides: [String] = []) throws(ConfigError) -> ConfigDocument {
    var loader = IncludeLoader()
    let (root, text) = try loader.load(path, chain: [], requestedAt: nil)
    var document = ConfigDocument(path: path, sourceText: text, includedFiles: loader.loadedIncludes, root: root)
    for override in overrides { try document.applyOverride(override) }
    return document
  }

  /// A document from text that was not read from disk (tests, stdin). `file` names it in
  /// errors and anchors relative includes.
  public init(text: String, file: String) throws(ConfigError) {
    var loader = IncludeLoader()
    let root = try loader.resolve(text: text, file: file, chain: [loader.identity(of: file)])
    self.init(path: file, sourceText: text, includedFiles: loader.loadedIncludes, root: root)
  }

  private init(path: String, sourceText: String, includedFiles: [String], root: ConfigNode) {
    self.path = path
    self.sourceText = sourceText
    self.includedFiles = includedFiles
    self.root = root
  }

  /// The file name without directory and extension: the experiment's default name.
  public var stem: String {
    let name = (path as NSString).lastPathComponent
    let stem = (name as NSString).deletingPathExtension
    return stem.isEmpty ? name : stem
  }

  /// The resolved tree as YAML (includes merged, overrides applied, sweep still unexpanded).
  public var resolvedYAML: String { root.yamlText() }

  /// Applies one `key.path=value` override. The value is parsed as YAML, so lists and
  /// mappings can be given in flow style (`sweep.m=[100,200]`, `problem={kind: spiked}`).
  ///
  /// Sweep axis names contain dots themselves (`sweep.algorithm.eta` is the axis
  /// `algorithm.eta`), so below `sweep` (and `sweep.zip`) the rest of the path is taken as one
  /// axis key.
  public mutating func applyOverride(_ assignment: String) throws(ConfigError) {
    func fail(_ keyPath: String, _ message: String) -> ConfigError {
      ConfigError(file: SourceMark.commandLine.file, keyPath: keyPath, message: message)
    }
    guard let equals = assignment.firstIndex(of: "=") else {
      throw fail("", "malformed override '\(assignment)': expected key.path=value")
    }
    let keyText = assignment[..<equals].trimmingCharacters(in: .whitespaces)
    let valueText = String(assignment[assignment.index(after: equals)...])
    guard !keyText.isEmpty else {
      throw fail("", "malformed override '\(assignment)': the key before '=' is empty")
    }
    let path: ConfigPath
    do {
      path = try ConfigDocument.overridePath(keyText)
    } catch {
      throw fail(keyText, "malformed override '\(assignment)': \(error.reason)")
    }
    if case .key("include") = path.components.first {
      throw fail(keyText, "include cannot be set with --set; includes are resolved when the file is loaded")
    }
    var value: ConfigNode
    do {
      value = try ConfigNode.parse(yaml: valueText, file: SourceMark.commandLine.file)
    } catch {
      throw fail(keyText, "cannot parse the value '\(valueText)' as YAML: \(error.message)")
    }
    // An empty value is YAML null (unset), not the empty mapping an empty file would be.
    if valueText.trimmingCharacters(in: .whitespaces).isEmpty {
      value = .scalar("", mark: .commandLine)
    }
    value.relabel(to: .commandLine)
    do {
      try root.set(value, at: path, creatingWith: .commandLine)
    } catch {
      throw fail(keyText, error.reason)
    }
    overrides.append(assignment)
  }

  /// Parses an override's key, treating the remainder after `sweep.` (or `sweep.zip.`, or
  /// `sweep.zip[i].`) as a single axis key that may itself contain dots.
  package static func overridePath(_ text: String) throws(PathSyntaxError) -> ConfigPath {
    guard text == "sweep" || text.hasPrefix("sweep.") else { return try ConfigPath.parse(text) }
    var components: [ConfigPath.Component] = [.key("sweep")]
    var rest = Substring(text.dropFirst("sweep".count))
    guard !rest.isEmpty else { return ConfigPath(components) }
    rest = rest.dropFirst()  // the dot
    if rest == "zip" || rest.hasPrefix("zip.") || rest.hasPrefix("zip[") {
      let zipPart = rest.prefix { $0 != "." }
      components += try ConfigPath.parse(String(zipPart)).components
      rest = rest.dropFirst(zipPart.count)
      guard !rest.isEmpty else { return ConfigPath(components) }
      rest = rest.dropFirst()
    }
    // The axis key runs to the first '[' (an index into the axis' value list).
    let axis = rest.prefix { $0 != "[" }
    guard !axis.isEmpty else { throw PathSyntaxError(path: text, reason: "empty sweep axis name") }
    components.append(.key(String(axis)))
    let indices = rest.dropFirst(axis.count)
    if !indices.isEmpty {
      components += try ConfigPath.parse("x" + indices).components.dropFirst()
    }
    return ConfigPath(components)
  }
}

extension ConfigNode {
  /// Gives every node in the tree `mark`: values parsed from `--set` text should point at the
  /// command line, not at "line 1" of a one-line string.
  package mutating func relabel(to mark: SourceMark) {
    self.mark = mark
    switch content {
    case .scalar:
      break
    case .sequence(var items):
      for index in items.indices { items[index].relabel(to: mark) }
      content = .sequence(items)
    case .mapping(var entries):
      for index in entries.indices {
        entries[index].keyMark = mark
        entries[index].value.relabel(to: mark)
      }
      content = .mapping(entries)
    }
  }

  /// `overlay` on top of `self`: mappings merge key by key (recursively; keys new in the
  /// overlay are appended in its order), anything else is replaced by the overlay.
  public func merging(_ overlay: ConfigNode) -> ConfigNode {
    guard case .mapping(var entries) = content, case .mapping(let overlayEntries) = overlay.content else {
      return overlay
    }
    for entry in overlayEntries {
      if let index = entries.firstIndex(where: { $0.key == entry.key }) {
        entries[index].value = entries[index].value.merging(entry.value)
        entries[index].keyMark = entry.keyMark
      } else {
        entries.append(entry)
      }
    }
    return .mapping(entries, mark: overlay.mark)
  }
}

/// Loads a file and, depth first, the files its `include:` names. Tracks the chain of files
/// being loaded so a cycle is reported with the whole loop instead of recursing forever.
private struct IncludeLoader {
  package var loadedIncludes: [String] = []
  /// A config (or an included file) larger than this is refused: configs are a few KiB.
  package static let maximumBytes = 16 << 20

  /// A canonical identity for cycle detection: absolute, standardised, symlinks resolved.
  package func identity(of path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
  }

  /// Reads and resolves `path`. `requestedAt` is the include entry that asked for it (nil for
  /// the top file), which is where a read failure is reported.
  package mutating func load(
    _ path: String, chain: [(identity: String, display: String)], requestedAt: (SourceMark, ConfigPath)?
  ) throws(ConfigError) -> (ConfigNode, String) {
    func fail(_ message: String) -> ConfigError {
      if let (mark, keyPath) = requestedAt { return ConfigError(at: mark, path: keyPath, message) }
      return ConfigError(file: path, message: message)
    }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw fail(requestedAt == nil ? "config file not found" : "included file '\(path)' not found")
    }
    guard !isDirectory.boolValue else {
      throw fail("'\(path)' is a directory, not a config file")
    }
    let data: [UInt8]
    do {
      data = try FileSystem.readRegularFile(path, limit: Self.maximumBytes)
    } catch {
      throw fail("\(error)")
    }
    guard let text = String(validating: data, as: UTF8.self) else {
      throw fail("'\(path)' is not UTF-8 text")
    }
    let root = try resolve(text: text, file: path, chain: chain.map(\.identity) + [identity(of: path)], displayChain: chain.map(\.display) + [path])
    return (root, text)
  }

  /// Parses `text` and merges the files it includes beneath it.
  package mutating func resolve(
    text: String, file: String, chain: [String], displayChain: [String]? = nil
  ) throws(ConfigError) -> ConfigNode {
    var root = try ConfigNode.parse(yaml: text, file: file)
    guard case .mapping = root.content else {
      throw ConfigError(at: root.mark, path: .root, "the top level of a config must be a mapping, got \(root.kindDescription)")
    }
    guard let include = root.removeEntry("include"), !include.value.isNull else { return root }
    let displayChain = displayChain ?? [file]
    let includePath = ConfigPath.root.appending("include")
    var requests: [(String, SourceMark, ConfigPath)] = []
    switch include.value.content {
    case .scalar(let text, _):
      requests = [(text, include.value.mark, includePath)]
    case .sequence(let items):
      for (index, item) in items.enumerated() {
        guard case .scalar(let text, _) = item.content, !item.isNull else {
          throw ConfigError(
            at: item.mark, path: includePath.appending(index: index),
            "expected a file path, got \(item.kindDescription) \(item.compactText)")
        }
        requests.append((text, item.mark, includePath.appending(index: index)))
      }
    case .mapping:
      throw ConfigError(
        at: include.value.mark, path: includePath,
        "expected a file path or a list of file paths, got a mapping \(include.value.compactText)")
    }
    var base: ConfigNode?
    let directory = (file as NSString).deletingLastPathComponent
    for (request, mark, keyPath) in requests {
      let resolved = request.hasPrefix("/")
        ? request : ((directory as NSString).appendingPathComponent(request) as NSString).standardizingPath
      let resolvedIdentity = identity(of: resolved)
      if let start = chain.firstIndex(of: resolvedIdentity) {
        let loop = (Array(displayChain[start...]) + [resolved]).joined(separator: " -> ")
        throw ConfigError(at: mark, path: keyPath, "include cycle: \(loop)")
      }
      let pairs = zip(chain, displayChain).map { (identity: $0, display: $1) }
      let (included, _) = try load(resolved, chain: pairs, requestedAt: (mark, keyPath))
      loadedIncludes.append(resolved)
      base = base.map { $0.merging(included) } ?? included
    }
    return base.map { $0.merging(root) } ?? root
  }
}
