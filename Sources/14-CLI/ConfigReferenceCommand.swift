import ArgumentParser
import Foundation
import GGEPComponents
import GGEPCore

/// `ggep config-reference`: the config keys every registered component declares, as Markdown.
struct ConfigReferenceCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "config-reference",
    abstract: "Print the config keys each generator, problem and projection method declares, or refresh them in a page.",
    discussion: """
      The tables are generated from the components' declarations, so they cannot drift from \
      what the config readers accept. With --update, the parts of FILE between \
      <!-- BEGIN GENERATED: <part> --> and <!-- END GENERATED: <part> --> are rewritten:

        ggep config-reference --update docs/config-reference.md
      """)

  @Option(help: ArgumentHelp("Rewrite the generated parts of this Markdown file in place.", valueName: "file"))
  var update: String?

  func run() throws {
    guard let update else {
      for part in ConfigReference.parts { print(part.markdown) }
      return
    }
    // A Markdown page, read as a regular file of bounded size like a config.
    let text = String(decoding: try FileSystem.readRegularFile(update, limit: 16 << 20), as: UTF8.self)
    let updated = ConfigReference.update(text)
    if updated != text { try updated.write(toFile: update, atomically: true, encoding: .utf8) }
    print(updated == text ? "\(update): up to date" : "\(update): generated parts rewritten")
  }
}
