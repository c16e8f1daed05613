import Foundation

/// The code version recorded in results: `git describe --tags --always --dirty` of the source
/// tree this binary was built from (found through `#filePath`), else the semantic version.
public enum BuildInfo {
  public static let gitDescribe: String = {
    let sourceRoot = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["git", "-C", sourceRoot.path, "describe", "--tags", "--always", "--dirty"]
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    do {
      try process.run()
      process.waitUntilExit()
      let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)
      if process.terminationStatus == 0, !text.isEmpty { return "\(GGEPVersion.semantic)+\(text)" }
    } catch {}
    return GGEPVersion.semantic
  }()

  public static func timestamp(_ date: Date = Date()) -> String {
    let formatter = ISO8601DateFormatter()
    formatter.formatOptions = [.withInternetDateTime]
    return formatter.string(from: date)
  }
}
