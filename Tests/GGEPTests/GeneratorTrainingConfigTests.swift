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

/// `ggep train-generator` configs: every committed one reads; bad ones are refused naming the
/// file, the key and the value; a short run writes a loadable model, a grid and a curve, and a
/// run stopped after one epoch continues from its checkpoint to the same model.
final class GeneratorTrainingConfigTests: GGEPTestCase {
  var fixture: ConfigFixture!
  override func setUpWithError() throws { fixture = try ConfigFixture() }
  override func tearDown() { fixture = nil }

  func testEveryCommittedModelConfigReads() throws {
    let directory = MNISTLocation.packageRoot + "/configs/models"
    let files = try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasSuffix(".yaml") }.sorted()
    XCTAssertGreaterThanOrEqual(files.count, 4)
    for file in files {
      let config = try GeneratorTrainingConfig.load(path: directory + "/" + file)
      if let vae = config.vae {
        XCTAssertNil(config.settings, file)
        XCTAssertEqual(vae.architecture.latent, 20, file)
      } else {
        XCTAssertEqual(config.settings?.widths, [20, 128, 392, 784], file)
      }
      XCTAssertEqual(config.out, "models/" + file.replacingOccurrences(of: ".yaml", with: ".h5"), file)
    }
  }

  func testBadConfigsNameFileKeyAndValue() throws {
    let good = "kind: gan\nout: m.h5\ngan: {loss: cross-entropy}\n"
    func refuse(_ text: String, _ expected: [String], file: StaticString = #filePath, line: UInt = #line) throws {
      let path = fixture.directory.appendingPathComponent("bad.yaml").path
      try text.write(toFile: path, atomically: true, encoding: .utf8)
      XCTAssertThrowsError(try GeneratorTrainingConfig.load(path: path), file: file, line: line) { error in
        for part in ["bad.yaml"] + expected { XCTAssertTrue("\(error)".contains(part), "\(error) lacks \(part)", file: file, line: line) }
      }
    }
    try refuse("kind: diffusion\nout: m.h5\n", ["kind", "diffusion"])
    try refuse(good.replacingOccurrences(of: "cross-entropy", with: "hinge"), ["gan.loss", "hinge"])
    try refuse("kind: gan\nout: m.h5\ngan: {loss: mean-square, non_saturating: true}\n", ["gan.non_saturating", "cross-entropy only"])
    try refuse(good + "kernel: {criterion: mmd}\n", ["kernel", "applies to kind kernel"])
    try refuse(good + "generator: {widths: [20, 128, 700]}\n", ["generator.widths", "must end in 784"])
    try refuse(good + "generator: {hidden: swish}\n", ["generator.hidden", "unknown activation \"swish\""])
    try refuse("kind: kernel\nout: m.h5\nkernel: {bandwidths: [2, -1]}\n", ["kernel.bandwidths", "-1"])
    try refuse(good + "epochs: 0\n", ["epochs", "0"])
    try refuse(good.replacingOccurrences(of: "out: m.h5\n", with: ""), ["out"])
    try refuse(good + "gan: {discriminator: [700, 1]}\n", ["duplicate key"])
  }

  /// A small kernel generator for 2 epochs on 500 images: the model loads as a generator
  /// (k = 4, n = 784), the grid and curve exist, the checkpoint is gone; the same config
  /// stopped after epoch 1 and run again gives the same checksum.
  func testAShortRunWritesAModelAndResumes() throws {
    guard let data = MNISTLocation.directory else { return XCTFail("MNIST is required: run `make data`") }
    let out = fixture.directory.appendingPathComponent("models/k.h5").path
    let path = fixture.directory.appendingPathComponent("k.yaml").path
    try """
      kind: kernel
      out: \(out)
      data: \(data)
      epochs: 2
      batch_size: 50
      training_images: 500
      generator: {widths: [4, 16, 784]}
      kernel: {criterion: mmd, bandwidths: [5, 10]}

      """.write(toFile: path, atomically: true, encoding: .utf8)
    let config = try GeneratorTrainingConfig.load(path: path)
    var lines: [String] = []
    let outcome = try XCTUnwrap(try GeneratorTrainingRun.run(config) { lines.append($0) })
    XCTAssertTrue(lines.contains { $0.hasPrefix("epoch 2/2") && $0.contains("ETA") }, "\(lines)")
    let loaded = try ModelFile.load(out)
    XCTAssertEqual(loaded.checksum, outcome.checksum)
    XCTAssertEqual([loaded.generator.latentDimension, loaded.generator.outputDimension], [4, 784])
    XCTAssertTrue(FileManager.default.fileExists(atPath: config.sibling("-samples.png")))
    XCTAssertTrue(try String(contentsOfFile: config.sibling("-training.svg"), encoding: .utf8).contains("<svg"))
    XCTAssertFalse(FileManager.default.fileExists(atPath: config.checkpoint))

    try assertResumes(config, to: outcome.checksum)
  }

  /// Run `config` (already trained once to `checksum`, its model file still there) again,
  /// stopped after epoch 1, then once more: the second run resumes from the checkpoint and
  /// writes the same checksum, running only the epochs that were missing.
  private func assertResumes(_ config: GeneratorTrainingConfig, to checksum: String, file: StaticString = #filePath, line: UInt = #line) throws {
    try FileManager.default.removeItem(atPath: config.out)
    XCTAssertNil(try GeneratorTrainingRun.run(config, stopAfter: 1) { _ in }, file: file, line: line)
    XCTAssertTrue(FileManager.default.fileExists(atPath: config.checkpoint), file: file, line: line)
    XCTAssertFalse(FileManager.default.fileExists(atPath: config.out), file: file, line: line)
    var resumed: [String] = []
    let again = try XCTUnwrap(try GeneratorTrainingRun.run(config) { resumed.append($0) }, file: file, line: line)
    XCTAssertTrue(resumed[0].contains("resuming from"), resumed[0], file: file, line: line)
    XCTAssertEqual(resumed.filter { $0.hasPrefix("epoch ") }.count, 1, "\(resumed)", file: file, line: line)
    XCTAssertEqual(again.checksum, checksum, file: file, line: line)
    XCTAssertFalse(FileManager.default.fileExists(atPath: config.checkpoint), file: file, line: line)
  }

  /// `kind: vae` trains through the VAE's own trainer: two epochs of the ReLU VAE on 500 images
  /// write a VAE model file (its decoder the generator: k = 20, n = 784), a grid and a curve; a
  /// run stopped after epoch 1 and run again resumes from its checkpoint to the same checksum;
  /// an unknown architecture, or both schedules at once, is refused naming the key.
  func testAVAEConfigTrainsThroughTheSameCommand() throws {
    guard let data = MNISTLocation.directory else { return XCTFail("MNIST is required: run `make data`") }
    let out = fixture.directory.appendingPathComponent("models/v.h5").path
    let path = fixture.directory.appendingPathComponent("v.yaml").path
    try "kind: vae\nout: \(out)\ndata: \(data)\nepochs: 2\ntraining_images: 500\nvae: {architecture: mnist-relu, layer_pieces: 2}\n".write(toFile: path, atomically: true, encoding: .utf8)
    let config = try GeneratorTrainingConfig.load(path: path)
    XCTAssertEqual(config.vae?.layerPieces, 2)
    var lines: [String] = []
    let outcome = try XCTUnwrap(try GeneratorTrainingRun.run(config) { lines.append($0) })
    XCTAssertTrue(lines.contains { $0.hasPrefix("epoch 2/2") && $0.contains("test -ELBO") && $0.contains("ETA") }, "\(lines)")
    XCTAssertFalse(FileManager.default.fileExists(atPath: config.checkpoint))
    try assertResumes(config, to: outcome.checksum)
    let loaded = try ModelFile.load(out)
    guard case .vae = loaded else { return XCTFail("not a VAE file") }
    XCTAssertEqual(loaded.checksum, outcome.checksum)
    XCTAssertEqual([loaded.generator.latentDimension, loaded.generator.outputDimension], [20, 784])
    XCTAssertTrue(FileManager.default.fileExists(atPath: outcome.samplesPath))
    XCTAssertTrue(try String(contentsOfFile: outcome.curvePath, encoding: .utf8).contains("<svg"))
    try "kind: vae\nout: m.h5\nvae: {architecture: mnist-tanh}\n".write(toFile: path, atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try GeneratorTrainingConfig.load(path: path)) {
      XCTAssertTrue("\($0)".contains("v.yaml") && "\($0)".contains("vae.architecture") && "\($0)".contains("mnist-tanh"), "\($0)")
    }
    try "kind: vae\nout: m.h5\nvae: {gradient_shards: 2, layer_pieces: 4}\n".write(toFile: path, atomically: true, encoding: .utf8)
    XCTAssertThrowsError(try GeneratorTrainingConfig.load(path: path)) {
      XCTAssertTrue("\($0)".contains("v.yaml") && "\($0)".contains("vae.layer_pieces") && "\($0)".contains("gradient_shards"), "\($0)")
    }
  }
}
