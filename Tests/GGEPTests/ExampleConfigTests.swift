import Foundation
import XCTest
@testable import GGEPCore
@testable import GGEPPipeline
@testable import GGEPKindGEP
@testable import GGEPKindInversion

/// Every config under `configs/examples/` runs as the docs say a user runs it (`ggep run`), so an
/// example can never rot: a new example file is picked up by this test without an edit here.
final class ExampleConfigTests: GGEPTestCase {
  /// Each example runs to exit 0, every planned job ends `ok`, and every job records a finite
  /// result: a cosine in [0, 1] for a GEP job with a truth, a finite latent SNR for an inversion.
  func testEveryExampleConfigRuns() throws {
    let root = MNISTLocation.packageRoot
    let folder = root + "/configs/examples"
    let examples = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }.sorted()
    XCTAssertGreaterThanOrEqual(examples.count, 7, "configs/examples/ lost its examples: \(examples)")
    let scratch = NSTemporaryDirectory() + "ggep-examples-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    for example in examples {
      let name = (example as NSString).deletingPathExtension
      let out = scratch + "/" + name
      var arguments = ["run", "configs/examples/" + example, "--out", out]
      if name == "own-data" {
        // The example's data file is made by the script its header names; made here into the
        // scratch folder, so the test leaves data/ as it found it.
        let data = scratch + "/own-data.h5"
        let script = Process()
        script.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        script.arguments = ["python3", "scripts/make-own-data.py", "--out", data]
        script.currentDirectoryURL = URL(fileURLWithPath: root)
        try script.run()
        script.waitUntilExit()
        XCTAssertEqual(script.terminationStatus, 0, "scripts/make-own-data.py failed (needs numpy, h5py and data/mnist: make test installs them)")
        arguments += ["--set", "problem.file=\(data)"]
      }
      let started = Date()
      let outcome = try GGEPExecutable.run(arguments, in: root)
      XCTAssertEqual(outcome.status, 0, "\(example): \(outcome.stderr)")
      guard outcome.status == 0 else { continue }
      let file = try ResultsFile.read(out + "/results.h5")
      XCTAssertEqual(file.records.count, file.provenance.plannedJobs, "\(example): every planned job is in the file")
      XCTAssertGreaterThan(file.records.count, 0, example)
      for record in file.records {
        XCTAssertEqual(record.status, .ok, "\(example) \(record.key): \(record.error)")
        if file.provenance.experiment == "inversion" {
          XCTAssertTrue(record[InversionColumn.snrLatentDB].isFinite, "\(example) \(record.key): latent SNR")
        } else if !record.signalVector.isEmpty {
          XCTAssertTrue((0...1).contains(record.cosine), "\(example) \(record.key): cosine \(record.cosine)")
        }
      }
      print("\(example): \(file.records.count) jobs in \(String(format: "%.1f", Date().timeIntervalSince(started))) s")
    }
  }
}
