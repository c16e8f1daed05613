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

/// The VAE with ReLU hidden layers (a VAE prior of the GAN generator's 20-128-392-784
/// shape): its gradient, its model file, what configs and the layer-wise inverters make of that
/// file, training on MNIST, and that a softplus architecture is written byte for byte as before
/// `hidden_activation` existed.
final class ReLUVAETests: GGEPTestCase {
  static let committedModel = MNISTLocation.packageRoot + "/models/mnist-vae.h5"
  static let committedReLUModel = MNISTLocation.packageRoot + "/models/mnist-relu-vae.h5"

  /// A tiny ReLU architecture for the gradient check and the file round trip.
  static let tiny = VAEArchitecture(input: 12, encoderHidden: [9, 7], latent: 3, decoderHidden: [6, 8], hiddenActivation: .relu)

  private func temporaryPath(_ name: String) -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ggep-relu-vae-\(UUID().uuidString)")
    try! FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir.appendingPathComponent(name).path
  }

  // MARK: - JSON: softplus unchanged, ReLU recorded

  /// The canonical JSON of a softplus architecture is the exact string it was before the
  /// activation could be chosen (no `hidden_activation` key), and so is the JSON of training
  /// settings: compared with literals and with the bytes stored in the committed model file.
  func testSoftplusArchitectureJSONIsByteIdentical() throws {
    let mnistJSON = #"{"decoder_hidden":[500,500],"encoder_hidden":[500,500],"input":784,"latent":20}"#
    XCTAssertEqual(VAEArchitecture.mnist.json, mnistJSON)
    XCTAssertEqual(
      VAEArchitecture.mnist.activationsJSON,
      #"{"decoder":["softplus","softplus","sigmoid"],"encoder":["softplus","softplus","identity"]}"#)
    XCTAssertEqual(VAEArchitecture.mnist.hiddenActivation, .softplus)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    XCTAssertEqual(
      String(decoding: try encoder.encode(VAETrainingSettings.rowShards(2)), as: UTF8.self),
      #"{"adam_epsilon":1e-08,"architecture":{"decoder_hidden":[500,500],"encoder_hidden":[500,500],"input":784,"latent":20},"batch_size":100,"beta1":0.9,"beta2":0.999,"epochs":20,"gradient_shards":2,"learning_rate":0.001,"seed":0}"#)

    // The committed model file (written before the key existed) reads as softplus, and its
    // architecture and training settings re-encode to the very bytes it stores.
    let file = try HDF5File.open(Self.committedModel)
    defer { try? file.close() }
    let storedArchitecture = try file.root.stringAttribute("architecture")
    XCTAssertEqual(storedArchitecture, mnistJSON)
    let model = try VAEModel.load(from: Self.committedModel)
    XCTAssertEqual(model.architecture, .mnist)
    XCTAssertEqual(model.architecture.json, storedArchitecture)
    XCTAssertEqual(model.architecture.activationsJSON, try file.root.stringAttribute("activations"))
    let settings = try XCTUnwrap(model.training?.settings)
    XCTAssertEqual(String(decoding: try encoder.encode(settings), as: UTF8.self), try file.root.stringAttribute("training_settings"))
    XCTAssertEqual(model.decoderGenerator().layers.map(\.activation), [.softplus, .softplus, .sigmoid])

    // Written out, softplus is the same architecture, re-encoded without the key.
    let explicit = try VAEArchitecture.fromJSON(
      #"{"decoder_hidden":[500,500],"encoder_hidden":[500,500],"hidden_activation":"softplus","input":784,"latent":20}"#)
    XCTAssertEqual(explicit, .mnist)
    XCTAssertEqual(explicit.json, mnistJSON)
  }

  /// A ReLU architecture records its activation in the JSON and reads it back; an unknown
  /// activation is refused, naming it.
  func testReLUArchitectureJSON() throws {
    let json = #"{"decoder_hidden":[128,392],"encoder_hidden":[392,128],"hidden_activation":"relu","input":784,"latent":20}"#
    XCTAssertEqual(VAEArchitecture.mnistReLU.json, json)
    XCTAssertEqual(try VAEArchitecture.fromJSON(json), .mnistReLU)
    XCTAssertNotEqual(VAEArchitecture.mnistReLU, VAEArchitecture(input: 784, encoderHidden: [392, 128], latent: 20, decoderHidden: [128, 392]))
    XCTAssertEqual(
      VAEArchitecture.mnistReLU.activationsJSON, #"{"decoder":["relu","relu","sigmoid"],"encoder":["relu","relu","identity"]}"#)
    XCTAssertEqual(VAEArchitecture.mnistReLU.decoderLayerWidths, [20, 128, 392, 784])
    XCTAssertEqual(
      VAEArchitecture.mnistReLU.tensors.filter { $0.path.hasPrefix("encoder/w") }.map(\.shape),
      [[784, 392], [392, 128], [128, 20], [128, 20]])
    XCTAssertEqual(VAEArchitecture.mnistReLU.parameterCount, 2 * (784 * 392 + 392 * 128) + 392 + 128 + 2 * 128 * 20 + 2 * 20 + 20 * 128 + 128 + 392 + 784)
    XCTAssertThrowsError(
      try VAEArchitecture.fromJSON(#"{"decoder_hidden":[4],"encoder_hidden":[4],"hidden_activation":"swish","input":8,"latent":2}"#)
    ) { error in
      XCTAssertTrue("\(error)".contains("unknown activation \"swish\""), "\(error)")
    }
  }

  // MARK: - Gradient

  /// The ReLU VAE's loss in Double, one image at a time, from the model file's tensors (an
  /// implementation independent of `VAENetwork`'s Float GEMMs), with the smallest |pre-
  /// activation| of any hidden unit over all rows (the distance to a ReLU kink) and how many
  /// hidden pre-activations were positive and negative.
  static func referenceLoss(
    _ t: [String: [Double]], architecture a: VAEArchitecture, x: [Double], epsilon: [Double], rows: Int
  ) -> (loss: Double, kinkMargin: Double, active: Int, inactive: Int) {
    precondition(a.hiddenActivation == .relu)
    func affine(_ h: [Double], _ w: String, _ b: String) -> [Double] {
      let (weights, bias) = (t[w]!, t[b]!)
      var out = bias
      for i in h.indices { for j in out.indices { out[j] += h[i] * weights[i * out.count + j] } }
      return out
    }
    var margin = Double.infinity
    var (active, inactive) = (0, 0)
    func relu(_ pre: [Double]) -> [Double] {
      for v in pre {
        margin = min(margin, Swift.abs(v))
        if v > 0 { active += 1 } else { inactive += 1 }
      }
      return pre.map { max($0, 0) }
    }
    var total = 0.0
    for r in 0..<rows {
      let image = Array(x[(r * a.input)..<((r + 1) * a.input)])
      var h = image
      for i in 1...a.encoderHidden.count { h = relu(affine(h, "encoder/w\(i)", "encoder/b\(i)")) }
      let mu = affine(h, "encoder/w_mu", "encoder/b_mu")
      let logvar = affine(h, "encoder/w_logvar", "encoder/b_logvar")
      var z = mu
      for j in 0..<a.latent {
        z[j] += exp(0.5 * logvar[j]) * epsilon[r * a.latent + j]
        total += 0.5 * (mu[j] * mu[j] + exp(logvar[j]) - 1 - logvar[j])
      }
      var d = z
      let layers = a.decoderHidden.count + 1
      for i in 1..<layers { d = relu(affine(d, "decoder/w\(i)", "decoder/b\(i)")) }
      let logits = affine(d, "decoder/w\(layers)", "decoder/b\(layers)")
      for (l, p) in zip(logits, image) { total += max(l, 0) - p * l + log1p(exp(-Swift.abs(l))) }
    }
    return (total / Double(rows), margin, active, inactive)
  }

  /// The backward pass (Float, GEMMs, ReLU derivative [pre-activation > 0]) against central
  /// differences of the Double reference loss, for every parameter of a tiny ReLU VAE with a
  /// fixed batch and ε. ReLU is not differentiable at 0, so the point is checked to lie away
  /// from every kink: each hidden pre-activation of each row is at least 1e-3 from 0 (asserted
  /// below), while a step of h = 1e-6 in one parameter moves a pre-activation by ~1e-5 at most,
  /// and Float rounding by ~1e-6; no unit changes side, and the loss is smooth there. The point
  /// has units on both sides (asserted), so both branches of the derivative are exercised.
  /// Relative error < 1e-3; gradients below 1e-3 (among them the exact zeros of units that are
  /// off for every row) are compared absolutely.
  func testGradientMatchesFiniteDifferencesAwayFromKinks() {
    let arch = Self.tiny
    let rows = 4
    let net = VAENetwork(architecture: arch, capacity: rows)
    var rng = RandomStream(seed: 43)
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
    XCTAssertEqual((reconstruction + kl) / Double(rows), reference.loss, accuracy: 1e-5 * reference.loss)
    XCTAssertGreaterThan(reference.kinkMargin, 1e-3, "the point is too close to a ReLU kink for a finite-difference check")
    XCTAssertGreaterThan(reference.active, 10)
    XCTAssertGreaterThan(reference.inactive, 10)

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
        XCTAssertGreaterThan(min(plus.kinkMargin, minus.kinkMargin), 1e-3 - 1e-4, "\(t.path)[\(i)] moved a unit onto a kink")
        let numeric = (plus.loss - minus.loss) / (2 * h)
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
    XCTAssertGreaterThan(checked, net.parameterCount / 2)
    print(
      "ReLU gradient check: \(checked) of \(net.parameterCount) parameters compared relatively, kink margin "
        + "\(reference.kinkMargin), \(reference.active) active / \(reference.inactive) inactive units, worst relative error "
        + "\(worst.relative) (\(worst.at))")

    // The same weights with softplus give another loss: the network does use the activation.
    let softplus = VAENetwork(
      architecture: VAEArchitecture(input: 12, encoderHidden: [9, 7], latent: 3, decoderHidden: [6, 8]), capacity: rows)
    softplus.importTensors(net.exportTensors())
    softplus.x.update(from: net.x, count: rows * arch.input)
    softplus.epsilon.update(from: net.epsilon, count: rows * arch.latent)
    let other = softplus.evaluate(rows: rows, gradient: false)
    XCTAssertGreaterThan(Swift.abs((other.reconstruction + other.kl) - (reconstruction + kl)), 1e-2)
  }

  // MARK: - Model file

  /// A trained tiny ReLU VAE survives the model file bit for bit, with its activation recorded;
  /// the file's decoder is a ReLU … sigmoid generator, which the layer-wise inverters accept.
  func testReLUModelFileRoundTrip() throws {
    let images = VAETests.syntheticImages(count: 200, pixels: Self.tiny.input, seed: 4)
    let settings = VAETrainingSettings(architecture: Self.tiny, epochs: 2, seed: 1, batchSize: 50)
    let model = try VAETrainer(settings, threads: 2).train(train: images, test: images).model
    let path = temporaryPath("relu.h5")
    try model.save(to: path)

    let loaded = try VAEModel.load(from: path)
    XCTAssertEqual(loaded.architecture, Self.tiny)
    XCTAssertEqual(loaded.architecture.hiddenActivation, .relu)
    XCTAssertEqual(loaded.checksum, model.checksum)
    XCTAssertEqual(loaded.training, model.training)
    XCTAssertEqual(loaded.training?.settings.architecture.hiddenActivation, .relu)
    for t in Self.tiny.tensors {
      XCTAssertEqual(loaded.tensors[t.path]!.map(\.bitPattern), model.tensors[t.path]!.map(\.bitPattern), t.path)
    }
    let file = try HDF5File.open(path)
    defer { try? file.close() }
    XCTAssertEqual(
      try file.root.stringAttribute("architecture"),
      #"{"decoder_hidden":[6,8],"encoder_hidden":[9,7],"hidden_activation":"relu","input":12,"latent":3}"#)
    XCTAssertEqual(
      try file.root.stringAttribute("activations"), #"{"decoder":["relu","relu","sigmoid"],"encoder":["relu","relu","identity"]}"#)
    XCTAssertTrue(try file.root.stringAttribute("training_settings").contains(#""hidden_activation":"relu""#))

    // The same evaluation before and after the file: the ReLU network is rebuilt from it.
    let before = model.negativeELBO(images: images, seed: 2, batchSize: 50)
    let after = loaded.negativeELBO(images: images, seed: 2, batchSize: 50)
    XCTAssertEqual(after.total.bitPattern, before.total.bitPattern)

    // What a config's generator becomes: the decoder, ReLU hidden layers and a sigmoid output.
    let generator = try ModelFile.load(path).generator
    XCTAssertEqual(generator.layers.map(\.activation), [.relu, .relu, .sigmoid])
    XCTAssertEqual(generator.latentDimension, 3)
    XCTAssertEqual(generator.outputDimension, 12)
    XCTAssertEqual(generator.layers[1].weights, loaded.matrix("decoder/w2"))
    XCTAssertNil(InversionNetwork(generator).unsupportedLayer())
    // The generator's output is the decoder's mean image σ(logits): check one point by hand.
    let z: [Float] = [0.3, -1.2, 0.7]
    var h = z.map(Double.init)
    for (i, activation) in [Activation.relu, .relu, .sigmoid].enumerated() {
      let w = loaded.tensors["decoder/w\(i + 1)"]!, b = loaded.tensors["decoder/b\(i + 1)"]!
      var pre = b.map(Double.init)
      for r in h.indices { for c in pre.indices { pre[c] += h[r] * Double(w[r * pre.count + c]) } }
      h = pre.map { InversionNetwork.apply(activation, $0) }
    }
    let evaluated = generator.evaluate(Matrix(rows: 1, cols: 3, storage: z))
    for j in 0..<12 { XCTAssertEqual(Double(evaluated[0, j]), h[j], accuracy: 1e-6) }
  }

  /// A ReLU VAE file of the paper's shape in configs: `kind: vae-mnist` and `kind: model` make
  /// it a 20 → 784 generator, and an inversion experiment accepts the layer-wise methods on it
  /// (ReLU hidden layers, an invertible sigmoid output: docs/mathematics.md §10), which it refuses on the
  /// softplus VAE (`InversionExperimentTests.testATrainedImageModelGetsImageGrids`).
  func testReLUVAEFileIsAnInvertibleGeneratorInConfigs() throws {
    let net = VAENetwork(architecture: .mnistReLU, capacity: 1)
    var rng = RandomStream(seed: 0, key: "vae", purpose: "init")
    net.initialize(rng: &rng)
    let model = try VAEModel(architecture: .mnistReLU, tensors: net.exportTensors())
    let fixture = try ConfigFixture()
    let path = fixture.directory.appendingPathComponent("relu-vae.h5").path
    try model.save(to: path)

    let header = try ModelHeader.verified(path)
    XCTAssertEqual(header.model, "vae")
    XCTAssertEqual(header.latentDimension, 20)
    XCTAssertEqual(header.outputDimension, 784)
    XCTAssertEqual(header.widths, [20, 128, 392, 784])
    XCTAssertEqual(header.checksum, model.checksum)
    let generator = try ModelFile.load(path).generator
    XCTAssertEqual(generator.layers.map(\.activation), [.relu, .relu, .sigmoid])
    XCTAssertNil(InversionNetwork(generator).unsupportedLayer())

    let cases = [("vae-mnist", "model", ["lp", "oracle", "hybrid"]), ("model", "file", ["latent-pursuit", "layered-bp"])]
    for (kind, key, methods) in cases {
      for method in methods {
        let text = """
          experiment: inversion
          signals: 2
          generator: {kind: \(kind), \(key): \(path)}
          method: {kind: \(method)}

          """
        let plan = try fixture.plan(text, name: "\(kind)-\(method).yaml")
        let spec = try XCTUnwrap(plan.points.first?.kindSpec as? InversionSpec)
        XCTAssertEqual(spec.generator.k, 20, "\(kind), \(method)")
        XCTAssertEqual(spec.generator.n, 784, "\(kind), \(method)")
        XCTAssertEqual(spec.generator.contentChecksum, model.checksum)
      }
    }
  }

  // MARK: - Training

  /// A small ReLU VAE on 400 MNIST test-split images, 2 epochs of mini-batches of 20: the loss
  /// falls well below the untrained network's (≈ 784 ln 2 ≈ 543 nats: logits near 0), and 1 and
  /// 2 worker threads give bitwise the same weights and losses.
  func testShortMNISTTrainingLowersTheLossAndIsThreadIndependent() throws {
    guard let directory = MNISTLocation.directory else {
      throw XCTSkip("MNIST not found in $MNIST_DIR, data/mnist or ../shared/datasets/mnist (run `make data`)")
    }
    let split = try MNIST.load(.test, directory: directory)
    let n = 784
    let train = Matrix(rows: 400, cols: n, storage: Array(split.images.storage[0..<(400 * n)]))
    let held = Matrix(rows: 100, cols: n, storage: Array(split.images.storage[(400 * n)..<(500 * n)]))
    let arch = VAEArchitecture(input: n, encoderHidden: [64, 32], latent: 8, decoderHidden: [32, 64], hiddenActivation: .relu)
    let settings = VAETrainingSettings(architecture: arch, epochs: 2, seed: 3, batchSize: 20, gradientShards: 2, layerPieces: nil)

    // The untrained network: the trainer's initial weights (the seed's "init" stream).
    let initial = VAENetwork(architecture: arch, capacity: 1)
    var rng = RandomStream(seed: settings.seed, key: "vae", purpose: "init")
    initial.initialize(rng: &rng)
    let untrained = try VAEModel(architecture: arch, tensors: initial.exportTensors())
      .negativeELBO(images: held, seed: settings.seed, batchSize: settings.batchSize).total

    let runs = try [1, 2].map { try VAETrainer(settings, threads: $0).train(train: train, test: held) }
    for run in runs {
      XCTAssertEqual(run.model.checksum, runs[0].model.checksum)
      for t in arch.tensors {
        XCTAssertEqual(run.model.tensors[t.path]!.map(\.bitPattern), runs[0].model.tensors[t.path]!.map(\.bitPattern), t.path)
      }
      XCTAssertEqual(run.history.map(\.trainLoss.bitPattern), runs[0].history.map(\.trainLoss.bitPattern))
      XCTAssertEqual(run.history.map(\.testLoss.bitPattern), runs[0].history.map(\.testLoss.bitPattern))
    }
    let history = runs[0].history
    print("short ReLU VAE training: untrained −ELBO \(untrained), epochs \(history.map { ($0.trainLoss, $0.testLoss) })")
    XCTAssertEqual(untrained, 784 * log(2.0), accuracy: 60)
    XCTAssertLessThan(history[1].trainLoss, history[0].trainLoss)
    XCTAssertLessThan(history[1].testLoss, history[0].testLoss)
    XCTAssertLessThan(history[1].testLoss, 0.75 * untrained)
  }

  // MARK: - The committed ReLU model

  /// `models/mnist-relu-vae.h5` (`ggep train-vae --architecture mnist-relu`, 20 epochs, seed 0):
  /// its architecture, its recorded test −ELBO recomputed from the file (to 1e-6 relative, as
  /// for the softplus model: other CPUs round differently), and its decoder as an invertible
  /// 20-128-392-784 generator.
  func testCommittedReLUModel() throws {
    let model = try VAEModel.load(from: Self.committedReLUModel)
    XCTAssertEqual(model.architecture, .mnistReLU)
    let training = try XCTUnwrap(model.training)
    XCTAssertEqual(training.settings.epochs, 20)
    XCTAssertEqual(training.settings.seed, 0)
    XCTAssertEqual(training.settings.gradientShards, 2)
    XCTAssertEqual(training.settings.architecture, .mnistReLU)
    XCTAssertLessThan(training.finalTestLoss, 120)
    let generator = try ModelFile.load(Self.committedReLUModel).generator
    XCTAssertEqual(generator.stack.widths, [20, 128, 392, 784])
    XCTAssertEqual(generator.layers.map(\.activation), [.relu, .relu, .sigmoid])
    XCTAssertNil(InversionNetwork(generator).unsupportedLayer())
    guard let directory = MNISTLocation.directory else { throw XCTSkip("MNIST data not found (run `make data`): test −ELBO not recomputed") }
    let test = try MNIST.load(.test, directory: directory)
    let threads = BLASThreads.current
    BLASThreads.set(VAETrainer.blasThreads)
    defer { BLASThreads.set(threads) }
    let loss = model.negativeELBO(images: test.images, seed: training.settings.seed, batchSize: training.settings.batchSize, threads: 2)
    print("committed ReLU model: test −ELBO \(loss.total) nats (reconstruction \(loss.reconstruction), KL \(loss.kl)); recorded \(training.finalTestLoss)")
    XCTAssertEqual(loss.total, training.finalTestLoss, accuracy: 1e-6 * training.finalTestLoss)
  }

  // MARK: - Command line

  /// `ggep train-vae` refuses a bad `--architecture` or `--out` before loading any data, naming
  /// the option and the value.
  func testTrainVAERefusesBadOptions() throws {
    func run(_ arguments: [String]) throws -> GGEPExecutable.Outcome { try GGEPExecutable.run(arguments) }
    let architecture = try run(["train-vae", "--architecture", "mnist-tanh", "--data", "/nonexistent"])
    XCTAssertNotEqual(architecture.status, 0)
    for part in ["--architecture", "mnist-tanh", "mnist-relu"] {
      XCTAssertTrue(architecture.stderr.contains(part), "'\(architecture.stderr)' does not mention \(part)")
    }
    let out = try run(["train-vae", "--architecture", "mnist-relu", "--out", "models/", "--data", "/nonexistent"])
    XCTAssertNotEqual(out.status, 0)
    XCTAssertTrue(out.stderr.contains("--out must name a file, got 'models/'"), out.stderr)
    let help = try run(["train-vae", "--help"])
    XCTAssertEqual(help.status, 0)
    XCTAssertTrue(help.stdout.contains("--architecture") && help.stdout.contains("mnist-relu"), help.stdout)
  }
}
