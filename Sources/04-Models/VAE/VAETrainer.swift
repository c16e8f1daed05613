import Foundation
import GGEPCore
import GGEPPrior

/// How a VAE is trained (docs/mathematics.md §3): Adam (lr 1e-3, β 0.9/0.999, ε 1e-8) on mini-batches of 100,
/// Xavier-uniform initial weights, all randomness from `RandomStream`s derived from `seed`.
///
/// Each mini-batch's gradient is computed in `gradientShards` fixed shards of consecutive rows
/// (shard s holds rows ⌊s·B/S⌋ ..< ⌊(s+1)·B/S⌋ of the mini-batch) and the shard gradients are
/// added in shard order before the Adam step. The shard count is part of the result (it decides
/// the order of the floating-point sums), so it is a setting and recorded in the model file; how
/// many threads run the shards is not (see `VAETrainer`).
public struct VAETrainingSettings: Codable, Equatable, Sendable {
  public var architecture: VAEArchitecture = .mnist
  public var epochs: Int = 20
  public var seed: UInt64 = 0
  public var learningRate: Double = 1e-3
  public var batchSize: Int = 100
  public var beta1: Double = 0.9
  public var beta2: Double = 0.999
  public var adamEpsilon: Double = 1e-8
  /// Gradient shards per mini-batch (1 ≤ shards ≤ batch size). The default 2 lets two cores
  /// share a step; 1 is the whole mini-batch in one pass (how models trained before shards
  /// existed were computed).
  public var gradientShards: Int = 1
  /// Layer pieces (`VAEPieceStep`), or nil for the row-shard schedule. With pieces, the whole
  /// mini-batch goes through every GEMM (`gradientShards` must be 1) and each layer's columns
  /// and weight rows are cut into this many fixed pieces that the workers share. Like the shard
  /// count it decides the arithmetic, so it is a setting and recorded; the thread count is not.
  public var layerPieces: Int? = 4

  /// The default is the faster schedule, 4 layer pieces. The committed VAEs were trained with
  /// `gradientShards: 2, layerPieces: nil` (what `make model` passes to reproduce them).
  public init(
    architecture: VAEArchitecture = .mnist, epochs: Int = 20, seed: UInt64 = 0, learningRate: Double = 1e-3,
    batchSize: Int = 100, gradientShards: Int = 1, layerPieces: Int? = 4
  ) {
    self.architecture = architecture
    self.epochs = epochs
    self.seed = seed
    self.learningRate = learningRate
    self.batchSize = batchSize
    self.gradientShards = gradientShards
    self.layerPieces = layerPieces
  }

  /// The row-shard schedule with `shards` shards (how the committed VAEs were trained).
  public static func rowShards(_ shards: Int, architecture: VAEArchitecture = .mnist, epochs: Int = 20, seed: UInt64 = 0) -> Self {
    VAETrainingSettings(architecture: architecture, epochs: epochs, seed: seed, gradientShards: shards, layerPieces: nil)
  }

  /// How a mini-batch's work is cut, in words (for logs).
  public var scheduleDescription: String {
    if let layerPieces { return "whole batch per GEMM, each layer in \(layerPieces) piece\(layerPieces == 1 ? "" : "s")" }
    return "\(gradientShards) gradient shard\(gradientShards == 1 ? "" : "s")"
  }

  /// Why these settings cannot train, or nil.
  public var scheduleProblem: String? {
    guard gradientShards >= 1, gradientShards <= batchSize else {
      return "gradient shards must be between 1 and the batch size \(batchSize), not \(gradientShards)"
    }
    if let layerPieces {
      guard layerPieces >= 1, layerPieces <= 64 else { return "layer pieces must be between 1 and 64, not \(layerPieces)" }
      guard gradientShards == 1 else {
        return "layer pieces (\(layerPieces)) keep the whole mini-batch in each GEMM, so gradient shards must be 1, not \(gradientShards)"
      }
    }
    return nil
  }

  enum CodingKeys: String, CodingKey {
    case architecture, epochs, seed
    case learningRate = "learning_rate"
    case batchSize = "batch_size"
    case beta1, beta2
    case adamEpsilon = "adam_epsilon"
    case gradientShards = "gradient_shards"
    case layerPieces = "layer_pieces"
  }

  /// Settings written before `gradient_shards` existed decode with 1 shard (the whole mini-batch
  /// in one pass, which is how those models were trained); their `blas_threads` key is ignored.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    architecture = try c.decode(VAEArchitecture.self, forKey: .architecture)
    epochs = try c.decode(Int.self, forKey: .epochs)
    seed = try c.decode(UInt64.self, forKey: .seed)
    learningRate = try c.decode(Double.self, forKey: .learningRate)
    batchSize = try c.decode(Int.self, forKey: .batchSize)
    beta1 = try c.decode(Double.self, forKey: .beta1)
    beta2 = try c.decode(Double.self, forKey: .beta2)
    adamEpsilon = try c.decode(Double.self, forKey: .adamEpsilon)
    gradientShards = try c.decodeIfPresent(Int.self, forKey: .gradientShards) ?? 1
    // Settings written before layer pieces existed used the row-shard schedule.
    layerPieces = try c.decodeIfPresent(Int.self, forKey: .layerPieces)
  }

  /// `layer_pieces` is written only when set, so row-shard settings encode to the bytes they
  /// had before it existed.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(architecture, forKey: .architecture)
    try c.encode(epochs, forKey: .epochs)
    try c.encode(seed, forKey: .seed)
    try c.encode(learningRate, forKey: .learningRate)
    try c.encode(batchSize, forKey: .batchSize)
    try c.encode(beta1, forKey: .beta1)
    try c.encode(beta2, forKey: .beta2)
    try c.encode(adamEpsilon, forKey: .adamEpsilon)
    try c.encode(gradientShards, forKey: .gradientShards)
    try c.encodeIfPresent(layerPieces, forKey: .layerPieces)
  }

  /// The rows of the mini-batch that gradient shard `shard` holds.
  public func shardRows(_ shard: Int) -> Range<Int> {
    (shard * batchSize / gradientShards)..<((shard + 1) * batchSize / gradientShards)
  }
}

/// One epoch of training.
public struct VAEEpochStats: Codable, Equatable, Sendable {
  public var epoch: Int
  /// Mean mini-batch loss (negative ELBO, nats per image) over the epoch, as the weights moved.
  public var trainLoss: Double
  /// Negative ELBO of the test set at the end of the epoch (`VAEModel.negativeELBO`), or NaN
  /// when there is no test set.
  public var testLoss: Double
  /// Wall-clock seconds of the epoch: training and test evaluation.
  public var seconds: Double

  enum CodingKeys: String, CodingKey {
    case epoch
    case trainLoss = "train_loss"
    case testLoss = "test_loss"
    case seconds
  }
}

/// What a model file records about the run that produced it.
public struct VAETrainingRecord: Codable, Equatable, Sendable {
  public var settings: VAETrainingSettings
  public var trainImages: Int
  public var testImages: Int
  public var history: [VAEEpochStats]
  /// Worker threads that ran the gradient shards and the test evaluation (OpenBLAS at one
  /// thread each). It changes the seconds, not the weights.
  public var threads: Int
  /// Loss of the last epoch (mean over its mini-batches).
  public var finalTrainLoss: Double { history.last?.trainLoss ?? .nan }
  /// Test negative ELBO after the last epoch.
  public var finalTestLoss: Double { history.last?.testLoss ?? .nan }
  public var totalSeconds: Double { history.reduce(0) { $0 + $1.seconds } }
  /// How the test loss is estimated.
  public static let testLossEstimator =
    "negative ELBO, nats per image: closed-form KL plus a single-sample estimate of the Bernoulli reconstruction term (evaluation noise stream of the seed)"

  public init(settings: VAETrainingSettings, trainImages: Int, testImages: Int, history: [VAEEpochStats], threads: Int = 1) {
    self.settings = settings
    self.trainImages = trainImages
    self.testImages = testImages
    self.history = history
    self.threads = threads
  }
}

public struct VAETrainingError: UserFacingError {
  public let message: String
  public var description: String { message }
  public var errorDescription: String? { message }
}

/// Trains a VAE on rows of pixels in [0, 1], data-parallel and deterministic.
///
///     let result = try VAETrainer(VAETrainingSettings(), threads: 2).train(train: mnist.train.images, test: mnist.test.images) {
///       print($0.epoch, $0.trainLoss, $0.testLoss, $0.seconds)
///     }
///     try result.model.save(to: "models/mnist-vae.h5")
///
/// Each epoch visits a fresh permutation of the training rows (Fisher–Yates from the seed's
/// "shuffle" stream) in ⌊N / batch⌋ full mini-batches (the N mod batch rows left over sit out
/// that epoch); ε of the reparameterisation comes from the "epsilon" stream, drawn row by row in
/// mini-batch order on the calling thread, the initial weights from the "init" stream.
///
/// A step: the mini-batch is cut into `settings.gradientShards` fixed shards, each with its own
/// preallocated workspace and gradient buffer; up to `threads` workers (Dispatch, OpenBLAS pinned
/// to one thread for the whole run, since its thread count is process-global) gather their
/// shards' rows and run forward and backward, each shard's gradient scaled by 1/batch so that
/// together they are the gradient of the mini-batch mean; then the shard gradients are added in
/// shard order inside the Adam kernel (itself split across the workers, elementwise). The test
/// set is evaluated after each epoch in fixed chunks of `batchSize` rows, chunk sums added in
/// chunk order. Which thread runs what never enters the arithmetic, so the same settings and
/// data give bitwise the same weights and losses on this machine for any `threads`.
public struct VAETrainer: Sendable {
  public let settings: VAETrainingSettings
  /// Worker threads (≥ 1): speed only, never the result.
  public let threads: Int

  /// OpenBLAS threads during training: always one (the workers are the parallelism).
  public static let blasThreads = 1

  public init(_ settings: VAETrainingSettings = VAETrainingSettings(), threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
    self.settings = settings
    self.threads = max(1, threads)
  }

  public struct Result: Sendable {
    public var model: VAEModel
    public var history: [VAEEpochStats]
  }

  /// Trains for `settings.epochs` epochs. With `checkpoint`, the run's state is written there
  /// atomically after every epoch (`VAECheckpoint`), and a run that finds one there resumes after
  /// its last epoch, ending with bitwise the weights of an uninterrupted run. `stopAfter`: return
  /// after that many epochs of this call (a simulated kill, for tests); the result's history is
  /// then shorter than `settings.epochs` and its model holds the weights so far.
  public func train(
    train: Matrix<Float>, test: Matrix<Float>? = nil, checkpoint: String? = nil, stopAfter: Int? = nil,
    progress: ((VAEEpochStats) -> Void)? = nil
  ) throws -> Result {
    let s = settings
    let a = s.architecture
    if let problem = a.problem { throw VAETrainingError(message: "bad architecture: \(problem)") }
    guard s.epochs >= 1, s.batchSize >= 1, s.learningRate > 0 else {
      throw VAETrainingError(message: "epochs, batch size and learning rate must be positive")
    }
    if let problem = s.scheduleProblem { throw VAETrainingError(message: problem) }
    guard train.cols == a.input, test.map({ $0.cols == a.input }) ?? true else {
      throw VAETrainingError(message: "images have \(train.cols) values, the architecture expects \(a.input)")
    }
    guard train.rows >= s.batchSize else {
      throw VAETrainingError(message: "\(train.rows) training images are fewer than one mini-batch of \(s.batchSize)")
    }

    let previousThreads = BLASThreads.current
    BLASThreads.set(Self.blasThreads)
    defer { BLASThreads.set(previousThreads) }

    let shards = s.gradientShards
    // One workspace per shard (and per evaluation worker), each big enough for an evaluation
    // chunk of a whole mini-batch.
    let network = VAENetwork(architecture: a, capacity: s.batchSize, workspaces: max(shards, threads))
    let pieceStep = s.layerPieces.map { VAEPieceStep(network: network, rows: s.batchSize, pieces: $0) }
    var initRNG = RandomStream(seed: s.seed, key: "vae", purpose: "init")
    network.initialize(rng: &initRNG)
    var shuffleRNG = RandomStream(seed: s.seed, key: "vae", purpose: "shuffle")
    var noiseRNG = RandomStream(seed: s.seed, key: "vae", purpose: "epsilon")

    let (n, k, batch) = (a.input, a.latent, s.batchSize)
    let steps = train.rows / batch
    let shardRows = (0..<shards).map { s.shardRows($0) }
    let workers = min(threads, shards)
    let scale = 1 / Float(batch)
    var order = Array(0..<train.rows)
    // Per-shard sums (reconstruction, KL) of the current step, written by the shard's worker.
    var shardLosses = [Double](repeating: 0, count: 2 * shards)
    var history: [VAEEpochStats] = []
    var firstEpoch = 1
    if let checkpoint, FileManager.default.fileExists(atPath: checkpoint) {
      let saved = try VAECheckpoint.load(from: checkpoint, settings: s, trainImages: train.rows, parameterCount: network.parameterCount)
      network.parameters.update(from: saved.parameters, count: network.parameterCount)
      network.optimizer(learningRate: s.learningRate, beta1: s.beta1, beta2: s.beta2, epsilon: s.adamEpsilon)
        .restore(m: saved.adam.m, v: saved.adam.v, steps: saved.adam.steps)
      (history, order, shuffleRNG, noiseRNG) = (saved.history, saved.order, saved.shuffle, saved.noise)
      firstEpoch = saved.epoch + 1
    }
    // The one optimiser (made here, or restored from the checkpoint above).
    let adam = network.optimizer(learningRate: s.learningRate, beta1: s.beta1, beta2: s.beta2, epsilon: s.adamEpsilon)
    let clock = ContinuousClock()

    for epoch in stride(from: firstEpoch, through: s.epochs, by: 1) {
      if let stopAfter, epoch - firstEpoch >= stopAfter { break }
      let start = clock.now
      for i in stride(from: order.count - 1, to: 0, by: -1) {
        order.swapAt(i, shuffleRNG.integer(below: i + 1))
      }
      var lossSum: Double = 0
      try train.storage.withUnsafeBufferPointer { pixels in
        try order.withUnsafeBufferPointer { order in
          try shardLosses.withUnsafeMutableBufferPointer { losses in
            // Worker w runs shards w, w + workers, …; each shard writes only its own workspace
            // and its own two loss slots, and all of them only read the parameters.
            let shared = UnsafeSendable((network, pixels.baseAddress!, order.baseAddress!, losses.baseAddress!, shardRows))
            for step in 0..<steps {
              if let pieceStep {
                // The layer-piece schedule: the whole mini-batch in workspace 0, in mini-batch order.
                let (network, pixels, order, _, _) = shared.value
                let workspace = network.workspaces[0]
                for i in 0..<(batch * k) { workspace.epsilon[i] = Float(noiseRNG.normal()) }
                for row in 0..<batch {
                  (workspace.x + row * n).update(from: pixels + order[step * batch + row] * n, count: n)
                }
                let part = pieceStep.run(adam: adam, threads: threads)
                let loss = (part.reconstruction + part.kl) / Double(batch)
                guard loss.isFinite else {
                  throw VAETrainingError(message: "training diverged: loss \(loss) at epoch \(epoch), mini-batch \(step + 1)")
                }
                lossSum += loss
                continue
              }
              for (shard, rows) in shardRows.enumerated() {
                let epsilon = network.workspaces[shard].epsilon
                for i in 0..<(rows.count * k) { epsilon[i] = Float(noiseRNG.normal()) }
              }
              // (With one worker, concurrentPerform runs the body on this thread.)
              DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let (network, pixels, order, losses, shardRows) = shared.value
                var shard = worker
                while shard < shards {
                  let workspace = network.workspaces[shard]
                  let rows = shardRows[shard]
                  let first = step * batch + rows.lowerBound
                  for row in 0..<rows.count {
                    (workspace.x + row * n).update(from: pixels + order[first + row] * n, count: n)
                  }
                  let part = network.evaluate(workspace, rows: rows.count, gradient: true, scale: scale)
                  losses[2 * shard] = part.reconstruction
                  losses[2 * shard + 1] = part.kl
                  shard += workers
                }
              }
              var reconstruction: Double = 0
              var kl: Double = 0
              for shard in 0..<shards {
                reconstruction += losses[2 * shard]
                kl += losses[2 * shard + 1]
              }
              let loss = (reconstruction + kl) / Double(batch)
              guard loss.isFinite else {
                throw VAETrainingError(message: "training diverged: loss \(loss) at epoch \(epoch), mini-batch \(step + 1)")
              }
              lossSum += loss
              network.adamStep(
                learningRate: s.learningRate, beta1: s.beta1, beta2: s.beta2, epsilon: s.adamEpsilon, shards: shards,
                threads: threads)
            }
          }
        }
      }
      let testLoss = test.map { network.meanLoss(images: $0, seed: s.seed, threads: threads).total } ?? .nan
      let elapsed = clock.now - start
      let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
      let stats = VAEEpochStats(epoch: epoch, trainLoss: lossSum / Double(steps), testLoss: testLoss, seconds: seconds)
      history.append(stats)
      if let checkpoint {
        try VAECheckpoint(
          epoch: epoch, history: history, parameters: Array(UnsafeBufferPointer(start: network.parameters, count: network.parameterCount)),
          adam: adam.state, order: order, shuffle: shuffleRNG, noise: noiseRNG
        ).save(to: checkpoint, settings: s, trainImages: train.rows)
      }
      progress?(stats)
    }

    let record = VAETrainingRecord(
      settings: s, trainImages: train.rows, testImages: test?.rows ?? 0, history: history, threads: threads)
    let model = try VAEModel(architecture: a, tensors: network.exportTensors(), training: record)
    return Result(model: model, history: history)
  }
}
