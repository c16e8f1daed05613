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

extension GGEPExecutable {
  /// Runs `ggep arguments…` in `directory` and returns its outcome and its own peak resident
  /// set (`wait4`'s rusage of that one child, in KiB): a memory bound measured on the process
  /// that does the work, with nothing of the test process or earlier children mixed in.
  static func runMeasuringPeak(_ arguments: [String], in directory: String) throws -> (outcome: Outcome, peakKiB: Int) {
    let executable = try url.path
    let scratch = NSTemporaryDirectory() + "ggep-peak-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 1, scratch + "/out", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addopen(&actions, 2, scratch + "/err", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    // The shell changes directory and `exec`s ggep in its own process, so wait4 measures ggep.
    let argv = (["/bin/sh", "-c", "cd \"$0\" && exec \"$@\"", directory, executable] + arguments).map { strdup($0) } + [nil]
    defer { for p in argv { free(p) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, argv, environ)
    guard spawned == 0 else { throw Missing(description: "posix_spawn \(executable) failed: \(String(cString: strerror(spawned)))") }
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
    let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
    let read = { (name: String) in (try? String(contentsOfFile: scratch + "/" + name, encoding: .utf8)) ?? "" }
    return (Outcome(status: exit, stdout: read("out"), stderr: read("err")), usage.ru_maxrss)
  }
}
