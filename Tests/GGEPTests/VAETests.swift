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

#if canImport(Glibc)
import Glibc
#endif

final class VAETests: GGEPTestCase {
  static let committedModel = MNISTLocation.packageRoot + "/models/mnist-vae.h5"

  /// A small architecture for fast tests.
  static let small = VAEArchitecture(input: 64, encoderHidden: [48, 32], latent: 4, decoderHidden: [32, 48])

  /// `syntheticImages` cut into a training set (the first `train` rows) and a test set.
  static func syntheticSplit(train: Int, test: Int, pixels: Int, seed: UInt64) -> (train: Matrix<Float>, test: Matrix<Float>) {
    let images = syntheticImages(count: train + test, pixels: pixels, seed: seed)
    return (
      Matrix(rows: train, cols: pixels, storage: Array(images.storage[0..<(train * pixels)])),
      Matrix(rows: test, cols: pixels, storage: Array(images.storage[(train * pixels)...]))
    )
  }

  /// Images that a small VAE can learn: x = σ(A u) with u ~ N(0, I₃) and a fixed random A.
  static func syntheticImages(count: Int, pixels: Int, seed: UInt64) -> Matrix<Float> {
    var rng = RandomStream(seed: seed, key: "synthetic", purpose: "basis")
    let basis = rng.normals(3 * pixels, scale: 2)
    var images = Matrix<Float>(rows: count, cols: pixels)
    var latent = RandomStream(seed: seed, key: "synthetic", purpose: "latent")
    for i in 0..<count {
      let u = latent.normals(3)
      for j in 0..<pixels {
        let a = u[0] * basis[j] + u[1] * basis[pixels + j] + u[2] * basis[2 * pixels + j]
        images[i, j] = Float(1 / (1 + exp(-a)))
      }
    }
    return images
  }

  private func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ggep-vae-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir.appendingPathComponent(name).path
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

  // MARK: - Vectorised kernels

  private func relativeError(_ a: Double, _ b: Double) -> Double {
    a == b ? 0 : Swift.abs(a - b) / max(Swift.abs(b), 1e-300)
  }

  /// The kernels agree with the scalar formulas (in Double, and the Float ones the generator
  /// used before) to about 1e-6 relative, across the whole useful range.
  func testKernelsMatchScalarFormulas() {
    XCTAssertTrue(VectorKernels.isVectorised, "the AVX2 path of _VectorMath was not compiled in")
    var rng = RandomStream(seed: 21)
    var xs: [Float] = [0, -0.0, 1e-30, -1e-30, 1e-7, -1e-7, 0.5, -0.5, 15, -15, 17, -17, 30, -30, 80, -80, 87, -87]
    xs += (0..<2001).map { Float(-80 + 0.08 * Double($0)) }
    xs += (0..<997).map { _ in Float(rng.normal() * 5) }

    var softplus = xs
    var derivative = [Float](repeating: 0, count: xs.count)
    var fused = xs
    var sigmoid = xs
    softplus.withUnsafeMutableBufferPointer { VectorKernels.softplus($0.baseAddress!, xs.count) }
    fused.withUnsafeMutableBufferPointer { f in
      derivative.withUnsafeMutableBufferPointer { VectorKernels.softplus(f.baseAddress!, derivative: $0.baseAddress!, xs.count) }
    }
    sigmoid.withUnsafeMutableBufferPointer { VectorKernels.sigmoid($0.baseAddress!, xs.count) }
    var worst = (softplus: 0.0, sigmoid: 0.0, derivative: 0.0, scalar: 0.0)
    for (i, x) in xs.enumerated() {
      let d = Double(x)
      let sp = max(d, 0) + log1p(exp(-Swift.abs(d)))
      let sg = 1 / (1 + exp(-d))
      worst.softplus = max(worst.softplus, relativeError(Double(softplus[i]), sp))
      worst.sigmoid = max(worst.sigmoid, relativeError(Double(sigmoid[i]), sg))
      worst.derivative = max(worst.derivative, relativeError(Double(derivative[i]), sg))
      XCTAssertEqual(fused[i].bitPattern, softplus[i].bitPattern, "fused softplus differs at \(x)")
      // The generator's former scalar Float formula.
      let scalar = max(x, 0) + log1pf(expf(-Swift.abs(x)))
      worst.scalar = max(worst.scalar, relativeError(Double(softplus[i]), Double(scalar)))
    }
    XCTAssertLessThan(worst.softplus, 1e-6)
    XCTAssertLessThan(worst.sigmoid, 1e-6)
    XCTAssertLessThan(worst.derivative, 1e-6)
    XCTAssertLessThan(worst.scalar, 1e-6)

    // Derivatives from outputs: softplus' = 1 − e^(−y) for y > 0, σ' = y(1 − y) for y ∈ (0, 1).
    let ys: [Float] = (0..<1999).map { Float(exp(-30 + 0.02 * Double($0))) }  // e^-30 … e^10
    var g = [Float](repeating: 1, count: ys.count)
    g.withUnsafeMutableBufferPointer { gp in
      ys.withUnsafeBufferPointer { VectorKernels.multiplySoftplusDerivative(gp.baseAddress!, outputs: $0.baseAddress!, ys.count) }
    }
    var worstSoftplus = 0.0
    for (i, y) in ys.enumerated() { worstSoftplus = max(worstSoftplus, relativeError(Double(g[i]), -expm1(-Double(y)))) }
    XCTAssertLessThan(worstSoftplus, 1e-6)
    let probabilities: [Float] = (1..<1000).map { Float($0) / 1000 }
    var h = [Float](repeating: 3, count: probabilities.count)
    h.withUnsafeMutableBufferPointer { hp in
      probabilities.withUnsafeBufferPointer {
        VectorKernels.multiplySigmoidDerivative(hp.baseAddress!, outputs: $0.baseAddress!, probabilities.count)
      }
    }
    for (i, y) in probabilities.enumerated() { XCTAssertEqual(h[i], 3 * (y * (1 - y))) }

    // Bernoulli cross-entropy on logits and its gradient.
    let logits = (0..<1003).map { _ in Float(rng.normal() * 8) }
    let targets = (0..<1003).map { _ in Float(rng.uniform()) }
    var grad = [Float](repeating: 0, count: logits.count)
    let total = grad.withUnsafeMutableBufferPointer { gp in
      VectorKernels.bernoulliCrossEntropy(logits: logits, targets: targets, gradient: gp.baseAddress!, scale: 0.5, logits.count)
    }
    var reference = 0.0
    for i in logits.indices {
      let l = Double(logits[i]), x = Double(targets[i])
      reference += max(l, 0) - x * l + log1p(exp(-Swift.abs(l)))
      let expected = 0.5 * (1 / (1 + exp(-l)) - x)
      XCTAssertEqual(Double(grad[i]), expected, accuracy: 1e-6 * max(1, Swift.abs(expected)))
    }
    XCTAssertEqual(total, reference, accuracy: 1e-6 * reference)
  }

  /// A row's activations (and derivative products) are bitwise the same whether it is computed
  /// alone, as the first row of a batch, in the middle of one, or at an offset that is not a
  /// multiple of the vector width.
  func testActivationsOfARowDoNotDependOnItsPlaceInTheBatch() {
    var rng = RandomStream(seed: 31)
    let width = 789  // not a multiple of 8
    let row = (0..<width).map { _ in Float(rng.normal() * 6) }
    let gradientRow = (0..<width).map { _ in Float(rng.normal()) }
    let filler = { (count: Int) in (0..<count).map { _ in Float(rng.normal() * 6) } }
    for activation in [Activation.softplus, .sigmoid] {
      func apply(_ values: [Float]) -> [Float] {
        var v = values
        v.withUnsafeMutableBufferPointer { activation.apply($0.baseAddress!, values.count) }
        return v
      }
      func backward(_ g: [Float], _ y: [Float]) -> [Float] {
        var v = g
        v.withUnsafeMutableBufferPointer { gp in
          y.withUnsafeBufferPointer { activation.multiplyDerivative(gp.baseAddress!, outputs: $0.baseAddress!, g.count) }
        }
        return v
      }
      let alone = apply(row)
      let aloneGradient = backward(gradientRow, alone)
      // (rows before, rows after, extra leading elements)
      for (before, after, shift) in [(0, 4, 0), (2, 2, 0), (4, 0, 0), (1, 1, 3), (0, 0, 5)] {
        let prefix = filler(before * width + shift)
        let batch = prefix + row + filler(after * width)
        let out = Array(apply(batch)[prefix.count..<(prefix.count + width)])
        XCTAssertEqual(out.map(\.bitPattern), alone.map(\.bitPattern), "\(activation) at row \(before), shift \(shift)")
        let gBatch = filler(prefix.count) + gradientRow + filler(after * width)
        let yBatch = apply(batch)
        let back = Array(backward(gBatch, yBatch)[prefix.count..<(prefix.count + width)])
        XCTAssertEqual(back.map(\.bitPattern), aloneGradient.map(\.bitPattern), "\(activation)' at row \(before)")
      }
    }
  }

  // MARK: - Gradient

  /// The VAE loss written out in Double, one image at a time, from the model file's tensors:
  /// an independent implementation of what `VAENetwork` computes with GEMMs in Float.
  static func referenceLoss(
    _ t: [String: [Double]], architecture a: VAEArchitecture, x: [Double], epsilon: [Double], rows: Int
  ) -> Double {
    func affine(_ h: [Double], _ w: String, _ b: String) -> [Double] {
      let (weights, bias) = (t[w]!, t[b]!)
      var out = bias
      for i in h.indices { for j in out.indices { out[j] += h[i] * weights[i * out.count + j] } }
      return out
    }
    let softplus = { (v: [Double]) in v.map { max($0, 0) + log1p(exp(-Swift.abs($0))) } }
    var total = 0.0
    for r in 0..<rows {
      let image = Array(x[(r * a.input)..<((r + 1) * a.input)])
      var h = image
      for i in 1...a.encoderHidden.count { h = softplus(affine(h, "encoder/w\(i)", "encoder/b\(i)")) }
      let mu = affine(h, "encoder/w_mu", "encoder/b_mu")
      let logvar = affine(h, "encoder/w_logvar", "encoder/b_logvar")
      var z = mu
      for j in 0..<a.latent {
        z[j] += exp(0.5 * logvar[j]) * epsilon[r * a.latent + j]
        total += 0.5 * (mu[j] * mu[j] + exp(logvar[j]) - 1 - logvar[j])
      }
      var d = z
      let layers = a.decoderHidden.count + 1
      for i in 1..<layers { d = softplus(affine(d, "decoder/w\(i)", "decoder/b\(i)")) }
      let logits = affine(d, "decoder/w\(layers)", "decoder/b\(layers)")
      for (l, p) in zip(logits, image) { total += max(l, 0) - p * l + log1p(exp(-Swift.abs(l))) }
    }
    return total / Double(rows)
  }

  /// The backward pass (Float, GEMMs) against central differences of the Double reference loss,
  /// for every parameter of a small network with a fixed batch and ε: relative error < 1e-3
  /// (a few parameters with |∂| < 1e-3 are compared absolutely).
  func testGradientMatchesFiniteDifferences() {
    let arch = VAEArchitecture(input: 12, encoderHidden: [9, 7], latent: 3, decoderHidden: [6, 8])
    let rows = 4
    let net = VAENetwork(architecture: arch, capacity: rows)
    var rng = RandomStream(seed: 41)
    net.initialize(rng: &rng)
    // Nonzero biases and larger weights, so every term of the chain rule matters.
    for i in 0..<net.parameterCount { net.parameters[i] += Float(rng.normal() * 0.3) }
    for i in 0..<(rows * arch.input) { net.x[i] = Float(rng.uniform()) }
    for i in 0..<(rows * arch.latent) { net.epsilon[i] = Float(rng.normal()) }
    let x = (0..<(rows * arch.input)).map { Double(net.x[$0]) }
    let epsilon = (0..<(rows * arch.latent)).map { Double(net.epsilon[$0]) }

    let (reconstruction, kl) = net.evaluate(rows: rows, gradient: true)
    let analytic = net.exportTensors(from: net.gradient)
    var tensors = net.exportTensors().mapValues { $0.map(Double.init) }
    let reference = Self.referenceLoss(tensors, architecture: arch, x: x, epsilon: epsilon, rows: rows)
    XCTAssertEqual((reconstruction + kl) / Double(rows), reference, accuracy: 1e-5 * reference)

    let h = 1e-6
    var worst = (relative: 0.0, at: "")
    var checked = 0
    for t in arch.tensors {
      for i in 0..<t.count {
        let saved = tensors[t.path]![i]
        tensors[t.path]![i] = saved + h
        let plus = Self.referenceLoss(tensors, architecture: arch, x: x, epsilon: epsilon, rows: rows)
        tensors[t.path]![i] = saved - h
        let minus = Self.referenceLoss(tensors, architecture: arch, x: x, epsilon: epsilon, rows: rows)
        tensors[t.path]![i] = saved
        let numeric = (plus - minus) / (2 * h)
        let a = Double(analytic[t.path]![i])
        let scale = max(Swift.abs(numeric), Swift.abs(a))
        if scale < 1e-3 {
          XCTAssertLessThan(Swift.abs(numeric - a), 1e-6, "\(t.path)[\(i)]: analytic \(a), numeric \(numeric)")
          continue
        }
        let relative = Swift.abs(numeric - a) / scale
        if relative > worst.relative { worst = (relative, "\(t.path)[\(i)]: analytic \(a), numeric \(numeric)") }
        checked += 1
        XCTAssertLessThan(relative, 1e-3, "\(t.path)[\(i)]: analytic \(a), numeric \(numeric)")
      }
    }
    XCTAssertGreaterThan(checked, net.parameterCount * 9 / 10)
    print("gradient check: \(checked) of \(net.parameterCount) parameters compared, worst relative error \(worst.relative) (\(worst.at))")
  }

  // MARK: - Training

  func testShortTrainingLowersTheLossAndIsDeterministic() throws {
    let images = Self.syntheticImages(count: 1100, pixels: Self.small.input, seed: 3)
    let train = Matrix(rows: 1000, cols: images.cols, storage: Array(images.storage[0..<(1000 * images.cols)]))
    let test = Matrix(rows: 100, cols: images.cols, storage: Array(images.storage[(1000 * images.cols)...]))
    var settings = VAETrainingSettings(architecture: Self.small, epochs: 6, seed: 7, batchSize: 20)
    settings.learningRate = 3e-3
    var seen: [Int] = []
    let first = try VAETrainer(settings).train(train: train, test: test) { seen.append($0.epoch) }
    XCTAssertEqual(seen, Array(1...6))  // 6 epochs × 50 mini-batches
    let untrained: VAELoss = {
      let net = VAENetwork(architecture: Self.small, capacity: 20)
      var rng = RandomStream(seed: 7, key: "vae", purpose: "init")
      net.initialize(rng: &rng)
      return net.meanLoss(images: test, seed: 7)
    }()
    let history = first.history
    print("short training: untrained test loss \(untrained.total), " + history.map { "\($0.trainLoss)/\($0.testLoss)" }.joined(separator: ", "))
    XCTAssertLessThan(history.last!.testLoss, 0.9 * untrained.total)
    XCTAssertLessThan(history.last!.trainLoss, history.first!.trainLoss)
    XCTAssertLessThan(history.last!.testLoss, history.first!.testLoss)
    // Its test loss is what `negativeELBO` reports for the final model.
    XCTAssertEqual(first.model.negativeELBO(images: test, seed: 7, batchSize: 20).total, history.last!.testLoss)

    let second = try VAETrainer(settings).train(train: train, test: test)
    XCTAssertEqual(second.model.checksum, first.model.checksum)
    for t in Self.small.tensors {
      XCTAssertEqual(second.model.tensors[t.path]!.map(\.bitPattern), first.model.tensors[t.path]!.map(\.bitPattern), t.path)
    }
    XCTAssertEqual(second.history.map(\.trainLoss), history.map(\.trainLoss))
    XCTAssertEqual(second.history.map(\.testLoss), history.map(\.testLoss))

    settings.seed = 8
    let other = try VAETrainer(settings).train(train: train)
    XCTAssertNotEqual(other.model.checksum, first.model.checksum)
  }

  // MARK: - Data-parallel training

  /// The shards' gradients (each scaled by 1/batch) add up to the whole mini-batch's gradient,
  /// and their losses to its loss; Adam on several workspaces' gradients is Adam on their sum
  /// taken in shard order, bitwise, however the parameters are split across threads.
  func testShardGradientsAddUpAndAdamReducesThemInShardOrder() {
    let arch = VAEArchitecture(input: 12, encoderHidden: [9, 7], latent: 3, decoderHidden: [6, 8])
    let rows = 10
    let boundary = 4  // shard 0: rows 0..<4, shard 1: rows 4..<10
    let net = VAENetwork(architecture: arch, capacity: rows, workspaces: 3)
    var rng = RandomStream(seed: 43)
    net.initialize(rng: &rng)
    let x = (0..<(rows * arch.input)).map { _ in Float(rng.uniform()) }
    let eps = (0..<(rows * arch.latent)).map { _ in Float(rng.normal()) }
    func load(_ workspace: VAENetwork.Workspace, rows range: Range<Int>) {
      for (i, v) in x[(range.lowerBound * arch.input)..<(range.upperBound * arch.input)].enumerated() { workspace.x[i] = v }
      for (i, v) in eps[(range.lowerBound * arch.latent)..<(range.upperBound * arch.latent)].enumerated() {
        workspace.epsilon[i] = v
      }
    }
    let (w0, w1, w2) = (net.workspaces[0], net.workspaces[1], net.workspaces[2])
    load(w2, rows: 0..<rows)
    let whole = net.evaluate(w2, rows: rows, gradient: true, scale: 1 / Float(rows))
    load(w0, rows: 0..<boundary)
    load(w1, rows: boundary..<rows)
    let first = net.evaluate(w0, rows: boundary, gradient: true, scale: 1 / Float(rows))
    let second = net.evaluate(w1, rows: rows - boundary, gradient: true, scale: 1 / Float(rows))
    XCTAssertEqual(first.reconstruction + second.reconstruction, whole.reconstruction, accuracy: 1e-9 * whole.reconstruction)
    XCTAssertEqual(first.kl + second.kl, whole.kl, accuracy: 1e-9 * Swift.max(whole.kl, 1))
    var worst = 0.0
    for i in 0..<net.parameterCount {
      let sum = Double(w0.gradient[i] + w1.gradient[i])
      let reference = Double(w2.gradient[i])
      worst = Swift.max(worst, Swift.abs(sum - reference) / Swift.max(Swift.abs(reference), 1e-3))
    }
    XCTAssertLessThan(worst, 1e-4, "shard gradients do not add up to the batch gradient")

    // Adam on three shards' gradients (summed by the kernel, over all parameters at once or in
    // pieces on 4 threads) against Adam on their sum formed here in Float, in shard order. A wider
    // network, so that the parameters split into several pieces.
    let wide = VAEArchitecture(input: 300, encoderHidden: [150], latent: 5, decoderHidden: [150])
    let sharded = VAENetwork(architecture: wide, capacity: 1, workspaces: 3)
    sharded.initialize(rng: &rng)
    let n = sharded.parameterCount
    XCTAssertGreaterThan(n, 4 * 16_384)
    let split = VAENetwork(architecture: wide, capacity: 1, workspaces: 3)
    let summed = VAENetwork(architecture: wide, capacity: 1)
    for other in [split, summed] { other.importTensors(sharded.exportTensors()) }
    for _ in 0..<3 {
      for i in 0..<n {
        let g = (0..<3).map { _ in Float(rng.normal() * 0.1) }
        for w in 0..<3 {
          sharded.workspaces[w].gradient[i] = g[w]
          split.workspaces[w].gradient[i] = g[w]
        }
        summed.gradient[i] = (g[0] + g[1]) + g[2]
      }
      summed.adamStep(learningRate: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8)
      sharded.adamStep(learningRate: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, shards: 3, threads: 1)
      split.adamStep(learningRate: 1e-2, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, shards: 3, threads: 4)
    }
    let expected = Array(UnsafeBufferPointer(start: summed.parameters, count: n)).map(\.bitPattern)
    XCTAssertEqual(Array(UnsafeBufferPointer(start: sharded.parameters, count: n)).map(\.bitPattern), expected)
    XCTAssertEqual(Array(UnsafeBufferPointer(start: split.parameters, count: n)).map(\.bitPattern), expected)
  }

  /// The promise of data-parallel training: the shard count is a setting (part of the result),
  /// the thread count is not. 1, 2 and 3 worker threads give bitwise the same weights and losses,
  /// here with 3 uneven shards (6, 7, 7 rows) of a mini-batch of 20 as well as the default 2.
  func testThreadCountDoesNotChangeTheWeights() throws {
    let images = Self.syntheticImages(count: 500, pixels: Self.small.input, seed: 5)
    let train = Matrix(rows: 400, cols: images.cols, storage: Array(images.storage[0..<(400 * images.cols)]))
    let test = Matrix(rows: 100, cols: images.cols, storage: Array(images.storage[(400 * images.cols)...]))
    for shards in [2, 3] {
      let settings = VAETrainingSettings(architecture: Self.small, epochs: 2, seed: 9, batchSize: 20, gradientShards: shards, layerPieces: nil)
      XCTAssertEqual((0..<shards).map { settings.shardRows($0).count }.reduce(0, +), 20)
      let runs = try [1, 2, 3].map { try VAETrainer(settings, threads: $0).train(train: train, test: test) }
      for (threads, run) in zip([1, 2, 3], runs) {
        XCTAssertEqual(run.model.training?.threads, threads)
        XCTAssertEqual(run.model.checksum, runs[0].model.checksum, "\(shards) shards, \(threads) threads")
        for t in Self.small.tensors {
          XCTAssertEqual(run.model.tensors[t.path]!.map(\.bitPattern), runs[0].model.tensors[t.path]!.map(\.bitPattern), t.path)
        }
        XCTAssertEqual(run.history.map(\.trainLoss.bitPattern), runs[0].history.map(\.trainLoss.bitPattern))
        XCTAssertEqual(run.history.map(\.testLoss.bitPattern), runs[0].history.map(\.testLoss.bitPattern))
      }
    }
    // A different shard count sums in another order: other last bits, the same training.
    let one = try VAETrainer(VAETrainingSettings(architecture: Self.small, epochs: 2, seed: 9, batchSize: 20, gradientShards: 1, layerPieces: nil))
      .train(train: train, test: test)
    let two = try VAETrainer(VAETrainingSettings(architecture: Self.small, epochs: 2, seed: 9, batchSize: 20, gradientShards: 2, layerPieces: nil))
      .train(train: train, test: test)
    XCTAssertNotEqual(one.model.checksum, two.model.checksum)
    XCTAssertEqual(one.history.last!.testLoss, two.history.last!.testLoss, accuracy: 1e-3 * one.history.last!.testLoss)

    XCTAssertThrowsError(
      try VAETrainer(VAETrainingSettings(architecture: Self.small, epochs: 1, batchSize: 20, gradientShards: 21, layerPieces: nil)).train(train: train))
  }

  /// The test-set evaluation runs fixed chunks on any number of threads and adds the chunk sums
  /// in chunk order: the same bits for 1, 2 or 5 threads, and a last chunk shorter than the rest.
  func testEvaluationDoesNotDependOnThreads() throws {
    let net = VAENetwork(architecture: Self.small, capacity: 1)
    var rng = RandomStream(seed: 11, key: "vae", purpose: "init")
    net.initialize(rng: &rng)
    let model = try VAEModel(architecture: Self.small, tensors: net.exportTensors())
    let images = Self.syntheticImages(count: 230, pixels: Self.small.input, seed: 6)
    let losses = [1, 2, 5].map { model.negativeELBO(images: images, seed: 3, batchSize: 50, threads: $0) }
    for loss in losses {
      XCTAssertEqual(loss.reconstruction.bitPattern, losses[0].reconstruction.bitPattern)
      XCTAssertEqual(loss.kl.bitPattern, losses[0].kl.bitPattern)
    }
    XCTAssertGreaterThan(losses[0].total, 0)
  }

  /// Settings written before shards existed (with `blas_threads`, without `gradient_shards`)
  /// read as one shard: the whole mini-batch in one pass, as those models were trained.
  func testSettingsWithoutShardsReadAsOneShard() throws {
    let old = #"{"adam_epsilon":1e-08,"architecture":{"decoder_hidden":[500,500],"encoder_hidden":[500,500],"input":784,"latent":20},"batch_size":100,"beta1":0.9,"beta2":0.999,"blas_threads":1,"epochs":20,"learning_rate":0.001,"seed":0}"#
    let settings = try JSONDecoder().decode(VAETrainingSettings.self, from: Data(old.utf8))
    XCTAssertEqual(settings.gradientShards, 1)
    XCTAssertEqual(settings, VAETrainingSettings(gradientShards: 1, layerPieces: nil))
    XCTAssertEqual(VAETrainingSettings().gradientShards, 1)
    XCTAssertEqual(VAETrainingSettings().layerPieces, 4)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let shards = String(decoding: try encoder.encode(VAETrainingSettings.rowShards(2)), as: UTF8.self)
    XCTAssertTrue(shards.contains(#""gradient_shards":2"#), shards)
    XCTAssertFalse(shards.contains("layer_pieces"), shards)
    XCTAssertEqual(try JSONDecoder().decode(VAETrainingSettings.self, from: Data(shards.utf8)), .rowShards(2))
    let pieces = String(decoding: try encoder.encode(VAETrainingSettings()), as: UTF8.self)
    XCTAssertTrue(pieces.contains(#""gradient_shards":1,"layer_pieces":4"#), pieces)
    XCTAssertEqual(try JSONDecoder().decode(VAETrainingSettings.self, from: Data(pieces.utf8)), VAETrainingSettings())
  }

  // MARK: - Model file

  private func smallTrainedModel() throws -> VAEModel {
    let images = Self.syntheticImages(count: 200, pixels: Self.small.input, seed: 4)
    let settings = VAETrainingSettings(architecture: Self.small, epochs: 2, seed: 1, batchSize: 50)
    return try VAETrainer(settings).train(train: images, test: images).model
  }

  func testModelFileRoundTrip() throws {
    let model = try smallTrainedModel()
    let path = temporaryPath("model.h5")
    try model.save(to: path)
    let loaded = try VAEModel.load(from: path)
    XCTAssertEqual(loaded.architecture, model.architecture)
    XCTAssertEqual(loaded.checksum, model.checksum)
    XCTAssertEqual(loaded.training, model.training)
    for t in Self.small.tensors {
      XCTAssertEqual(loaded.tensors[t.path]!.map(\.bitPattern), model.tensors[t.path]!.map(\.bitPattern), t.path)
    }
    XCTAssertEqual(loaded.summary, "vae-mnist(sha256:\(model.checksum.prefix(8))…)")

    // The file as other tools see it: orientation, attributes.
    let file = try HDF5File.open(path)
    defer { try? file.close() }
    XCTAssertEqual(try file.root.shape(of: "encoder/w1"), [64, 48])
    XCTAssertEqual(try file.root.shape(of: "encoder/w_logvar"), [32, 4])
    XCTAssertEqual(try file.root.shape(of: "decoder/w3"), [48, 64])
    XCTAssertEqual(try file.root.stringAttribute("format"), "ggep-model/1")
    XCTAssertEqual(try file.root.stringAttribute("model"), "vae")
    XCTAssertEqual(try file.root.stringAttribute("checksum"), model.checksum)
    XCTAssertEqual(try file.root.int64Attribute("epochs"), 2)
    XCTAssertEqual(try file.root.int64Attribute("batch_size"), 50)
    XCTAssertEqual(try file.root.int64Attribute("gradient_shards"), 1)
    XCTAssertEqual(try file.root.int64Attribute("layer_pieces"), 4)
    XCTAssertEqual(try file.root.int64Attribute("blas_threads"), 1)
    XCTAssertEqual(try file.root.int64Attribute("training_threads"), Int64(model.training!.threads))
    XCTAssertEqual(try file.root.doubleAttribute("learning_rate"), 1e-3)
    XCTAssertEqual(try file.root.doubleAttribute("test_loss"), model.training!.finalTestLoss)
    XCTAssertEqual(
      try file.root.stringAttribute("architecture"),
      #"{"decoder_hidden":[32,48],"encoder_hidden":[48,32],"input":64,"latent":4}"#)
    XCTAssertEqual(
      try file.root.stringAttribute("activations"),
      #"{"decoder":["softplus","softplus","sigmoid"],"encoder":["softplus","softplus","identity"]}"#)

    // The decoder generator is the decoder: sigmoid(logits) of the same layers.
    let generator = loaded.decoderGenerator()
    XCTAssertEqual(generator.latentDimension, 4)
    XCTAssertEqual(generator.outputDimension, 64)
    XCTAssertEqual(generator.layers.map(\.activation), [.softplus, .softplus, .sigmoid])
    XCTAssertEqual(generator.layers[2].weights, loaded.matrix("decoder/w3"))
  }

  func testModelFileLoadErrorsNameTheFileAndDataset() throws {
    let model = try smallTrainedModel()
    let good = temporaryPath("good.h5")
    try model.save(to: good)

    func variant(_ name: String, _ edit: (HDF5Group) throws -> Void) throws -> String {
      let path = temporaryPath(name)
      try FileManager.default.copyItem(atPath: good, toPath: path)
      let file = try HDF5File.open(path, writable: true)
      try edit(file.root)
      try file.close()
      return path
    }

    let missingFile = temporaryPath("absent.h5")
    assertThrows(try VAEModel.load(from: missingFile), containing: [missingFile, "file not found"])
    let text = temporaryPath("text.h5")
    try Data("not HDF5\n".utf8).write(to: URL(fileURLWithPath: text))
    assertThrows(try VAEModel.load(from: text), containing: [text, "not an HDF5 file"])

    let missing = try variant("missing.h5") { try $0.remove("encoder/b2") }
    assertThrows(try VAEModel.load(from: missing), containing: [missing, "/encoder/b2", "missing dataset"])
    let shape = try variant("shape.h5") { try $0.write("decoder/w3", [Float](repeating: 0, count: 64 * 48), shape: [64, 48]) }
    assertThrows(try VAEModel.load(from: shape), containing: [shape, "/decoder/w3", "has shape [64, 48], expected [48, 64]"])
    let tampered = try variant("tampered.h5") { root in
      var b = try root.readFloats("decoder/b1").values
      b[0] += 1
      try root.write("decoder/b1", b)
    }
    assertThrows(try VAEModel.load(from: tampered), containing: [tampered, "checksum mismatch", model.checksum])
    let format = try variant("format.h5") { try $0.setAttribute("format", "other/2") }
    assertThrows(try VAEModel.load(from: format), containing: [format, "format is 'other/2', expected 'ggep-model/1'"])
    // A file of the VAE format this one replaced still loads, the same model.
    let legacy = try variant("legacy.h5") { try $0.setAttribute("format", "ggep-vae/1") }
    XCTAssertEqual(try VAEModel.load(from: legacy).checksum, model.checksum)
    // Another kind of model is not a VAE.
    let other = try variant("other.h5") { try $0.setAttribute("model", "dense-generator") }
    assertThrows(try VAEModel.load(from: other), containing: [other, "holds a 'dense-generator' model, not a VAE"])
    let foreign = temporaryPath("foreign.h5")
    try writeHDF5Atomically(to: foreign) { try $0.root.write("x", [1.0, 2.0]) }
    assertThrows(try VAEModel.load(from: foreign), containing: [foreign, "no 'format' attribute"])
    let architecture = try variant("architecture.h5") { try $0.setAttribute("architecture", "{\"input\": 3}") }
    assertThrows(try VAEModel.load(from: architecture), containing: [architecture, "'architecture'"])
  }

  // MARK: - The committed model

  func testCommittedModelMeetsTheTestELBOTarget() throws {
    let model = try VAEModel.load(from: Self.committedModel)
    XCTAssertEqual(model.architecture, .mnist)
    let training = try XCTUnwrap(model.training)
    XCTAssertEqual(training.settings.epochs, 20)
    XCTAssertEqual(training.settings.seed, 0)
    XCTAssertEqual(training.settings.gradientShards, 2)
    XCTAssertLessThanOrEqual(training.finalTestLoss, 110)
    guard let dir = MNISTLocation.directory else { throw XCTSkip("MNIST data not found (run `make data`): test −ELBO not recomputed") }
    let test = try MNIST.load(.test, directory: dir)
    // One BLAS thread, as in training. The recorded figure was computed on the machine that
    // trained the model; another CPU runs other OpenBLAS kernels (`MachineInfo.blasCore`), which
    // round differently, so across machines the figure is promised to rounding, not bit for bit
    // (seen: 100.64192426460654 here vs 100.64192426344748 recorded, a relative 1e-11). The
    // tolerance, 1e-6 relative (0.0001 nats), is far above rounding and far below any change
    // of model or evaluation. Bitwise reproducibility on one machine is tested by
    // `testEvaluationDoesNotDependOnThreads`, which compares evaluations made here.
    let threads = BLASThreads.current
    BLASThreads.set(VAETrainer.blasThreads)
    defer { BLASThreads.set(threads) }
    let loss = model.negativeELBO(images: test.images, seed: training.settings.seed, batchSize: training.settings.batchSize, threads: 2)
    print("committed model: test −ELBO \(loss.total) nats (reconstruction \(loss.reconstruction), KL \(loss.kl)); recorded \(training.finalTestLoss)")
    XCTAssertLessThanOrEqual(loss.total, 110)
    XCTAssertEqual(loss.total, training.finalTestLoss, accuracy: 1e-6 * training.finalTestLoss)
  }

  /// Decoded images G(z*) lie in the generator's range, so the Adam projection (docs/mathematics.md §4 defaults)
  /// must find them again.
  func testProjectionRecoversDecodedImages() throws {
    let model = try VAEModel.load(from: Self.committedModel)
    let generator = model.decoderGenerator()
    XCTAssertEqual(generator.summary, model.summary)
    let count = 6
    var rng = RandomStream(seed: 51, key: "vae-test", purpose: "latent")
    let z = Matrix(rows: count, cols: 20, storage: (0..<(count * 20)).map { _ in Float(rng.normal()) })
    let images = generator.evaluate(z).asDouble
    let projector = AdamProjector(generator: generator)
    let slots = (0..<count).map { ProjectionSlot(rng: RandomStream(seed: 52, key: "vae-test-\($0)", purpose: "restarts")) }
    let projected = try projector.project(images, slots: slots)
    let cosines = (0..<count).map { Fixtures.cosine(Array(projected.row($0)), Array(images.row($0))) }
    print("projection of decoded images: cosines \(cosines.map { String(format: "%.5f", $0) })")
    for (i, cosine) in cosines.enumerated() { XCTAssertGreaterThan(cosine, 0.99, "image \(i)") }
  }
}
