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

/// Where the MNIST files are, if anywhere: `$MNIST_DIR`, the package's `data/mnist`, or the
/// workspace's datasets folder beside the package (the same default as `make data`).
enum MNISTLocation {
  static let packageRoot: String = {
    // Tests/GGEPTests/MNISTTests.swift → the package root two levels up.
    let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
    return url.path
  }()

  static var directory: String? {
    var candidates: [String] = []
    if let env = ProcessInfo.processInfo.environment["MNIST_DIR"], !env.isEmpty { candidates.append(env) }
    candidates.append(packageRoot + "/data/mnist")
    candidates.append(packageRoot + "/../shared/datasets/mnist")
    return candidates.first { dir in
      MNIST.File.allCases.allSatisfy { (try? MNIST.locate($0, in: dir)) != nil }
    }
  }
}

final class MNISTTests: GGEPTestCase {
  var directory: URL!

  override func setUpWithError() throws {
    directory = FileManager.default.temporaryDirectory.appendingPathComponent("ggep-mnist-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  override func tearDownWithError() throws {
    try? FileManager.default.removeItem(at: directory)
  }

  private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

  private func write(_ bytes: [UInt8], _ name: String) throws -> String {
    let p = path(name)
    try Data(bytes).write(to: URL(fileURLWithPath: p))
    return p
  }

  /// Three tiny "images" whose pixel (r, c) of image i is (i + r + c) mod 256.
  private func imageFixture(count: Int = 3, rows: Int = 28, columns: Int = 28) -> [UInt8] {
    var pixels: [UInt8] = []
    for i in 0..<count { for r in 0..<rows { for c in 0..<columns { pixels.append(UInt8((i * 50 + r + c) % 256)) } } }
    return IDX.encode(images: pixels, count: count, rows: rows, columns: columns)
  }

  private func assertThrows(
    _ expression: @autoclosure () throws -> some Any, containing parts: [String], file: StaticString = #filePath,
    line: UInt = #line
  ) {
    XCTAssertThrowsError(try expression(), file: file, line: line) { error in
      let text = "\(error)"
      for part in parts {
        XCTAssertTrue(text.contains(part), "'\(text)' does not mention '\(part)'", file: file, line: line)
      }
    }
  }

  func testParsesImageAndLabelHeaders() throws {
    let images = try IDX.parseImages(imageFixture(), file: "x")
    XCTAssertEqual(images.count, 3)
    XCTAssertEqual(images.rows, 28)
    XCTAssertEqual(images.columns, 28)
    XCTAssertEqual(images.pixels.count, 3 * 784)
    XCTAssertEqual(images.pixels[images.pixels.startIndex + 784 + 28 * 2 + 5], UInt8(50 + 2 + 5))
    XCTAssertEqual(try IDX.parseLabels(IDX.encode(labels: [7, 2, 1]), file: "y"), [7, 2, 1])
  }

  func testReadsGzippedAndRawFilesAlike() throws {
    let bytes = imageFixture()
    let gz = try write(CompressedFile.gzip(bytes), "images.gz")
    let raw = try write(bytes, "images")
    XCTAssertEqual(try CompressedFile.readContent(gz).content, bytes)
    XCTAssertEqual(try CompressedFile.readContent(raw).content, bytes)
    // Two concatenated gzip members read as one stream (what `cat a.gz b.gz` gives).
    let twice = try write(CompressedFile.gzip(bytes) + CompressedFile.gzip(bytes), "twice.gz")
    XCTAssertEqual(try CompressedFile.readContent(twice).content, bytes + bytes)
  }

  func testRejectsBadHeadersAndLengthsNamingTheFile() throws {
    var badMagic = imageFixture()
    badMagic[3] = 0x01  // 2049: a label file's magic
    assertThrows(try IDX.parseImages(badMagic, file: "a/train-images"), containing: ["a/train-images", "bad magic number 2049", "2051"])
    assertThrows(
      try IDX.parseImages(imageFixture(rows: 20, columns: 20), file: "small"),
      containing: ["small", "20×20", "expected 28×28"])
    let full = imageFixture()
    assertThrows(
      try IDX.parseImages(Array(full.dropLast(10)), file: "cut"),
      containing: ["cut", "truncated", "\(full.count - 10) bytes", "need \(full.count)"])
    assertThrows(try IDX.parseImages(full + [0], file: "long"), containing: ["long", "too long"])
    assertThrows(try IDX.parseImages(Array(full.prefix(9)), file: "header"), containing: ["header", "truncated", "16-byte"])
    assertThrows(try IDX.parseLabels(imageFixture(), file: "labels"), containing: ["labels", "bad magic number 2051", "2049"])
    assertThrows(try IDX.parseLabels(Array(IDX.encode(labels: [1, 2, 3]).dropLast()), file: "l"), containing: ["l", "truncated"])
    assertThrows(try IDX.parseLabels(IDX.encode(labels: [1, 12]), file: "l"), containing: ["label 1 is 12"])
  }

  func testRejectsTruncatedAndCorruptGzipNamingTheFile() throws {
    let gz = CompressedFile.gzip(imageFixture())
    let cut = try write(Array(gz.prefix(gz.count / 2)), "cut.gz")
    assertThrows(try CompressedFile.readContent(cut), containing: [cut, "truncated gzip data"])
    var corrupt = gz
    for i in 20..<40 { corrupt[i] ^= 0x5A }
    let bad = try write(corrupt, "bad.gz")
    assertThrows(try CompressedFile.readContent(bad), containing: [bad, "gzip data"])
    let missing = path("nothing.gz")
    assertThrows(try CompressedFile.readContent(missing), containing: [missing, "file not found"])
  }

  /// A data directory with the standard names but other content: each file is refused with its
  /// name, the expected and the actual digest. With checks off, the loader reads it and then
  /// notices that image and label counts differ.
  func testChecksumMismatchNamesFileAndDigests() throws {
    let images = CompressedFile.gzip(imageFixture(count: 3))
    let labels = CompressedFile.gzip(IDX.encode(labels: [1, 2]))
    let imagePath = try write(images, MNIST.File.testImages.fileName)
    let labelPath = try write(labels, MNIST.File.testLabels.fileName)
    let actual = SHA256.hexDigest(images)
    assertThrows(
      try MNIST.load(.test, directory: directory.path),
      containing: [imagePath, "SHA-256 mismatch", "expected \(MNIST.File.testImages.sha256)", "got \(actual)"])
    assertThrows(
      try MNIST.load(.test, directory: directory.path, verifyChecksums: false),
      containing: [labelPath, "2 labels", "3 images"])
    // A raw (decompressed) file is checked against the content digest.
    try FileManager.default.removeItem(atPath: labelPath)
    let rawLabels = try write(IDX.encode(labels: [1, 2, 3]), MNIST.File.testLabels.rawFileName)
    assertThrows(
      try MNIST.readVerified(rawLabels, file: .testLabels),
      containing: [rawLabels, "expected \(MNIST.File.testLabels.contentSHA256)"])
    XCTAssertEqual(try MNIST.load(.test, directory: directory.path, verifyChecksums: false).count, 3)
    assertThrows(try MNIST.load(.train, directory: directory.path), containing: ["train-images-idx3-ubyte.gz", "file not found"])
  }

  /// A re-compressed copy of the real data (other gzip bytes, same content) passes the check.
  func testRecompressedCopyPassesByContentDigest() throws {
    guard let dir = MNISTLocation.directory else { throw XCTSkip("MNIST data not found (run `make data`)") }
    let original = try MNIST.locate(.testLabels, in: dir)
    let content = try CompressedFile.readContent(original).content
    let copy = try write(CompressedFile.gzip(content), MNIST.File.testLabels.fileName)
    XCTAssertNotEqual(SHA256.hexDigest(try CompressedFile.readBytes(copy)), MNIST.File.testLabels.sha256)
    XCTAssertEqual(try MNIST.readVerified(copy, file: .testLabels), content)
  }

  func testLoadsTheRealTestSet() throws {
    guard let dir = MNISTLocation.directory else { throw XCTSkip("MNIST data not found (run `make data`)") }
    let test = try MNIST.load(.test, directory: dir)
    XCTAssertEqual(test.count, 10_000)
    XCTAssertEqual(test.images.cols, 784)
    XCTAssertEqual(Array(test.labels.prefix(5)), [7, 2, 1, 0, 4])
    XCTAssertEqual(test.images.storage.min(), 0)
    XCTAssertEqual(test.images.storage.max(), 1)
    // Mean pixel intensity of the MNIST test set ≈ 0.1325.
    let mean = test.images.storage.reduce(0.0) { $0 + Double($1) } / Double(test.images.storage.count)
    XCTAssertEqual(mean, 0.1325, accuracy: 0.002)
  }
}
