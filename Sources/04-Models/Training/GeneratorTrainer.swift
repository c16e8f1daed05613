import Foundation
import GGEPCore
import GGEPPrior

public struct GeneratorTrainingError: UserFacingError {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { message }
}

/// Trains a generator on rows of pixels (docs/mathematics.md §11): a GAN with a loss of the family and a
/// spectrally normalised discriminator, or a kernel generator by log Ĵ (Cauchy–Schwarz) or MMD².
///
/// Each epoch visits a fresh permutation of the training rows (Fisher–Yates from the seed's
/// "shuffle" stream) in ⌊N / batch⌋ batches. One step of a GAN: `discriminatorSteps` times
/// (fresh z, G forward in training mode, D on [real; fake], ascend Ĵ), then a generator step
/// (fresh z, G forward, D forward, descend the generator's loss through D's input pullback). One
/// step of a kernel generator: fresh z, G forward, the criterion's gradient on the samples,
/// backward through G. z comes from the "z" stream, initial weights from the "init" stream.
///
/// Everything runs on the calling thread with OpenBLAS at one thread, each operation of fixed
/// shape and order, so the same settings and data give the same bits for any thread count.
/// A checkpoint (every weight, Adam's moments, the running statistics, the spectral vectors,
/// the random streams' states and the log) is written atomically at the end of every epoch; a
/// run started with the same settings and checkpoint path continues after the last epoch it
/// holds and ends with the same weights as a run never interrupted.
public struct GeneratorTrainer: Sendable {
  public let settings: GeneratorTrainingSettings
  public static let checkpointFormat = "ggep-training-checkpoint/1"
  /// Held-out check: samples and test images compared by MMD² at each epoch's end.
  public static let heldOutRows = 500
  public static let heldOutBandwidths: [Float] = [2, 5, 10, 20, 40]

  public init(_ settings: GeneratorTrainingSettings) throws {
    if let problem = settings.problem { throw GeneratorTrainingError("bad training settings: \(problem)") }
    self.settings = settings
  }

  public struct Progress: Sendable {
    public var log: GeneratorTrainingLog
    /// Seconds left at the pace so far.
    public var eta: Double
    public var resumed: Bool
  }

  public struct Result: Sendable {
    public var layers: [DenseLayer]
    public var history: [GeneratorTrainingLog]
    /// Epochs run by this call (fewer than `settings.epochs` after a resume).
    public var epochsRun: Int
  }

  /// Trains on `train` (rows of `widths.last` pixels), checks against `test` after each epoch.
  /// `stopAfter`: return after that many epochs of this call (a simulated kill, for tests).
  public func train(
    train: Matrix<Float>, test: Matrix<Float>, checkpoint: String?, stopAfter: Int? = nil, progress: ((Progress) -> Void)? = nil
  ) throws -> Result {
    let s = settings
    let n = s.widths.last!
    guard train.cols == n, test.cols == n else { throw GeneratorTrainingError("images have \(train.cols) values, the generator makes \(n)") }
    guard train.rows >= s.batchSize else { throw GeneratorTrainingError("\(train.rows) training images are fewer than one batch of \(s.batchSize)") }
    guard test.rows >= Self.heldOutRows else { throw GeneratorTrainingError("the held-out check needs \(Self.heldOutRows) test images, got \(test.rows)") }
    let previousThreads = BLASThreads.current
    BLASThreads.set(1)
    defer { BLASThreads.set(previousThreads) }

    var state = try TrainingState(settings: s)
    var firstEpoch = 1
    if let checkpoint, FileManager.default.fileExists(atPath: checkpoint) {
      firstEpoch = try state.restore(from: checkpoint) + 1
    }
    let heldOutZ = Self.heldOutLatents(s)
    let heldOutImages = Matrix(rows: Self.heldOutRows, cols: n, storage: Array(test.storage[0..<(Self.heldOutRows * n)]))
    let clock = ContinuousClock()
    var epochsRun = 0
    var epoch = firstEpoch
    while epoch <= s.epochs {
      if let stopAfter, epochsRun >= stopAfter { break }
      let start = clock.now
      let (criterion, generatorLoss) = try state.runEpoch(train, epoch: epoch)
      let samples = FeedForwardGenerator(layers: state.generator.folded(state.generatorParameters), summary: "").evaluate(heldOutZ)
      let heldOut = KernelCriteria(bandwidths: Self.heldOutBandwidths).mmd2(data: heldOutImages, generated: samples).value
      let elapsed = clock.now - start
      let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
      let log = GeneratorTrainingLog(epoch: epoch, criterion: criterion, generatorLoss: generatorLoss, heldOutMMD: heldOut, seconds: seconds)
      state.history.append(log)
      epochsRun += 1
      if let checkpoint { try state.save(to: checkpoint, epoch: epoch) }
      progress?(Progress(log: log, eta: seconds * Double(s.epochs - epoch), resumed: firstEpoch > 1))
      epoch += 1
    }
    return Result(layers: state.generator.folded(state.generatorParameters), history: state.history, epochsRun: epochsRun)
  }

  /// The fixed latents of the held-out check (the "held-out" stream of the seed).
  static func heldOutLatents(_ s: GeneratorTrainingSettings) -> Matrix<Float> {
    var rng = RandomStream(seed: s.seed, key: "generator", purpose: "held-out")
    let k = s.widths[0]
    return Matrix(rows: heldOutRows, cols: k, storage: (0..<(heldOutRows * k)).map { _ in Float(rng.normal()) })
  }
}

/// Everything a training run carries from step to step (and a checkpoint holds).
struct TrainingState {
  let settings: GeneratorTrainingSettings
  var generator: TrainableGenerator
  var generatorParameters: [Float]
  let generatorAdam: Adam
  var discriminator: SpectralDiscriminator?
  var discriminatorParameters: [Float]
  let discriminatorAdam: Adam?
  var shuffle: RandomStream
  var noise: RandomStream
  var order: [Int] = []
  var history: [GeneratorTrainingLog] = []

  init(settings s: GeneratorTrainingSettings) throws {
    settings = s
    var initRNG = RandomStream(seed: s.seed, key: "generator", purpose: "init")
    generator = TrainableGenerator(
      widths: s.widths, hiddenActivation: Activation(name: s.hiddenActivation)!, outputActivation: Activation(name: s.outputActivation)!,
      batchNorm: s.batchNorm)
    generatorParameters = [Float](repeating: 0, count: generator.parameterCount)
    generator.initialize(&generatorParameters, rng: &initRNG)
    generatorAdam = Adam(count: generator.parameterCount, learningRate: Float(s.learningRate), beta1: Float(s.beta1), beta2: Float(s.beta2))
    if s.kind == .gan {
      let d = SpectralDiscriminator(widths: s.discriminatorWidths, rng: &initRNG)
      discriminatorParameters = [Float](repeating: 0, count: d.parameterCount)
      d.initialize(&discriminatorParameters, rng: &initRNG)
      discriminator = d
      discriminatorAdam = Adam(count: d.parameterCount, learningRate: Float(s.discriminatorLearningRate), beta1: Float(s.beta1), beta2: Float(s.beta2))
    } else {
      discriminator = nil
      discriminatorParameters = []
      discriminatorAdam = nil
    }
    shuffle = RandomStream(seed: s.seed, key: "generator", purpose: "shuffle")
    noise = RandomStream(seed: s.seed, key: "generator", purpose: "z")
  }

  /// One pass over the data: the mean criterion and generator loss over its steps.
  mutating func runEpoch(_ train: Matrix<Float>, epoch: Int) throws -> (Double, Double?) {
    let s = settings
    let (n, k, batch) = (s.widths.last!, s.widths[0], s.batchSize)
    // From the identity each epoch, so the order depends only on the stream's state (which a
    // checkpoint holds), not on the previous epoch's order.
    order = Array(0..<train.rows)
    for i in stride(from: order.count - 1, to: 0, by: -1) { order.swapAt(i, shuffle.integer(below: i + 1)) }
    let steps = train.rows / batch
    let gws = generator.makeWorkspace(rows: batch)
    var z = [Float](repeating: 0, count: batch * k)
    var real = [Float](repeating: 0, count: batch * n)
    var sampleGradient = [Float](repeating: 0, count: batch * n)
    var generatorGradient = [Float](repeating: 0, count: generator.parameterCount)
    var criterionSum = 0.0, lossSum = 0.0

    // GAN buffers: D reads [real; fake] (2·batch rows) in its step, fake (batch rows) in G's.
    let d = discriminator
    let dRows = 2 * batch
    let dBuffers = d.map { d in AlignedFloats(d.stack.layers.map { dRows * $0.fanOut } + [dRows * n, 2 * dRows * (d.stack.widths.max()!), dRows]) }
    var normalized = [Float](repeating: 0, count: discriminatorParameters.count)
    var normalizedGradient = normalized, rawGradient = normalized
    let ones = [Float](repeating: 1, count: dRows)
    // Views into dBuffers, made once: each layer's outputs, the input rows, the output gradient.
    let dLayers = d?.stack.layers.count ?? 0
    let outputs = dBuffers.map { Array($0.buffers[0..<dLayers]) } ?? []
    let outputsRead = outputs.map { UnsafePointer($0) }
    let kernel = s.kind == .kernel ? KernelCriteria(bandwidths: s.bandwidths.map(Float.init)) : nil
    let kernelWorkspace = kernel?.makeWorkspace(dataRows: batch, generatedRows: batch, dimension: n)

    for step in 0..<steps {
      train.storage.withUnsafeBufferPointer { pixels in
        for r in 0..<batch {
          let source = order[step * batch + r]
          for j in 0..<n { real[r * n + j] = pixels[source * n + j] }
        }
      }
      func drawGenerated() {
        for i in z.indices { z[i] = Float(noise.normal()) }
        generatorParameters.withUnsafeBufferPointer { p in
          z.withUnsafeBufferPointer { generator.forward(parameters: p.baseAddress!, z: $0.baseAddress!, workspace: gws, updateStatistics: true) }
        }
      }
      func generatorStep() {
        generatorParameters.withUnsafeBufferPointer { p in
          z.withUnsafeBufferPointer { zp in
            sampleGradient.withUnsafeBufferPointer { g in
              generatorGradient.withUnsafeMutableBufferPointer {
                generator.backward(parameters: p.baseAddress!, z: zp.baseAddress!, outputGradient: g.baseAddress!, workspace: gws, gradient: $0.baseAddress!)
              }
            }
          }
        }
        generatorAdam.step(&generatorParameters, gradient: generatorGradient)
      }

      if let kernel, let kernelWorkspace {
        drawGenerated()
        let value: Double = real.withUnsafeBufferPointer { x in
          sampleGradient.withUnsafeMutableBufferPointer { g in
            switch s.criterion {
            case .cauchySchwarz:
              let v = kernel.cauchySchwarz(data: x.baseAddress!, generated: gws.samples, workspace: kernelWorkspace, gradient: g.baseAddress!, of: .logRatio)
              // Ascend log Ĵ: descend its negative.
              for i in 0..<g.count { g[i] = -g[i] }
              return v.logRatio
            case .mmd:
              return kernel.mmd2(data: x.baseAddress!, generated: gws.samples, workspace: kernelWorkspace, gradient: g.baseAddress!)
            }
          }
        }
        guard value.isFinite else { throw GeneratorTrainingError("training diverged: criterion \(value) at epoch \(epoch), step \(step + 1)") }
        criterionSum += value
        generatorStep()
        continue
      }

      // GAN: discriminator steps, then one generator step.
      guard var disc = discriminator, let dBuffers, let dAdam = discriminatorAdam else { preconditionFailure("a GAN without a discriminator") }
      let layers = dLayers
      let input = dBuffers.buffers[layers], scratchBase = dBuffers.buffers[layers + 1], delta = dBuffers.buffers[layers + 2]
      let widest = disc.stack.widths.max()!
      let scratch = (scratchBase, scratchBase + dRows * widest)
      var objective = 0.0
      for _ in 0..<s.discriminatorSteps {
        drawGenerated()
        real.withUnsafeBufferPointer { input.update(from: $0.baseAddress!, count: batch * n) }
        (input + batch * n).update(from: gws.samples, count: batch * n)
        discriminatorParameters.withUnsafeBufferPointer { p in
          normalized.withUnsafeMutableBufferPointer { disc.normalize(p.baseAddress!, into: $0.baseAddress!) }
        }
        normalized.withUnsafeBufferPointer { w in
          disc.stack.forward(parameters: w.baseAddress!, input: input, rows: dRows, outputs: outputs)
          let t = outputs[layers - 1]
          objective = s.loss.discriminatorObjective(real: t, count: batch, fake: t + batch, count: batch, realGradient: delta, fakeGradient: delta + batch, scale: -1)
          ones.withUnsafeBufferPointer { o in
            normalizedGradient.withUnsafeMutableBufferPointer { g in
              disc.stack.backward(
                parameters: w.baseAddress!, input: input, outputs: outputsRead, derivatives: nil, delta: delta, rows: dRows,
                gradient: g.baseAddress!, ones: o.baseAddress!, inputGradient: nil, scratch: scratch)
            }
          }
          normalizedGradient.withUnsafeBufferPointer { g in
            rawGradient.withUnsafeMutableBufferPointer { disc.rawGradient(g.baseAddress!, normalized: w.baseAddress!, into: $0.baseAddress!) }
          }
        }
        dAdam.step(&discriminatorParameters, gradient: rawGradient)
      }
      drawGenerated()
      discriminatorParameters.withUnsafeBufferPointer { p in
        normalized.withUnsafeMutableBufferPointer { disc.normalize(p.baseAddress!, into: $0.baseAddress!) }
      }
      let loss: Double = normalized.withUnsafeBufferPointer { w in
        disc.stack.forward(parameters: w.baseAddress!, input: gws.samples, rows: batch, outputs: outputs)
        let loss = s.loss.generatorLoss(fake: outputs[layers - 1], count: batch, gradient: delta, nonSaturating: s.nonSaturating)
        sampleGradient.withUnsafeMutableBufferPointer {
          disc.stack.pullback(
            parameters: w.baseAddress!, gradient: delta, outputs: outputsRead, rows: batch, into: $0.baseAddress!, scratch: scratch)
        }
        return loss
      }
      discriminator = disc
      guard objective.isFinite, loss.isFinite else {
        throw GeneratorTrainingError("training diverged: discriminator objective \(objective), generator loss \(loss) at epoch \(epoch), step \(step + 1)")
      }
      criterionSum += objective
      lossSum += loss
      generatorStep()
    }
    return (criterionSum / Double(steps), s.kind == .gan ? lossSum / Double(steps) : nil)
  }
}
