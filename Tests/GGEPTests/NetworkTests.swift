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

/// The one network stack: every activation's pullback and the parameter gradient of
/// `DenseStack.backward` against central finite differences of a Double reference, and a
/// folded batch norm against the unfolded layer.
final class NetworkTests: GGEPTestCase {
  func layer(_ i: Int, _ o: Int, _ activation: Activation, rng: inout RandomStream, bias: Bool = true) -> DenseLayer {
    DenseLayer(
      weights: Matrix(rows: i, cols: o, storage: rng.normals(i * o, scale: 1 / Double(i).squareRoot())).asFloat,
      bias: bias ? rng.normals(o, scale: 0.3).map(Float.init) : [], activation: activation)
  }

  /// act in Double, as an independent reference.
  func apply(_ activation: Activation, _ x: Double) -> Double {
    switch activation {
    case .identity: return x
    case .relu: return max(x, 0)
    case .leakyRelu(let a): return x > 0 ? x : Double(a) * x
    case .softplus: return max(x, 0) + log1p(exp(-Swift.abs(x)))
    case .sigmoid: return 1 / (1 + exp(-x))
    case .tanh: return Foundation.tanh(x)
    case .plu(let a, let c): return max(Double(a) * (x + Double(c)) - Double(c), min(Double(a) * (x - Double(c)) + Double(c), x))
    }
  }

  func doubleForward(_ layers: [DenseLayer], _ input: [Double]) -> [Double] {
    var h = input
    for layer in layers {
      var out = layer.bias.isEmpty ? [Double](repeating: 0, count: layer.outputWidth) : layer.bias.map(Double.init)
      for i in 0..<layer.inputWidth {
        for j in 0..<layer.outputWidth { out[j] += h[i] * Double(layer.weights[i, j]) }
      }
      h = out.map { apply(layer.activation, $0) }
    }
    return h
  }

  /// gᵀ(∂G/∂z) for every activation (as the hidden layer, and tanh/sigmoid as the output too),
  /// with and without biases, against central differences (h = 1e-5) of the Double reference
  /// (with these seeds no pre-activation lies within h of a ReLU kink).
  func testEveryActivationsPullbackMatchesFiniteDifferences() {
    for activation in Activation.allCases + [.leakyRelu(slope: 0.2)] {
      for bias in [true, false] {
        var rng = RandomStream(seed: 9, key: activation.name)
        let layers = [
          layer(4, 12, activation, rng: &rng, bias: bias), layer(12, 9, activation, rng: &rng, bias: bias),
          layer(9, 7, activation == .tanh ? .tanh : .identity, rng: &rng, bias: bias),
        ]
        let net = FeedForwardGenerator(layers: layers, summary: "test")
        XCTAssertEqual(net.layers.map(\.activation), layers.map(\.activation))
        let rows = 3
        let z = rng.normals(rows * 4).map(Float.init)
        let g = rng.normals(rows * 7).map(Float.init)
        let ws = net.makeWorkspace(rows: rows)
        z.withUnsafeBufferPointer { net.forward($0.baseAddress!, workspace: ws) }
        var dz = [Float](repeating: 0, count: rows * 4)
        g.withUnsafeBufferPointer { gp in dz.withUnsafeMutableBufferPointer { net.pullback(gp.baseAddress!, into: $0.baseAddress!, workspace: ws) } }
        let forward = ws.output
        for r in 0..<rows {
          let zr = (0..<4).map { Double(z[r * 4 + $0]) }
          let reference = doubleForward(layers, zr)
          for j in 0..<7 { XCTAssertEqual(Double(forward[r * 7 + j]), reference[j], accuracy: 1e-5, "\(activation) forward") }
          for c in 0..<4 {
            func objective(_ shift: Double) -> Double {
              var zz = zr
              zz[c] += shift
              return zip(doubleForward(layers, zz), (0..<7).map { Double(g[r * 7 + $0]) }).reduce(0) { $0 + $1.0 * $1.1 }
            }
            let h = 1e-5
            let numeric = (objective(h) - objective(-h)) / (2 * h)
            let relative = Swift.abs(numeric - Double(dz[r * 4 + c])) / max(Swift.abs(numeric), 1e-2)
            XCTAssertLessThan(relative, 2e-4, "\(activation) bias \(bias): dz = \(dz[r * 4 + c]), finite difference \(numeric)")
          }
        }
      }
    }
  }

  /// `DenseStack.backward`: ∂L/∂θ for L = Σ_rows ⟨g, G(x)⟩, every parameter against central
  /// differences of the Double reference, and ∂L/∂x against the pullback.
  func testBackwardGivesTheParameterGradient() {
    var rng = RandomStream(seed: 21)
    let layers = [layer(5, 8, .softplus, rng: &rng), layer(8, 6, .tanh, rng: &rng), layer(6, 4, .sigmoid, rng: &rng)]
    let stack = DenseStack(widths: [5, 8, 6, 4], activations: layers.map(\.activation))
    var parameters = layers.flatMap { $0.weights.storage + $0.bias }
    XCTAssertEqual(parameters.count, stack.parameterCount)
    let rows = 3
    let x = rng.normals(rows * 5).map(Float.init)
    let g = rng.normals(rows * 4).map(Float.init)
    let buffers = AlignedFloats([rows * 8, rows * 6, rows * 4, rows * 8, rows * 8, rows, stack.parameterCount, rows * 5])
    let outputs = Array(buffers.buffers[0..<3])
    let (scratchA, scratchB, ones, gradient, dx) = (buffers.buffers[3], buffers.buffers[4], buffers.buffers[5], buffers.buffers[6], buffers.buffers[7])
    ones.update(repeating: 1, count: rows)
    parameters.withUnsafeMutableBufferPointer { p in
      x.withUnsafeBufferPointer { xp in
        stack.forward(parameters: p.baseAddress!, input: xp.baseAddress!, rows: rows, outputs: outputs)
        // δ of the last layer = g ⊙ sigmoid'(from its output).
        let delta = buffers.buffers[3]
        g.withUnsafeBufferPointer { delta.update(from: $0.baseAddress!, count: rows * 4) }
        Activation.sigmoid.multiplyDerivative(delta, outputs: outputs[2], rows * 4)
        let deltaCopy = Array(UnsafeBufferPointer(start: delta, count: rows * 4))
        deltaCopy.withUnsafeBufferPointer { d in
          stack.backward(
            parameters: p.baseAddress!, input: xp.baseAddress!, outputs: outputs.map { UnsafePointer($0) }, derivatives: nil,
            delta: d.baseAddress!, rows: rows, gradient: gradient, ones: ones, inputGradient: dx, scratch: (scratchA, scratchB))
        }
      }
    }
    /// L in Double, with parameter `shiftIndex` moved by `shift` (in Double, not lost to Float).
    func loss(_ theta: [Float], _ shiftIndex: Int, _ shift: Double) -> Double {
      var total = 0.0
      for r in 0..<rows {
        var h = (0..<5).map { Double(x[r * 5 + $0]) }
        var off = 0
        for l in layers {
          let count = l.inputWidth * l.outputWidth
          var out = (0..<l.outputWidth).map { j -> Double in
            Double(theta[off + count + j]) + (off + count + j == shiftIndex ? shift : 0)
          }
          for i in 0..<l.inputWidth {
            for j in 0..<l.outputWidth {
              let index = off + i * l.outputWidth + j
              out[j] += h[i] * (Double(theta[index]) + (index == shiftIndex ? shift : 0))
            }
          }
          off += count + l.outputWidth
          h = out.map { apply(l.activation, $0) }
        }
        total += zip(h, (0..<4).map { Double(g[r * 4 + $0]) }).reduce(0) { $0 + $1.0 * $1.1 }
      }
      return total
    }
    let h = 1e-5
    for index in stride(from: 0, to: stack.parameterCount, by: 3) {
      let numeric = (loss(parameters, index, h) - loss(parameters, index, -h)) / (2 * h)
      let relative = Swift.abs(numeric - Double(gradient[index])) / max(Swift.abs(numeric), 1e-2)
      XCTAssertLessThan(relative, 2e-4, "∂L/∂θ[\(index)] = \(gradient[index]), finite difference \(numeric)")
    }
    // ∂L/∂x equals the pullback of g.
    let net = FeedForwardGenerator(layers: layers, summary: "test")
    let ws = net.makeWorkspace(rows: rows)
    x.withUnsafeBufferPointer { net.forward($0.baseAddress!, workspace: ws) }
    var pulled = [Float](repeating: 0, count: rows * 5)
    g.withUnsafeBufferPointer { gp in pulled.withUnsafeMutableBufferPointer { net.pullback(gp.baseAddress!, into: $0.baseAddress!, workspace: ws) } }
    XCTAssertEqual(Array(UnsafeBufferPointer(start: dx, count: rows * 5)).map(\.bitPattern), pulled.map(\.bitPattern))
  }

  /// act(BN(hW + b)) with a folded batch norm equals the layer with the batch norm applied after
  /// the affine map (in Double, to Float rounding).
  func testFoldedBatchNormEqualsTheUnfoldedLayer() {
    var rng = RandomStream(seed: 5)
    let (fanIn, fanOut) = (6, 5)
    let w = Matrix(rows: fanIn, cols: fanOut, storage: rng.normals(fanIn * fanOut)).asFloat
    let b = rng.normals(fanOut).map(Float.init)
    let bn = BatchNorm(
      gamma: rng.normals(fanOut).map { Float(1 + 0.3 * $0) }, beta: rng.normals(fanOut).map(Float.init),
      mean: rng.normals(fanOut).map(Float.init), variance: (0..<fanOut).map { _ in Float(rng.uniform(0.2, 3)) }, epsilon: 1e-5)
    let folded = DenseLayer(weights: w, bias: b, batchNorm: bn, activation: .relu)
    let net = FeedForwardGenerator(layers: [folded], summary: "folded")
    let rows = 4
    let x = rng.normals(rows * fanIn).map(Float.init)
    let out = net.evaluate(Matrix(rows: rows, cols: fanIn, storage: x))
    for r in 0..<rows {
      for j in 0..<fanOut {
        var pre = Double(b[j])
        for i in 0..<fanIn { pre += Double(x[r * fanIn + i]) * Double(w[i, j]) }
        let normalised = Double(bn.gamma[j]) * (pre - Double(bn.mean[j])) / (Double(bn.variance[j]) + Double(bn.epsilon)).squareRoot() + Double(bn.beta[j])
        XCTAssertEqual(Double(out[r, j]), max(normalised, 0), accuracy: 1e-5 * max(1, Swift.abs(normalised)))
      }
    }
  }

  /// The strictly increasing activations invert entrywise: inverse(act(x)) = x (PLU on both
  /// sides of its knees, sigmoid and tanh away from saturation); relu and softplus do not.
  func testInvertibleActivationsInvert() {
    for activation in [Activation.identity, .leakyRelu(slope: 0.2), .sigmoid, .tanh, .plu(alpha: 0.1, c: 1)] {
      XCTAssertTrue(activation.isInvertible)
      for x in [-3.5, -1.2, -0.4, 0.0, 0.3, 0.9, 2.7] {
        let y = apply(activation, x)
        XCTAssertEqual(activation.inverse(y)!, x, accuracy: 1e-9, "\(activation) at \(x)")
      }
    }
    XCTAssertFalse(Activation.relu.isInvertible)
    XCTAssertFalse(Activation.softplus.isInvertible)
    XCTAssertEqual(Activation(name: "plu"), .plu(alpha: 0.1, c: 1))
    XCTAssertEqual(Activation(name: "plu(0.2,0.5)"), .plu(alpha: 0.2, c: 0.5))
  }

  /// Activation names round-trip, and leaky-relu's slope is part of its name.
  func testActivationNames() {
    for activation in Activation.allCases + [.leakyRelu(slope: 0.2)] {
      XCTAssertEqual(Activation(name: activation.name), activation)
    }
    XCTAssertEqual(Activation(name: "leaky-relu"), .leakyRelu(slope: 0.01))
    XCTAssertNil(Activation(name: "leaky-relu(2)"))
    XCTAssertNil(Activation(name: "gelu"))
  }
}

/// The one model file: a dense generator's round trip, its errors, and a config's generator
/// made from whatever the file holds.
final class ModelFileTests: GGEPTestCase {
  func temporaryPath(_ name: String) -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ggep-model-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent(name).path
  }

  func smallGenerator() -> DenseGeneratorModel {
    var rng = RandomStream(seed: 12)
    let widths = [3, 10, 8]
    let layers = (0..<2).map { l in
      DenseLayer(
        weights: Matrix(rows: widths[l], cols: widths[l + 1], storage: rng.normals(widths[l] * widths[l + 1])).asFloat,
        bias: l == 0 ? rng.normals(widths[l + 1]).map(Float.init) : [], activation: l == 0 ? .leakyRelu(slope: 0.2) : .tanh)
    }
    return DenseGeneratorModel(layers: layers, provenance: ["trained_by": "ModelFileTests"])
  }

  func testDenseGeneratorRoundTripAndLoadByContent() throws {
    let model = smallGenerator()
    let path = temporaryPath("g.h5")
    try model.save(to: path)
    XCTAssertEqual(try ModelFile.kind(of: path), "dense-generator")
    guard case .denseGenerator(let back) = try ModelFile.load(path) else { return XCTFail("not loaded as a dense generator") }
    XCTAssertEqual(back.checksum, model.checksum)
    XCTAssertEqual(back.shapes, model.shapes)
    XCTAssertEqual(back.provenance, ["trained_by": "ModelFileTests"])
    for (a, b) in zip(back.layers, model.layers) {
      XCTAssertEqual(a.weights.storage.map(\.bitPattern), b.weights.storage.map(\.bitPattern))
      XCTAssertEqual(a.bias.map(\.bitPattern), b.bias.map(\.bitPattern))
    }
    let header = try ModelHeader.verified(path)
    XCTAssertEqual([header.latentDimension, header.outputDimension], [3, 8])
    XCTAssertEqual(header.widths, [3, 10, 8])
    // The committed VAE loads through the same door, as its decoder.
    let vae = try ModelFile.load(MNISTLocation.packageRoot + "/models/mnist-vae.h5")
    XCTAssertEqual(vae.checksum, "58e431e987e5cd5de50c690402582c464d1dc4089707d95fcddd2f04d43962b8")
    XCTAssertEqual(vae.generator.layers.map(\.activation), [.softplus, .softplus, .sigmoid])
  }

  func testDamagedModelFilesNameTheFile() throws {
    let path = temporaryPath("g2.h5")
    try smallGenerator().save(to: path)
    let tampered = temporaryPath("g2-tampered.h5")
    try? FileManager.default.removeItem(atPath: tampered)
    try FileManager.default.copyItem(atPath: path, toPath: tampered)
    let file = try HDF5File.open(tampered, writable: true)
    var w = try file.root.readFloats("generator/w2").values
    w[3] += 1
    try file.root.write("generator/w2", w, shape: [10, 8])
    try file.close()
    XCTAssertThrowsError(try ModelFile.load(tampered)) { error in
      XCTAssertTrue("\(error)".contains(tampered) && "\(error)".contains("checksum mismatch"), "\(error)")
    }
    let truncated = temporaryPath("g2-truncated.h5")
    let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
    try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: truncated))
    XCTAssertThrowsError(try ModelFile.load(truncated)) { error in
      XCTAssertTrue("\(error)".contains(truncated), "\(error)")
    }
  }
}

extension ModelFileTests {
  /// `generator: {kind: model, file: …}` makes the generator the file holds; its checksum is
  /// in the job keys and the results' generator_checksum.
  func testAConfigRunsOnAModelFile() throws {
    let path = temporaryPath("prior.h5")
    try smallGenerator().save(to: path)
    let fixture = try ConfigFixture()
    let plan = try fixture.plan("""
      m: 40
      signal: {source: generator, count: 2}
      generator: {kind: model, file: \(path)}
      problem: {kind: spiked}
      algorithm: {kind: prfm, iterations: 5}
      projection: {steps: 20, restarts: 2}

      """)
    XCTAssertEqual(plan.points[0].spec.generator.n, 8)
    XCTAssertEqual(plan.points[0].spec.generator.k, 3)
    let summary = try ExperimentRunner(plan: plan, options: .init(jobs: 1, out: fixture.directory.appendingPathComponent("r").path, progress: nil)).run()
    let records = try ResultsFile.read(summary.resultsPath).records
    XCTAssertEqual(records.count, 2)
    XCTAssertTrue(records.allSatisfy { $0.status == .ok && $0.generatorChecksum == smallGenerator().checksum }, "\(records.map(\.error))")
    XCTAssertTrue(records[0].generator.hasPrefix("dense-generator(sha256:"))
  }
}
