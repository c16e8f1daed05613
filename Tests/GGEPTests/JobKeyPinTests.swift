import Foundation
import XCTest

@testable import GGEPCore
@testable import GGEPPrior
@testable import GGEPNumerics
@testable import GGEPModels
@testable import GGEPConfig
@testable import GGEPPipeline
@testable import GGEPPlot
@testable import GGEPCluster
@testable import GGEPComponents
@testable import GGEPKindGEP
@testable import GGEPKindInversion
@testable import GGEPPriors
@testable import GGEPBench
@testable import GGEPBuiltIns

/// The job keys of every committed config, pinned ("pin before you move").
///
/// A job key names a job's results in every results file, keys its random streams, and decides
/// what a rerun resumes. A refactor that changes how a spec is encoded changes every key:
/// cached results stop resuming and every random draw moves. So the keys of every config under
/// configs/paper, beyond, examples and the study folders are compared with a committed fixture:
/// per config, the batches' group keys in plan order and a SHA-256 over all job keys.
///
/// `own-data.yaml` names a data file whose SHA-256 is part of its keys; the file is made by
/// `scripts/make-own-data.py` (h5py), whose bytes may differ between h5py versions, so its keys
/// are computed with the data checksum the fixture recorded.
///
/// To rewrite the fixture (only when a key change is intended and announced):
/// `GGEP_WRITE_KEY_FIXTURE=1 swift test --filter JobKeyPinTests`.
final class JobKeyPinTests: GGEPTestCase {
  static let fixturePath = MNISTLocation.packageRoot + "/Tests/GGEPTests/Fixtures/job-keys.json"

  struct Entry: Codable, Equatable {
    var jobs: Int
    var groups: [String]
    var keysSHA256: String
  }

  struct Fixture: Codable {
    var note: String
    var ownDataChecksum: String
    var configs: [String: Entry]
  }

  /// Every committed config that plans on its own (`defaults.yaml` files are only included).
  static func committedConfigs() throws -> [String] {
    var paths: [String] = []
    for folder in [
      "configs/paper", "configs/beyond", "configs/examples", "configs/inversion-random", "configs/inversion-expansion", "configs/projectors-in-prfm",
      "configs/inversion-mnist", "configs/priors",
    ] {
      let names = try FileManager.default.contentsOfDirectory(atPath: MNISTLocation.packageRoot + "/" + folder)
      paths += names.filter { $0.hasSuffix(".yaml") && $0 != "defaults.yaml" }.sorted().map { "\(folder)/\($0)" }
    }
    return paths
  }

  /// The example data file of own-data.yaml, made by its script into `directory` (never into
  /// the repository's data/). Returns its path.
  static func makeOwnData(in directory: String) throws -> String {
    let root = MNISTLocation.packageRoot
    guard MNISTLocation.directory != nil else { throw XCTSkip("MNIST not found (make data): own-data.h5 cannot be made") }
    let path = directory + "/own-data.h5"
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["python3", "scripts/make-own-data.py", "--out", path]
    process.currentDirectoryURL = URL(fileURLWithPath: root)
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw NSError(domain: "JobKeyPinTests", code: 1, userInfo: [NSLocalizedDescriptionKey: "scripts/make-own-data.py failed (needs numpy, h5py: make python-deps)"])
    }
    return path
  }

  /// The entry of one config: its plan's group keys and a digest of its job keys, with a user
  /// data file's checksum replaced by `dataChecksum` and its path by `dataFile` when given.
  static func entry(_ plan: ExperimentPlan, dataChecksum: String?, dataFile: String? = nil) -> Entry {
    var keys: [String] = []
    var groups: [String] = []
    for job in plan.jobs {
      var spec: any KindSpec = job.kindSpec
      if let dataChecksum, var gep = spec as? ExperimentSpec, var data = gep.problem.userData {
        data.checksum = dataChecksum
        if let dataFile { data.file = dataFile }
        gep.problem = .samples(data)
        spec = gep
      }
      let group = JobSpec.groupKey(for: spec)
      if groups.last != group { groups.append(group) }
      keys.append(JobSpec.key(for: spec, signalIndex: job.signalIndex, trial: job.trial))
    }
    return Entry(jobs: keys.count, groups: groups, keysSHA256: SHA256.hexDigest(keys.joined(separator: "\n").utf8))
  }

  func testJobKeysOfEveryCommittedConfigAreUnchanged() throws {
    try Repository.withRootAsWorkingDirectory { try checkJobKeys() }
  }

  private func checkJobKeys() throws {
    let scratch = try ConfigFixture()
    let ownData = try Self.makeOwnData(in: scratch.directory.path)

    let writing = ProcessInfo.processInfo.environment["GGEP_WRITE_KEY_FIXTURE"] == "1"
    let stored = writing ? nil : try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: Self.fixturePath)))
    var ownDataChecksum = stored?.ownDataChecksum
    var entries: [String: Entry] = [:]
    let configs = try Self.committedConfigs()
    XCTAssertGreaterThanOrEqual(configs.count, 12, "\(configs)")
    for path in configs {
      // own-data.yaml reads its file from a scratch folder, keyed as if it were the committed
      // path (the path is part of the key).
      let names = (try? String(contentsOfFile: path, encoding: .utf8))?.contains("kind: samples") == true
      let committedFile = "data/own-data.h5"
      let plan = try ExperimentPlan.load(path: path, overrides: names ? ["problem.file=\(ownData)"] : [])
      let userData = (plan.points.first?.kindSpec as? ExperimentSpec)?.problem.userData
      if ownDataChecksum == nil, let userData { ownDataChecksum = userData.checksum }
      entries[path] = Self.entry(plan, dataChecksum: userData == nil ? nil : ownDataChecksum, dataFile: userData == nil ? nil : committedFile)
    }

    if writing {
      let fixture = Fixture(
        note: "Job keys of every committed config (JobKeyPinTests). Never edit by hand; a change here changes what every result is filed under.",
        ownDataChecksum: ownDataChecksum ?? "", configs: entries)
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      try FileManager.default.createDirectory(atPath: (Self.fixturePath as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
      try encoder.encode(fixture).write(to: URL(fileURLWithPath: Self.fixturePath))
      print("wrote \(Self.fixturePath): \(entries.count) configs, \(entries.values.map(\.jobs).reduce(0, +)) jobs")
      return
    }
    let fixture = try XCTUnwrap(stored)
    XCTAssertEqual(Set(entries.keys), Set(fixture.configs.keys), "the committed configs changed: update the fixture deliberately")
    for (path, expected) in fixture.configs.sorted(by: { $0.key < $1.key }) {
      guard let found = entries[path] else { continue }
      XCTAssertEqual(found.jobs, expected.jobs, "\(path): job count")
      for (index, (a, b)) in zip(found.groups, expected.groups).enumerated() where a != b {
        XCTFail("\(path): batch \(index) has group key \(a), the fixture \(b)")
        break
      }
      XCTAssertEqual(found.groups.count, expected.groups.count, "\(path): batches")
      XCTAssertEqual(found.keysSHA256, expected.keysSHA256, "\(path): the job keys changed")
    }
  }

  /// A field added after the pin joins the key only when set: at its default the encoding (and
  /// so the key) is the old one.
  func testAFieldAddedAtItsDefaultLeavesTheEncodingAlone() throws {
    struct Old: Encodable { var m = 100 }
    struct New: Encodable {
      var m = 100
      var added = 0.5
      enum CodingKeys: String, CodingKey { case m, added }
      func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(m, forKey: .m)
        try container.encode(added, forKey: .added, unlessEqualTo: 0.5)
      }
    }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    XCTAssertEqual(try encoder.encode(New()), try encoder.encode(Old()))
    XCTAssertEqual(String(decoding: try encoder.encode(New(added: 0.7)), as: UTF8.self), #"{"added":0.7,"m":100}"#)
  }
}
