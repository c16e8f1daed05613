import Foundation
import XCTest
@testable import GGEPConfig
@testable import GGEPComponents

/// `docs/config-reference.md`'s generated parts equal what the registered components declare.
final class ConfigReferenceTests: GGEPTestCase {
  /// The committed page is up to date: a key added, renamed or given another default without
  /// `make docs` fails here.
  func testTheCommittedReferenceMatchesTheDeclaredKeys() throws {
    let path = MNISTLocation.packageRoot + "/docs/config-reference.md"
    let page = try String(contentsOfFile: path, encoding: .utf8)
    for part in ConfigReference.parts {
      XCTAssertTrue(page.contains("<!-- BEGIN GENERATED: \(part.name) -->"), "docs/config-reference.md has no place for \(part.name)")
    }
    XCTAssertEqual(ConfigReference.update(page), page, "docs/config-reference.md is stale: run `make docs`")
    // Every built-in kind and method has its table, with its defaults.
    for type in GeneratorComponents.builtIn { XCTAssertTrue(page.contains("### `kind: \(type.kind)`"), type.kind) }
    for type in ProjectorComponents.builtIn { XCTAssertTrue(page.contains("### `method: \(type.method)`"), type.method) }
    for type in ProblemComponents.builtIn { XCTAssertTrue(page.contains("### `kind: \(type.kind)`"), type.kind) }
    for type in AlgorithmComponents.builtIn { XCTAssertTrue(page.contains("### `kind: \(type.kind)`"), type.kind) }
    for type in InverterComponents.builtIn { XCTAssertTrue(page.contains("#### `kind: \(type.kind)`"), type.kind) }
    XCTAssertTrue(page.contains("| `iterations` | integer ≥ 1 | `30` | T, the iteration budget |"))
    XCTAssertTrue(page.contains("| `restarts` | integer ≥ 1 | `3` | random starts; the lowest final loss wins |"))
  }

  /// A declared key is a key the reader accepts, and an undeclared one is refused: the
  /// declarations are the readers' allow-lists.
  func testEveryDeclaredKeyIsAcceptedAndNoOtherKey() throws {
    let fixture = try ConfigFixture()
    let base = """
      m: 50
      signal: {source: generator, count: 1}
      problem: {kind: spiked}
      algorithm: {kind: prfm, iterations: 2}
      generator: {kind: relu-random, n: 20, k: 3}

      """
    for key in AdamProjectorSpec.keys {
      let value = key.name == "warm_start" ? "true" : "2"
      XCTAssertNoThrow(try fixture.plan(base + "projection: {method: adam, \(key.name): \(value)}\n"), key.name)
    }
    XCTAssertThrowsError(try fixture.plan(base + "projection: {method: adam, start: lp}\n")) { error in
      XCTAssertTrue("\(error)".contains("unknown key for method adam"), "\(error)")
    }
    for key in ReLURandomGeneratorSpec.keys {
      let value = ["n": "20", "k": "3", "hidden": "7", "seed": "4"][key.name]!
      XCTAssertNoThrow(try fixture.plan(base + "projection: {method: adam}\n", overrides: ["generator.\(key.name)=\(value)"]), key.name)
    }
  }
}
