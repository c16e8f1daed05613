import Foundation
import XCTest

/// The `ggep` binary SwiftPM built beside the test bundle (`swift build --build-tests` builds
/// both), run as a user would; its absence is a failure, not a skip.
enum GGEPExecutable {
  struct Outcome {
    var status: Int32
    var stdout: String
    var stderr: String
  }

  struct Missing: Error, CustomStringConvertible {
    let description: String
  }

  static var url: URL {
    get throws {
      let bundle = Bundle(for: CLITests.self).bundleURL
      for directory in [bundle, bundle.deletingLastPathComponent()] {
        let url = directory.appendingPathComponent("ggep")
        if FileManager.default.isExecutableFile(atPath: url.path) { return url }
      }
      throw Missing(description: "ggep executable not found beside \(bundle.path); build it with `swift build --build-tests`")
    }
  }

  /// Runs `ggep arguments…` (in `directory` if given) and collects its exit status and output.
  static func run(_ arguments: [String], in directory: String? = nil) throws -> Outcome {
    let process = Process()
    process.executableURL = try url
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return Outcome(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
  }
}
