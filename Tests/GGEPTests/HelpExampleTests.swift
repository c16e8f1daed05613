import Foundation
import XCTest

/// The examples in `ggep <command> --help`: every config, model or fixture path they read is a
/// file of the repository, so a user who copies an example line gets a run, not "no such file"
/// (what an example writes, after --out, --checkpoint or out=, is not checked).
final class HelpExampleTests: GGEPTestCase {
  /// The subcommands `ggep --help` lists (a name at two spaces of indent, under SUBCOMMANDS).
  static func commands() throws -> [String] {
    let help = try GGEPExecutable.run(["--help"]).stdout
    guard let section = help.range(of: "SUBCOMMANDS:") else { return [] }
    return help[section.upperBound...].split(separator: "\n").compactMap { line in
      guard line.hasPrefix("  "), !line.hasPrefix("   ") else { return nil }
      return line.split(separator: " ").first.map(String.init)
    }
  }

  func testEveryPathInTheHelpExamplesExists() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let pattern = try NSRegularExpression(pattern: #"(?<![\w/.])((?:configs|models|Tests)/[\w./-]+\.(?:yaml|h5|safetensors))"#)
    var checked = 0
    let commands = try Self.commands()
    XCTAssertTrue(commands.contains("train-generator") && commands.count >= 16, "\(commands)")
    for command in commands {
      let help = try GGEPExecutable.run([command, "--help"])
      XCTAssertEqual(help.status, 0, command)
      // The help wraps long lines; a path never contains a space, so join the wrapped pieces.
      let text = help.stdout
      for match in pattern.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
        let range = Range(match.range(at: 1), in: text)!
        let path = String(text[range])
        // What the example writes (--out, --checkpoint, out=) need not exist yet.
        let start: String.Index = text.index(range.lowerBound, offsetBy: -14, limitedBy: text.startIndex) ?? text.startIndex
        let before = String(text[start..<range.lowerBound])
        if ["--out ", "--checkpoint ", "out="].contains(where: { before.hasSuffix($0) }) { continue }
        checked += 1
        XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path), "ggep \(command) --help names \(path), which does not exist")
      }
    }
    XCTAssertGreaterThan(checked, 3, "the help texts name example files")
  }
}
