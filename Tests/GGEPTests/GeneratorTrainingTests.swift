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

/// The generator trainer (docs/mathematics.md §11): the network's gradient against finite differences, folded
/// batch norm against the training-mode network, short GAN and kernel runs that learn, are the
/// same bits run twice (whatever OpenBLAS's thread count was), and resume after a kill to the
/// same weights as an uninterrupted run.
final class GeneratorTrainingTests: GGEPTestCase {
  static func mnist(_ rows: Int, _ part: MNIST.Part) throws -> Matrix<Float> {
    guard let directory = MNISTLocation.directory else { throw XCTSkip("unreachable: MNIST is required") }
    let images = try MNIST.load(part, directory: directory).images
    return Matrix(rows: rows, cols: images.cols, storage: Array(images.storage[0..<(rows * images.cols)]))
  }

  /// ∂L/∂θ of the generator (Linear → BN → ReLU, Linear → PLU) for L = ⟨C, G(z)⟩ against
  /// central differences in the parameters, at a batch whose pre-activations avoid the kinks.
  func testGeneratorGradientMatchesFiniteDifferences() {
    var generator = TrainableGenerator(widths: [3, 6, 5], hiddenActivation: .leakyRelu(slope: 0.2), outputActivation: .plu(alpha: 0.1, c: 1), batchNorm: true)
    var rng = RandomStream(seed: 5)
    var theta = [Float](repeating: 0, count: generator.parameterCount)
    generator.initialize(&theta, rng: &rng)
    for i in theta.indices { theta[i] += Float(rng.normal() * 0.3) }  // γ, β away from 1, 0
    let rows = 4
    let z = (0..<(rows * 3)).map { _ in Float(rng.normal()) }
    let c = (0..<(rows * 5)).map { _ in Float(rng.normal()) }
    let ws = generator.makeWorkspace(rows: rows)
    func loss(_ p: [Float]) -> Double {
      p.withUnsafeBufferPointer { pp in z.withUnsafeBufferPointer { generator.forward(parameters: pp.baseAddress!, z: $0.baseAddress!, workspace: ws, updateStatistics: false) } }
      return (0..<(rows * 5)).reduce(0.0) { $0 + Double(c[$1]) * Double(ws.samples[$1]) }
    }
    _ = loss(theta)
    var gradient = [Float](repeating: .nan, count: theta.count)
    theta.withUnsafeBufferPointer { p in
      z.withUnsafeBufferPointer { zp in
        c.withUnsafeBufferPointer { g in
          gradient.withUnsafeMutableBufferPointer { generator.backward(parameters: p.baseAddress!, z: zp.baseAddress!, outputGradient: g.baseAddress!, workspace: ws, gradient: $0.baseAddress!) }
        }
      }
    }
    var worst = 0.0
    for i in theta.indices {
      var plus = theta, minus = theta
      let h: Float = 1e-2
      plus[i] += h
      minus[i] -= h
      let numeric = (loss(plus) - loss(minus)) / (2 * Double(h))
      worst = max(worst, abs(numeric - Double(gradient[i])) / max(1, abs(numeric)))
    }
    print("generator gradient vs central differences: worst \(worst)")
    XCTAssertLessThan(worst, 2e-3)
  }

  /// A trained network in evaluation mode, folded, equals the training-mode network evaluated
  /// with its running statistics (the batch norms' own evaluation mode).
  func testFoldedGeneratorEqualsTheEvaluationModeNetwork() throws {
    var settings = GeneratorTrainingSettings(kind: .kernel)
    settings.epochs = 1
    settings.batchSize = 32
    settings.widths = [4, 16, 24, 784]
    let train = try Self.mnist(640, .train), test = try Self.mnist(500, .test)
    let result = try GeneratorTrainer(settings).train(train: train, test: test, checkpoint: nil)
    let folded = FeedForwardGenerator(layers: result.layers, summary: "")
    // The same network by hand: affine, then (x − μ̄)/√(σ̄² + ε)·γ + β, then the activation.
    var state = try TrainingState(settings: settings)
    _ = try state.runEpoch(train, epoch: 1)
    var rng = RandomStream(seed: 9)
    let z = Matrix(rows: 3, cols: 4, storage: (0..<12).map { _ in Float(rng.normal()) })
    let x = folded.evaluate(z)
    let p = state.generatorParameters
    var h = z.storage.map(Double.init)
    for (l, layer) in state.generator.stack.layers.enumerated() {
      var out = [Double](repeating: 0, count: 3 * layer.fanOut)
      for r in 0..<3 {
        for o in 0..<layer.fanOut {
          var sum = layer.hasBias ? Double(p[layer.biasOffset + o]) : 0
          for i in 0..<layer.fanIn { sum += h[r * layer.fanIn + i] * Double(p[layer.weightOffset + i * layer.fanOut + o]) }
          if l < 2 {
            let bn = state.generator.batchNorms[l]
            sum = (sum - Double(bn.runningMean[o])) / (Double(bn.runningVariance[o]) + 1e-5).squareRoot() * Double(p[bn.gammaOffset + o]) + Double(p[bn.betaOffset + o])
            sum = max(sum, 0)
          } else {
            sum = max(0.1 * (sum + 1) - 1, min(0.1 * (sum - 1) + 1, sum))
          }
          out[r * layer.fanOut + o] = sum
        }
      }
      h = out
    }
    let error = zip(x.storage, h).map { abs(Double($0) - $1) }.max()!
    XCTAssertLessThan(error, 1e-4, "folded vs evaluation mode")
  }

  func shortRun(_ kind: GeneratorTrainingSettings.Kind, _ configure: (inout GeneratorTrainingSettings) -> Void = { _ in }) -> GeneratorTrainingSettings {
    var settings = GeneratorTrainingSettings(kind: kind)
    settings.epochs = 3
    settings.batchSize = 50
    settings.widths = [8, 32, 64, 784]
    settings.discriminatorWidths = [784, 64, 1]
    settings.learningRate = 1e-3
    settings.discriminatorLearningRate = 1e-3
    configure(&settings)
    return settings
  }

  /// Three short epochs of each kind on 1 000 images: the held-out MMD² falls, the criterion
  /// moves the way its player wants, and a second run (started with OpenBLAS at 2 threads, which
  /// the trainer pins to 1) gives the same bits.
  func testShortRunsLearnAndRepeatBitwise() throws {
    let train = try Self.mnist(1000, .train), test = try Self.mnist(500, .test)
    for settings in [
      shortRun(.kernel), shortRun(.kernel) { $0.criterion = .mmd }, shortRun(.gan),
      shortRun(.gan) { $0.loss = .meanSquare }, shortRun(.gan) { $0.loss = .exponential },
    ] {
      let label = settings.kind == .gan ? "gan \(settings.loss.rawValue)" : "kernel \(settings.criterion.rawValue)"
      let first = try GeneratorTrainer(settings).train(train: train, test: test, checkpoint: nil)
      let initial = try TrainingState(settings: settings)
      let z = GeneratorTrainer.heldOutLatents(settings)
      let before = KernelCriteria(bandwidths: GeneratorTrainer.heldOutBandwidths).mmd2(
        data: test, generated: FeedForwardGenerator(layers: initial.generator.folded(initial.generatorParameters), summary: "").evaluate(z)).value
      let after = first.history.map(\.heldOutMMD)
      print("\(label): held-out MMD² \(before) → \(after), criterion \(first.history.map(\.criterion))")
      XCTAssertLessThan(after.last!, 0.7 * before, label)
      if settings.kind == .kernel {
        let c = first.history.map(\.criterion)
        if settings.criterion == .mmd { XCTAssertLessThan(c.last!, c.first!, label) } else { XCTAssertGreaterThan(c.last!, c.first!, label) }
      }
      // The trainer pins OpenBLAS to one thread and restores the caller's count; leave the
      // process as this test found it, so later tests run at their usual thread count.
      let previous = BLASThreads.current
      BLASThreads.set(2)
      let second = try GeneratorTrainer(settings).train(train: train, test: test, checkpoint: nil)
      BLASThreads.set(previous)
      XCTAssertEqual(first.layers.map(\.weights.storage), second.layers.map(\.weights.storage), label)
      XCTAssertEqual(first.layers.map(\.bias), second.layers.map(\.bias), label)
      XCTAssertEqual(first.history.map(\.criterion), second.history.map(\.criterion), label)
    }
  }

  /// A run killed after its first epoch (the checkpoint of epoch 1 on disk) and started again
  /// ends with the same weights as one never interrupted; a checkpoint of other settings is
  /// refused naming the file; a damaged one too.
  func testAResumedRunEndsWithTheSameWeights() throws {
    let train = try Self.mnist(600, .train), test = try Self.mnist(500, .test)
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("ggep-train-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: directory) }
    for settings in [shortRun(.gan), shortRun(.kernel)] {
      let checkpoint = directory + "/\(settings.kind).checkpoint.h5"
      let whole = try GeneratorTrainer(settings).train(train: train, test: test, checkpoint: nil)
      let killed = try GeneratorTrainer(settings).train(train: train, test: test, checkpoint: checkpoint, stopAfter: 1)
      XCTAssertEqual(killed.epochsRun, 1)
      let resumed = try GeneratorTrainer(settings).train(train: train, test: test, checkpoint: checkpoint)
      XCTAssertEqual(resumed.epochsRun, 2)
      XCTAssertEqual(whole.layers.map(\.weights.storage), resumed.layers.map(\.weights.storage), "\(settings.kind)")
      XCTAssertEqual(whole.layers.map(\.bias), resumed.layers.map(\.bias), "\(settings.kind)")
      XCTAssertEqual(whole.history.map(\.criterion), resumed.history.map(\.criterion))

      var other = settings
      other.seed = 1
      XCTAssertThrowsError(try GeneratorTrainer(other).train(train: train, test: test, checkpoint: checkpoint)) {
        XCTAssertTrue("\($0)".contains(checkpoint) && "\($0)".contains("was written with other settings"), "\($0)")
      }
      let bytes = try Data(contentsOf: URL(fileURLWithPath: checkpoint))
      try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: checkpoint))
      XCTAssertThrowsError(try GeneratorTrainer(settings).train(train: train, test: test, checkpoint: checkpoint)) {
        XCTAssertTrue("\($0)".contains(checkpoint) && "\($0)".contains("delete it to start over"), "\($0)")
      }
    }
  }

  /// `ggep train-vae` is an alias of `ggep train-generator` with `kind: vae`: the flags and the
  /// equivalent config train bitwise the same weights (one epoch, the committed schedule).
  func testTrainVAEIsTrainGeneratorWithKindVAE() throws {
    guard let directory = MNISTLocation.directory else { return XCTFail("MNIST is required: make data") }
    let scratch = NSTemporaryDirectory() + "ggep-alias-\(UUID().uuidString)"
    try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: scratch) }
    let flags = try GGEPExecutable.run(
      ["train-vae", "--epochs", "1", "--seed", "3", "--gradient-shards", "2", "--data", directory, "--out", scratch + "/flags.h5"])
    XCTAssertEqual(flags.status, 0, flags.stderr)
    XCTAssertTrue(flags.stdout.contains("train-generator` with kind: vae"), flags.stdout)
    let config = scratch + "/vae.yaml"
    try """
      kind: vae
      out: \(scratch)/config.h5
      data: \(directory)
      seed: 3
      epochs: 1
      vae: {architecture: mnist, gradient_shards: 2}

      """.write(toFile: config, atomically: true, encoding: .utf8)
    let yaml = try GGEPExecutable.run(["train-generator", config])
    XCTAssertEqual(yaml.status, 0, yaml.stderr)
    let a = try VAEModel.load(from: scratch + "/flags.h5"), b = try VAEModel.load(from: scratch + "/config.h5")
    XCTAssertEqual(a.checksum, b.checksum)
    XCTAssertEqual(a.checksum.count, 64)
    XCTAssertFalse(FileManager.default.fileExists(atPath: scratch + "/flags.h5.checkpoint.h5"), "the checkpoint is removed once the model is written")
  }

  func testBadSettingsAreRefused() {
    var settings = GeneratorTrainingSettings(kind: .gan)
    settings.loss = .meanSquare
    settings.nonSaturating = true
    XCTAssertThrowsError(try GeneratorTrainer(settings)) { XCTAssertTrue("\($0)".contains("non_saturating applies to loss cross-entropy only")) }
    settings = GeneratorTrainingSettings(kind: .gan)
    settings.discriminatorWidths = [700, 1]
    XCTAssertThrowsError(try GeneratorTrainer(settings)) { XCTAssertTrue("\($0)".contains("discriminator_widths must run from the generator's output width 784")) }
    settings = GeneratorTrainingSettings(kind: .kernel)
    settings.bandwidths = [1, -2]
    XCTAssertThrowsError(try GeneratorTrainer(settings)) { XCTAssertTrue("\($0)".contains("bandwidths must be positive")) }
  }
}

/// The whole discriminator step's gradient, as the trainer computes it (loss family → raw
/// outputs → the network's backward → through the spectral normalisation to the raw weights),
/// and the generator's input gradient (the network's pullback), against central differences,
/// for each loss of docs/mathematics.md §11.
final class DiscriminatorGradientTests: GGEPTestCase {
  func testDiscriminatorAndGeneratorGradientsMatchFiniteDifferences() {
    for loss in AdversarialLoss.allCases {
      var rng = RandomStream(seed: 21, key: loss.rawValue)
      // Many power iterations per forward, so σ is σ_max(W) at every perturbed point and the
      // normalisation's gradient (u, v taken as the singular vectors) is exact.
      var d = SpectralDiscriminator(widths: [6, 5, 4, 1], powerIterations: 300, rng: &rng)
      var theta = [Float](repeating: 0, count: d.parameterCount)
      d.initialize(&theta, rng: &rng)
      let (n, m) = (3, 3)
      let input = (0..<((n + m) * 6)).map { _ in Float(rng.normal()) }
      func outputs(_ p: [Float], _ x: [Float], rows: Int) -> [Float] {
        var w = [Float](repeating: 0, count: p.count)
        p.withUnsafeBufferPointer { pp in w.withUnsafeMutableBufferPointer { d.normalize(pp.baseAddress!, into: $0.baseAddress!) } }
        let buffers = AlignedFloats(d.stack.layers.map { rows * $0.fanOut })
        w.withUnsafeBufferPointer { wp in x.withUnsafeBufferPointer { d.stack.forward(parameters: wp.baseAddress!, input: $0.baseAddress!, rows: rows, outputs: buffers.buffers) } }
        return Array(UnsafeBufferPointer(start: buffers.buffers.last!, count: rows))
      }
      func objective(_ p: [Float]) -> Double {
        let t = outputs(p, input, rows: n + m)
        return loss.discriminatorObjective(real: Array(t[0..<n]), fake: Array(t[n...])).objective
      }
      // Analytic: the trainer's path.
      var w = [Float](repeating: 0, count: theta.count)
      theta.withUnsafeBufferPointer { pp in w.withUnsafeMutableBufferPointer { d.normalize(pp.baseAddress!, into: $0.baseAddress!) } }
      let rows = n + m
      let layerOut = AlignedFloats(d.stack.layers.map { rows * $0.fanOut })
      let pointers = layerOut.buffers
      var delta = [Float](repeating: 0, count: rows)
      var gNormalized = [Float](repeating: 0, count: theta.count), gRaw = gNormalized
      let widest = d.stack.widths.max()!
      var scratchA = [Float](repeating: 0, count: rows * widest), scratchB = scratchA
      let ones = [Float](repeating: 1, count: rows)
      w.withUnsafeBufferPointer { wp in
        input.withUnsafeBufferPointer { x in
          d.stack.forward(parameters: wp.baseAddress!, input: x.baseAddress!, rows: rows, outputs: pointers)
          delta.withUnsafeMutableBufferPointer { dl in
            _ = loss.discriminatorObjective(real: pointers.last!, count: n, fake: pointers.last! + n, count: m, realGradient: dl.baseAddress!, fakeGradient: dl.baseAddress! + n)
            scratchA.withUnsafeMutableBufferPointer { a in
              scratchB.withUnsafeMutableBufferPointer { b in
                gNormalized.withUnsafeMutableBufferPointer { g in
                  d.stack.backward(
                    parameters: wp.baseAddress!, input: x.baseAddress!, outputs: pointers.map { UnsafePointer($0) }, derivatives: nil, delta: dl.baseAddress!,
                    rows: rows, gradient: g.baseAddress!, ones: ones, inputGradient: nil, scratch: (a.baseAddress!, b.baseAddress!))
                }
              }
            }
          }
        }
        gNormalized.withUnsafeBufferPointer { g in gRaw.withUnsafeMutableBufferPointer { d.rawGradient(g.baseAddress!, normalized: wp.baseAddress!, into: $0.baseAddress!) } }
      }
      var worst = 0.0
      for i in theta.indices {
        var plus = theta, minus = theta
        let h: Float = 2e-3
        plus[i] += h
        minus[i] -= h
        let numeric = (objective(plus) - objective(minus)) / (2 * Double(h))
        worst = max(worst, abs(numeric - Double(gRaw[i])) / max(0.05, abs(numeric)))
      }
      print("\(loss.rawValue): discriminator raw-weight gradient vs central differences, worst \(worst)")
      XCTAssertLessThan(worst, 2e-2, loss.rawValue)

      // The generator's side: ∂(mean generator loss)/∂(fake rows) by the network's pullback.
      let fake = Array(input[(n * 6)...])
      func generatorLoss(_ x: [Float]) -> Double { loss.generatorLoss(fake: outputs(theta, x, rows: m)).loss }
      let t = outputs(theta, fake, rows: m)
      let gt = loss.generatorLoss(fake: t).gradient
      var dx = [Float](repeating: 0, count: m * 6)
      let outs = AlignedFloats(d.stack.layers.map { m * $0.fanOut })
      let outPointers = outs.buffers
      w.withUnsafeBufferPointer { wp in
        fake.withUnsafeBufferPointer { d.stack.forward(parameters: wp.baseAddress!, input: $0.baseAddress!, rows: m, outputs: outPointers) }
        gt.withUnsafeBufferPointer { g in
          scratchA.withUnsafeMutableBufferPointer { a in
            scratchB.withUnsafeMutableBufferPointer { b in
              dx.withUnsafeMutableBufferPointer {
                d.stack.pullback(
                  parameters: wp.baseAddress!, gradient: g.baseAddress!, outputs: outPointers.map { UnsafePointer($0) }, rows: m, into: $0.baseAddress!,
                  scratch: (a.baseAddress!, b.baseAddress!))
              }
            }
          }
        }
      }
      var worstInput = 0.0
      for i in fake.indices {
        var plus = fake, minus = fake
        plus[i] += 2e-3
        minus[i] -= 2e-3
        let numeric = (generatorLoss(plus) - generatorLoss(minus)) / 4e-3
        worstInput = max(worstInput, abs(numeric - Double(dx[i])) / max(0.05, abs(numeric)))
      }
      print("\(loss.rawValue): generator input gradient vs central differences, worst \(worstInput)")
      XCTAssertLessThan(worstInput, 2e-2, loss.rawValue)
    }
  }
}
