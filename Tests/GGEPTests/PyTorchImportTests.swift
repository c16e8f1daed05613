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

/// A researcher's own PyTorch generator: the safetensors reader refuses every
/// malformed file with the file and the tensor named, and MLPs saved by PyTorch
/// (`scripts/export-pytorch-fixtures.py`, committed fixtures) give PyTorch's outputs and input
/// gradients within 1e-5 relative.
final class PyTorchImportTests: GGEPTestCase {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/pytorch").path

  /// A safetensors file from a header object and a data section.
  func file(_ header: String, data: [UInt8]) -> [UInt8] {
    let json = Array(header.utf8)
    var bytes: [UInt8] = []
    var length = UInt64(json.count)
    for _ in 0..<8 {
      bytes.append(UInt8(length & 0xff))
      length >>= 8
    }
    return bytes + json + data
  }

  func floatBytes(_ values: [Float]) -> [UInt8] { values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) } }

  func assertRefused(_ bytes: [UInt8], _ fragments: [String], line: UInt = #line) {
    do {
      _ = try SafeTensorsFile(bytes: bytes, path: "g.safetensors")
      XCTFail("expected a refusal containing \(fragments)", line: line)
    } catch {
      for fragment in fragments where !error.description.contains(fragment) {
        XCTFail("\"\(error)\" does not contain \"\(fragment)\"", line: line)
      }
      XCTAssertTrue(error.description.hasPrefix("g.safetensors: "), "\(error)", line: line)
    }
  }

  func testAWellFormedFileReadsEveryDtype() throws {
    // 1.5 and −2 in F32, F16 (0x3E00, 0xC000), BF16 (0x3FC0, 0xC000) and F64; an I64 counter.
    let f64: [UInt8] = [1.5, -2.0].flatMap { (v: Double) in withUnsafeBytes(of: v.bitPattern.littleEndian, Array.init) }
    let data = floatBytes([1.5, -2]) + [0x00, 0x3E, 0x00, 0xC0] + [0xC0, 0x3F, 0x00, 0xC0] + f64 + [7, 0, 0, 0, 0, 0, 0, 0]
    let header = """
      {"__metadata__": {"format": "pt"}, "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
       "b": {"dtype": "F16", "shape": [2], "data_offsets": [8, 12]}, "c": {"dtype": "BF16", "shape": [1, 2], "data_offsets": [12, 16]},
       "d": {"dtype": "F64", "shape": [2], "data_offsets": [16, 32]}, "n": {"dtype": "I64", "shape": [], "data_offsets": [32, 40]}}
      """
    let st = try SafeTensorsFile(bytes: file(header, data: data), path: "g.safetensors")
    for name in ["a", "b", "c", "d"] { XCTAssertEqual(try st.floats(name), [1.5, -2], name) }
    XCTAssertEqual(try st.floats("n"), [7])
    XCTAssertEqual(st.tensors["c"]?.shape, [1, 2])
    XCTAssertEqual(st.metadata["format"], "pt")
  }

  func testEveryMalformedFileIsRefusedNamingTheFileAndTensor() {
    let good = #"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#
    let data = floatBytes([1, 2])
    assertRefused([1, 2, 3], ["truncated: 3 byte(s)"])
    assertRefused(Array(file(good, data: data).prefix(20)), ["header length 61 is beyond the file (20 bytes)"])
    assertRefused(file(#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}"#, data: data), ["the header is not valid JSON"])
    assertRefused(file(#"[1, 2]"#, data: []), ["not an object of tensors"])
    assertRefused(Array(file(good, data: data).dropLast(3)), ["tensor \"w\": truncated: its data ends at byte 8", "only 5 bytes"])
    assertRefused(
      file(#"{"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "v": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#, data: data),
      ["tensor \"v\": its data_offsets overlap tensor \"w\""])
    assertRefused(
      file(#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#, data: data), ["tensor \"w\": its data begins at byte 4", "not contiguous"])
    assertRefused(file(#"{"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#, data: data), ["4 byte(s) after the last tensor's data"])
    assertRefused(file(#"{"w": {"dtype": "I8", "shape": [8], "data_offsets": [0, 8]}}"#, data: data), ["tensor \"w\": unsupported dtype I8"])
    assertRefused(file(#"{"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, data: data), ["tensor \"w\": shape [3] of F32 needs 12 bytes"])
    assertRefused(file(#"{"w": {"dtype": "F32", "shape": [2]}}"#, data: data), ["tensor \"w\": its header entry needs dtype, shape and data_offsets"])
  }

  /// Shapes that disagree with the declared architecture name both shapes; a missing tensor
  /// is an error, an unused one a warning.
  func testTheArchitectureIsCheckedAgainstTheFile() throws {
    let path = Self.fixtures + "/mlp.safetensors"
    let right = PyTorchArchitecture(modules: [
      .linear(inFeatures: 8, outFeatures: 32, name: "0"), .batchNorm1d(features: 32, epsilon: 1e-5, name: "1"), .activation("relu"),
      .linear(inFeatures: 32, outFeatures: 48, name: "3"), .activation("leaky-relu(0.2)"), .linear(inFeatures: 48, outFeatures: 100, name: "5"),
      .activation("sigmoid"),
    ])
    XCTAssertEqual(try PyTorchImport.load(path, architecture: right).unused, [])
    var wrong = right
    wrong.modules[3] = .linear(inFeatures: 32, outFeatures: 50, name: "3")
    wrong.modules[5] = .linear(inFeatures: 50, outFeatures: 100, name: "5")
    XCTAssertThrowsError(try PyTorchImport.load(path, architecture: wrong)) { error in
      XCTAssertTrue("\(error)".hasSuffix("mlp.safetensors: tensor \"3.weight\": has shape [48, 32] in the file, but the declared architecture needs [50, 32]"), "\(error)")
    }
    var prefixed = right
    prefixed.prefix = "main."
    XCTAssertThrowsError(try PyTorchImport.load(path, architecture: prefixed)) { error in
      XCTAssertTrue("\(error)".contains("tensor \"main.0.weight\": missing from the file"), "\(error)")
    }
    // Without the batch norm, its tensors are unused: a warning, and the numbers change.
    var noNorm = right
    noNorm.modules.remove(at: 1)
    XCTAssertEqual(
      try PyTorchImport.load(path, architecture: noNorm).unused, ["1.bias", "1.num_batches_tracked", "1.running_mean", "1.running_var", "1.weight"])
  }

  /// The PyTorch examples' DCGAN generator at ngf = 8 (nz = 16, 3 × 64 × 64, batch norm folded):
  /// ggep's transposed convolutions give PyTorch's outputs and input gradients.
  func testDCGANMatchesPyTorch() throws {
    let loaded = try PyTorchImport.load(Self.fixtures + "/dcgan.safetensors", architecture: .dcgan(nz: 16, ngf: 8))
    XCTAssertEqual(loaded.unused, [])
    try assertParity("dcgan", loaded.generator)
  }

  /// Single transposed convolutions beyond the DCGAN's (kernel 4, stride 1 or 2, padding 0 or
  /// 1, no bias): kernel 3 / stride 1 / padding 1 with a bias; kernel 5 / stride 2 / padding 2
  /// with a bias and batch norm; kernel 4 / stride 3 / padding 0 without bias; on inputs of
  /// side 6, 5 and 3.
  func testEachTransposedConvolutionMatchesPyTorch() throws {
    let cases: [(String, Int, [PyTorchModule])] = [
      ("convt-k3s1p1", 6, [.convTranspose2d(inChannels: 3, outChannels: 5, kernel: 3, stride: 1, padding: 1, name: "0"), .activation("sigmoid")]),
      ("convt-k5s2p2", 5, [
        .convTranspose2d(inChannels: 4, outChannels: 2, kernel: 5, stride: 2, padding: 2, name: "0"), .batchNorm2d(features: 2, epsilon: 1e-5, name: "1"),
        .activation("leaky-relu(0.2)"),
      ]),
      ("convt-k4s3p0", 3, [.convTranspose2d(inChannels: 2, outChannels: 3, kernel: 4, stride: 3, padding: 0, name: "0"), .activation("tanh")]),
    ]
    for (name, side, modules) in cases {
      let loaded = try PyTorchImport.load(Self.fixtures + "/\(name).safetensors", architecture: PyTorchArchitecture(modules: modules, prefix: "main.", inputSize: side))
      XCTAssertEqual(loaded.unused, [], name)
      try assertParity(name, loaded.generator)
    }
  }

  /// Conv2d alone: same-size with a bias, strided with BatchNorm2d folded, and an odd input
  /// side whose last window does not fit (PyTorch floors the output size).
  func testEachConvolutionMatchesPyTorch() throws {
    let cases: [(String, Int, [PyTorchModule])] = [
      ("conv-k3s1p1", 6, [.conv2d(inChannels: 3, outChannels: 4, kernel: 3, stride: 1, padding: 1, name: "0"), .activation("sigmoid")]),
      ("conv-k4s2p1", 8, [
        .conv2d(inChannels: 4, outChannels: 5, kernel: 4, stride: 2, padding: 1, name: "0"), .batchNorm2d(features: 5, epsilon: 1e-5, name: "1"),
        .activation("leaky-relu(0.2)"),
      ]),
      ("conv-k3s2p0", 7, [.conv2d(inChannels: 2, outChannels: 3, kernel: 3, stride: 2, padding: 0, name: "0"), .activation("tanh")]),
    ]
    for (name, side, modules) in cases {
      let loaded = try PyTorchImport.load(Self.fixtures + "/\(name).safetensors", architecture: PyTorchArchitecture(modules: modules, prefix: "main.", inputSize: side))
      XCTAssertEqual(loaded.unused, [], name)
      try assertParity(name, loaded.generator)
    }
  }

  static let mixedArchitecture = PyTorchArchitecture(
    modules: [
      .linear(inFeatures: 10, outFeatures: 128, name: "0"), .batchNorm1d(features: 128, epsilon: 1e-5, name: "1"), .activation("relu"),
      .reshape(channels: 8, size: 4),
      .convTranspose2d(inChannels: 8, outChannels: 6, kernel: 4, stride: 2, padding: 1, name: "4"), .batchNorm2d(features: 6, epsilon: 1e-5, name: "5"),
      .activation("relu"), .conv2d(inChannels: 6, outChannels: 3, kernel: 3, stride: 1, padding: 1, name: "7"), .activation("tanh"),
    ], prefix: "net.")

  /// Linear + BatchNorm1d → reshape → ConvTranspose2d + BatchNorm2d → Conv2d, as one generator.
  func testALinearToImageGeneratorMatchesPyTorch() throws {
    let loaded = try PyTorchImport.load(Self.fixtures + "/mixed.safetensors", architecture: Self.mixedArchitecture)
    XCTAssertEqual(loaded.unused, [])
    XCTAssertEqual(loaded.generator.latentDimension, 10)
    XCTAssertEqual(loaded.generator.outputDimension, 3 * 8 * 8)
    XCTAssertEqual(Self.mixedArchitecture.widths, [10, 128, 6 * 8 * 8, 3 * 8 * 8])
    try assertParity("mixed", loaded.generator)
  }

  /// A convolution after a Linear needs its reshape, and the reshape must match the width.
  func testAConvolutionAfterALinearNeedsAMatchingReshape() throws {
    var modules = Self.mixedArchitecture.modules
    modules.remove(at: 3)
    XCTAssertThrowsError(try PyTorchImport.load(Self.fixtures + "/mixed.safetensors", architecture: PyTorchArchitecture(modules: modules, prefix: "net."))) {
      let message = "\($0)"
      XCTAssertTrue(message.contains("mixed.safetensors") && message.contains("net.4.weight") && message.contains("declare a reshape"), message)
    }
    modules.insert(.reshape(channels: 8, size: 5), at: 3)
    XCTAssertThrowsError(try PyTorchImport.load(Self.fixtures + "/mixed.safetensors", architecture: PyTorchArchitecture(modules: modules, prefix: "net."))) {
      let message = "\($0)"
      XCTAssertTrue(message.contains("reshape to 8 × 5 × 5") && message.contains("width 128"), message)
    }
  }

  /// A batch is cut into GEMM chunks by its size and the shapes alone, so the same batch gives
  /// the same bits every time; a row's numbers agree (to rounding: sgemm's blocking depends on
  /// the chunk's width) whether it is computed alone, in one chunk of 7, or in chunks of 2.
  func testRowsAreIndependentOfTheirBatchAndChunks() throws {
    let loaded = try PyTorchImport.load(Self.fixtures + "/mixed.safetensors", architecture: Self.mixedArchitecture)
    let whole = try XCTUnwrap(loaded.generator as? ConvolutionalGenerator)
    let perRow = whole.layers.compactMap(\.patches).map { $0.columnRows * $0.columnsPerImage }.max()!
    let chunked = ConvolutionalGenerator(layers: whole.layers, summary: "chunked", columnBudget: 2 * perRow)
    XCTAssertEqual(chunked.chunkRows(7), 2)
    XCTAssertEqual(whole.chunkRows(7), 7)
    var rng = RandomStream(seed: 3)
    let rows = 7, k = whole.latentDimension, n = whole.outputDimension
    let z = (0..<(rows * k)).map { _ in Float(rng.normal()) }, g = (0..<(rows * n)).map { _ in Float(rng.normal()) }
    func run(_ generator: ConvolutionalGenerator, _ z: [Float], _ g: [Float]) -> (y: [Float], dz: [Float]) {
      let count = z.count / k
      let ws = generator.makeWorkspace(rows: count)
      z.withUnsafeBufferPointer { generator.forward($0.baseAddress!, workspace: ws) }
      var dz = [Float](repeating: 0, count: count * k)
      g.withUnsafeBufferPointer { gp in dz.withUnsafeMutableBufferPointer { generator.pullback(gp.baseAddress!, into: $0.baseAddress!, workspace: ws) } }
      return (ws.output, dz)
    }
    let reference = run(whole, z, g), again = run(whole, z, g), cut = run(chunked, z, g)
    XCTAssertEqual(reference.y, again.y)
    XCTAssertEqual(reference.dz, again.dz)
    for (a, b) in zip(cut.y, reference.y) { XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b))) }
    for (a, b) in zip(cut.dz, reference.dz) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
    for r in [0, 3, 6] {
      let alone = run(whole, Array(z[(r * k)..<((r + 1) * k)]), Array(g[(r * n)..<((r + 1) * n)]))
      for (a, b) in zip(alone.y, reference.y[(r * n)..<((r + 1) * n)]) { XCTAssertEqual(a, b, accuracy: 1e-6 * max(1, abs(b))) }
      for (a, b) in zip(alone.dz, reference.dz[(r * k)..<((r + 1) * k)]) { XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b))) }
    }
  }

  /// im2col and col2im are adjoint for every kernel/stride/padding the fixtures use and more:
  /// ⟨im2col(a), b⟩ = ⟨a, col2im(b)⟩, and im2col of a one-hot image puts its 1 where the
  /// window formula says.
  func testIm2colAndCol2imAreAdjoint() {
    var rng = RandomStream(seed: 11)
    for (large, small, kernel, stride, padding) in [(6, 6, 3, 1, 1), (8, 4, 4, 2, 1), (7, 3, 3, 2, 0), (10, 3, 4, 3, 0), (5, 5, 5, 1, 2), (9, 2, 3, 4, 1)] {
      let geometry = PatchGeometry(channels: 2, large: large, small: small, kernel: kernel, stride: stride, padding: padding)
      let a = (0..<geometry.imageSize).map { _ in Float(rng.normal()) }
      let b = (0..<(geometry.columnRows * geometry.columnsPerImage)).map { _ in Float(rng.normal()) }
      var columns = [Float](repeating: .nan, count: b.count), image = [Float](repeating: 0, count: a.count)
      let ld = geometry.columnsPerImage
      a.withUnsafeBufferPointer { geometry.im2col($0.baseAddress!, into: &columns, ld: ld, col0: 0) }
      b.withUnsafeBufferPointer { geometry.col2im($0.baseAddress!, ld: ld, col0: 0, addingInto: &image) }
      // col2im adds in Float, so the two sides agree to Float rounding of the magnitudes summed.
      let left = zip(columns, b).map { Double($0) * Double($1) }.reduce(0, +), right = zip(a, image).map { Double($0) * Double($1) }.reduce(0, +)
      let scale = zip(columns, b).map { abs(Double($0) * Double($1)) }.reduce(0, +)
      XCTAssertEqual(left, right, accuracy: 1e-6 * scale, "\((large, small, kernel, stride, padding))")
      for c in 0..<2 {
        for u in 0..<kernel {
          for v in 0..<kernel {
            for i in 0..<small {
              for j in 0..<small {
                let (y, x) = (i * stride - padding + u, j * stride - padding + v)
                let expected = y >= 0 && y < large && x >= 0 && x < large ? a[(c * large + y) * large + x] : 0
                XCTAssertEqual(columns[((c * kernel + u) * kernel + v) * ld + i * small + j], expected)
              }
            }
          }
        }
      }
    }
  }

  func assertParity(_ name: String, _ generator: any Generator) throws {
    let agreement = try PyTorchReference(path: Self.fixtures + "/\(name)-reference.safetensors").compare(generator)
    XCTAssertLessThan(agreement.forward, 1e-5, "\(name) forward")
    XCTAssertLessThan(agreement.pullback, 1e-5, "\(name) pullback")
    print("\(name): forward relative error \(agreement.forward), pullback \(agreement.pullback)")
  }

  /// ggep's forward and input pullback of PyTorch's MLPs equal PyTorch's own, within 1e-5
  /// relative (Float arithmetic both sides; batch norm folded here, applied there).
  func testMLPsMatchPyTorch() throws {
    let cases: [(String, PyTorchArchitecture)] = [
      ("mlp", .sequentialMLP(widths: [8, 32, 48, 100], activations: ["relu", "leaky-relu(0.2)", "sigmoid"], batchNorm: false).withBatchNorm(after: 0)),
      ("mlp-main", .sequentialMLP(widths: [6, 40, 64, 81], activations: ["tanh", "relu", "tanh"], prefix: "main.")),
    ]
    for (name, architecture) in cases {
      let loaded = try PyTorchImport.load(Self.fixtures + "/\(name).safetensors", architecture: architecture)
      XCTAssertEqual(loaded.unused, [], name)
      try assertParity(name, loaded.generator)
    }
  }
}

/// `generator: {kind: pytorch, …}` in configs: plan-time checks, a PRFM run, and inversion by
/// every layer-wise method (the fixture's Linear/BN/ReLU, LeakyReLU, Sigmoid layers all qualify).
final class PyTorchGeneratorConfigTests: GGEPTestCase {
  var fixture: ConfigFixture!
  override func setUpWithError() throws { fixture = try ConfigFixture() }
  override func tearDown() { fixture = nil }

  var gep: String {
    """
    m: 200
    signal: {source: generator, count: 2}
    generator:
      kind: pytorch
      file: \(PyTorchImportTests.fixtures)/mlp.safetensors
      modules: [{linear: [8, 32]}, {batchnorm1d: 32}, relu, {linear: [32, 48]}, leaky-relu(0.2), {linear: [48, 100]}, sigmoid]
    problem: {kind: spiked, beta: 2}
    algorithm: {kind: prfm, eta: 0.2, iterations: 10}
    projection: {steps: 20, restarts: 2}

    """
  }

  /// Tensors the declared architecture leaves unused are a warning, not an error: decoding
  /// does not print it but hands it to the plan, once however many sweep points read the file,
  /// and `ggep plan` shows it on stderr.
  func testUnusedTensorsAreAPlanWarningNotAPrint() throws {
    // The fixture with one more tensor, "extra.weight" (4 bytes), that no module reads.
    let original = try Data(contentsOf: URL(fileURLWithPath: PyTorchImportTests.fixtures + "/mlp.safetensors"))
    let headerLength = original.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
    var header = try XCTUnwrap(try JSONSerialization.jsonObject(with: original.subdata(in: 8..<(8 + headerLength))) as? [String: Any])
    let payload = original.count - 8 - headerLength
    header["extra.weight"] = ["dtype": "F32", "shape": [1], "data_offsets": [payload, payload + 4]]
    let newHeader = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    var file = Data((0..<8).map { UInt8((newHeader.count >> (8 * $0)) & 0xff) })
    file += newHeader + original.suffix(payload) + Data([0, 0, 128, 63])
    let extra = fixture.directory.appendingPathComponent("extra.safetensors").path
    try file.write(to: URL(fileURLWithPath: extra))

    let noNorm = gep.replacingOccurrences(of: "\(PyTorchImportTests.fixtures)/mlp.safetensors", with: extra) + "sweep:\n  m: [100, 200, 300]\n"
    let plan = try fixture.plan(noNorm)
    XCTAssertEqual(plan.points.count, 3)
    XCTAssertEqual(plan.warnings.count, 1, "\(plan.warnings)")
    XCTAssertTrue(plan.warnings[0].hasSuffix("extra.safetensors: 1 tensor(s) the architecture does not use: extra.weight"), plan.warnings[0])
    XCTAssertEqual(try fixture.plan(gep).warnings, [])

    let path = fixture.directory.appendingPathComponent("unused.yaml").path
    try noNorm.write(toFile: path, atomically: true, encoding: .utf8)
    let shown = try GGEPExecutable.run(["plan", path])
    XCTAssertEqual(shown.status, 0, shown.stderr)
    XCTAssertEqual(shown.stderr.components(separatedBy: "does not use").count - 1, 1, shown.stderr)
    XCTAssertFalse(shown.stdout.contains("does not use"), "warnings go to stderr")
  }

  func testAPyTorchGeneratorRunsInBothKinds() throws {
    let plan = try fixture.plan(gep)
    let g = (plan.points[0].kindSpec as! ExperimentSpec).generator
    XCTAssertEqual([g.k, g.n], [8, 100])
    XCTAssertEqual(g.contentChecksum.count, 64)
    let summary = try ExperimentRunner(plan: plan, options: .init(jobs: 2, out: fixture.directory.appendingPathComponent("gep").path, progress: nil)).run()
    XCTAssertEqual(summary.failedJobs, 0)
    XCTAssertTrue(try ResultsFile.read(summary.resultsPath).records.allSatisfy { $0.generatorChecksum == g.contentChecksum })

    // The preset and a key prefix: the PyTorch examples' `main.` layout.
    let preset = gep.replacingOccurrences(
      of: "file: \(PyTorchImportTests.fixtures)/mlp.safetensors\n  modules: [{linear: [8, 32]}, {batchnorm1d: 32}, relu, {linear: [32, 48]}, leaky-relu(0.2), {linear: [48, 100]}, sigmoid]",
      with: "file: \(PyTorchImportTests.fixtures)/mlp-main.safetensors\n  preset: mlp\n  prefix: main.\n  widths: [6, 40, 64, 81]\n  activations: [tanh, relu, tanh]")
    let g2 = (try fixture.plan(preset, name: "preset.yaml").points[0].kindSpec as! ExperimentSpec).generator
    XCTAssertEqual([g2.k, g2.n], [6, 81])

    let inversion = """
      experiment: inversion
      signals: 2
      generator:
        kind: pytorch
        file: \(PyTorchImportTests.fixtures)/mlp.safetensors
        modules: [{linear: [8, 32]}, {batchnorm1d: 32}, relu, {linear: [32, 48]}, leaky-relu(0.2), {linear: [48, 100]}, sigmoid]
      method: {kind: adam}
      sweep:
        method: [{kind: adam, steps: 300}, {kind: lp}]

      """
    let runs = try ExperimentRunner(
      plan: try fixture.plan(inversion, name: "inv.yaml"), options: .init(jobs: 2, out: fixture.directory.appendingPathComponent("inv").path, progress: nil)
    ).run()
    XCTAssertEqual(runs.failedJobs, 0)
    for r in try ResultsFile.read(runs.resultsPath).records {
      XCTAssertEqual(r[InversionColumn.widths], "8-32-48-100")
      // ReLU 8 → 32 (≈ 16 active for 8 unknowns), then invertible leaky-relu and sigmoid layers
      // with more outputs than inputs: LP inverts the imported network exactly.
      if r[InversionColumn.method] == "lp" { XCTAssertGreaterThan(r[InversionColumn.snrLatentDB], 60, "lp") }
    }
  }

  /// The paper's appendix E setting at n = 12288 (`configs/examples/dcgan-appE.yaml`, the fixture
  /// DCGAN) runs — reduced here to 2 signals and 3 iterations — as a user runs it, and that
  /// process's own peak RSS (`wait4`) stays under 2 GiB.
  func testTheAppendixESmokeConfigRunsWithinItsMemoryBound() throws {
    let out = fixture.directory.appendingPathComponent("appE").path
    let (outcome, peak) = try GGEPExecutable.runMeasuringPeak(
      [
        "run", "configs/examples/dcgan-appE.yaml", "--out", out, "--jobs", "2", "--set", "signal.count=2", "--set", "projection.steps=10",
        "--set", "sweep.algorithm=[{kind: prfm, eta: 0.2, iterations: 3}, {kind: ppower, iterations: 3}]",
      ], in: MNISTLocation.packageRoot)
    XCTAssertEqual(outcome.status, 0, outcome.stderr)
    let records = try ResultsFile.read(out + "/results.h5").records
    XCTAssertEqual(records.count, 8)
    for r in records {
      XCTAssertEqual(r.status, .ok, r.error)
      XCTAssertEqual(r.estimate.count, 12288)
      XCTAssertEqual(r.signalVector.count, 12288)
      XCTAssertTrue(r.cosine.isFinite)
    }
    print("appendix E smoke: peak RSS \(peak / 1024) MiB")
    XCTAssertGreaterThan(peak, 12288 * 8 / 1024, "a peak below one n-vector is not a measurement")
    XCTAssertLessThan(peak, 2 * 1024 * 1024, "peak RSS \(peak) KiB")
  }

  /// Convolutions and reshapes declared one by one in YAML: the generator equals the direct
  /// import, runs in PRFM, and a layer-wise method is refused naming the convolution.
  func testConvolutionalModulesDeclaredOneByOne() throws {
    let config = """
      m: 100
      signal: {source: generator, count: 2}
      generator:
        kind: pytorch
        file: \(PyTorchImportTests.fixtures)/mixed.safetensors
        prefix: net.
        modules:
          - {linear: [10, 128]}
          - {batchnorm1d: 128}
          - relu
          - {reshape: [8, 4, 4]}
          - {convtranspose2d: [8, 6, 4, 2, 1]}
          - {batchnorm2d: 6}
          - relu
          - {conv2d: [6, 3, 3, 1, 1]}
          - tanh
          - flatten
      problem: {kind: spiked, beta: 2}
      algorithm: {kind: prfm, eta: 0.2, iterations: 5}
      projection: {steps: 20, restarts: 2}

      """
    let plan = try fixture.plan(config, name: "conv.yaml")
    let g = (plan.points[0].kindSpec as! ExperimentSpec).generator
    XCTAssertEqual([g.k, g.n], [10, 192])
    guard let architecture = (g.component as? PyTorchGeneratorSpec)?.architecture else { return XCTFail("not a pytorch generator") }
    XCTAssertEqual(architecture.modules.dropLast(), PyTorchImportTests.mixedArchitecture.modules[...])
    XCTAssertEqual(architecture.modules.last, .flatten)
    let summary = try ExperimentRunner(plan: plan, options: .init(jobs: 2, out: fixture.directory.appendingPathComponent("conv").path, progress: nil)).run()
    XCTAssertEqual(summary.failedJobs, 0)
    XCTAssertTrue(try ResultsFile.read(summary.resultsPath).records.allSatisfy { $0.cosine.isFinite && $0.cosine > 0.5 })
    assertConfigError(["conv.yaml", "lp inverts dense (fully connected) layers only (docs/mathematics.md §10), but layer 2 of pytorch(mixed.safetensors, 10 → 3×8×8) is a convolution"]) {
      _ = try fixture.plan(config.replacingOccurrences(of: "{steps: 20, restarts: 2}", with: "{method: lp}"), name: "conv.yaml")
    }
    assertConfigError(["conv.yaml", "generator.modules[4].convtranspose2d", "is [in_channels, out_channels, kernel, stride, padding]"]) {
      _ = try fixture.plan(config.replacingOccurrences(of: "[8, 6, 4, 2, 1]", with: "[8, 6, 4, 2]"), name: "conv.yaml")
    }
    assertConfigError(["conv.yaml", "generator.modules[3].reshape", "square images only"]) {
      _ = try fixture.plan(config.replacingOccurrences(of: "[8, 4, 4]", with: "[8, 2, 8]"), name: "conv.yaml")
    }
  }

  func testBadPyTorchConfigsAreRefusedAtPlanTime() {
    let wrongShape = gep.replacingOccurrences(of: "{linear: [32, 48]}, leaky-relu(0.2), {linear: [48, 100]}", with: "{linear: [32, 50]}, leaky-relu(0.2), {linear: [50, 100]}")
    assertConfigError(["bad.yaml", "generator.file", "mlp.safetensors: tensor \"3.weight\": has shape [48, 32] in the file, but the declared architecture needs [50, 32]"]) {
      _ = try fixture.plan(wrongShape, name: "bad.yaml")
    }
    assertConfigError(["generator.file", "missing.safetensors: cannot read the file"]) {
      _ = try fixture.plan(gep.replacingOccurrences(of: "mlp.safetensors", with: "missing.safetensors"), name: "m.yaml")
    }
    assertConfigError(["generator.modules[2]", "unknown activation \"gelu\""]) {
      _ = try fixture.plan(gep.replacingOccurrences(of: ", relu,", with: ", gelu,"), name: "g.yaml")
    }
    let lpOnSoftplus = """
      experiment: inversion
      generator:
        kind: pytorch
        file: \(PyTorchImportTests.fixtures)/mlp-main.safetensors
        prefix: main.
        widths: [6, 40, 64, 81]
        activations: [softplus, relu, tanh]
      method: {kind: lp}

      """
    assertConfigError(["method lp cannot invert this generator: layer 1 (6 → 40) has activation softplus"]) {
      _ = try fixture.plan(lpOnSoftplus, name: "s.yaml")
    }
  }
}

extension PyTorchArchitecture {
  /// A BatchNorm1d after the `index`-th Linear, renumbering the modules as nn.Sequential would.
  func withBatchNorm(after index: Int) -> PyTorchArchitecture {
    var modules: [PyTorchModule] = []
    var linear = 0
    for module in self.modules {
      switch module {
      case .linear(let i, let o, _):
        modules.append(.linear(inFeatures: i, outFeatures: o, name: String(modules.count)))
        if linear == index { modules.append(.batchNorm1d(features: o, epsilon: 1e-5, name: String(modules.count))) }
        linear += 1
      case .batchNorm1d(let f, let e, _): modules.append(.batchNorm1d(features: f, epsilon: e, name: String(modules.count)))
      case .activation(let a): modules.append(.activation(a))
      default: modules.append(module)
      }
    }
    return PyTorchArchitecture(modules: modules, prefix: prefix)
  }
}
