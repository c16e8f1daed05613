import Foundation

/// How a VAE is trained (SPEC 3): Adam (lr 1e-3, β 0.9/0.999, ε 1e-8) on mini-batches of 100,
/// Xavier-uniform initial weights, all randomness from `RandomStream`s derived from `seed`.
public struct VAETrainingSettings: Codable, Equatable, Sendable {
  public var architecture: VAEArchitecture = .mnist
  public var epochs: Int = 20
  public var seed: UInt64 = 0
  public var learningRate: Double = 1e-3
  public var batchSize: Int = 100
  public var beta1: Double = 0.9
  public var beta2: Double = 0.999
  public var adamEpsilon: Double = 1e-8
  /// OpenBLAS threads during training. Results are bitwise reproducible for a fixed count; the
  /// default 1 is the count the committed model was trained with.
  public var blasThreads: Int = 1

  public init(
    architecture: VAEArchitecture = .mnist, epochs: Int = 20, seed: UInt64 = 0, learningRate: Double = 1e-3,
    batchSize: Int = 100, blasThreads: Int = 1
  ) {
    self.architecture = architecture
    self.epochs = epochs
    self.seed = seed
    self.learningRate = learningRate
    self.batchSize = batchSize
    self.blasThreads = blasThreads
  }

  enum CodingKeys: String, CodingKey {
    case architecture, epochs, seed
    case learningRate = "learning_rate"
    case batchSize = "batch_size"
    case beta1, beta2
    case adamEpsilon = "adam_epsilon"
    case blasThreads = "blas_threads"
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
  /// Loss of the last epoch (mean over its mini-batches).
  public var finalTrainLoss: Double { history.last?.trainLoss ?? .nan }
  /// Test negative ELBO after the last epoch.
  public var finalTestLoss: Double { history.last?.testLoss ?? .nan }
  public var totalSeconds: Double { history.reduce(0) { $0 + $1.seconds } }
  /// How the test loss is estimated.
  public static let testLossEstimator =
    "negative ELBO, nats per image: closed-form KL plus a single-sample estimate of the Bernoulli reconstruction term (evaluation noise stream of the seed)"

  public init(settings: VAETrainingSettings, trainImages: Int, testImages: Int, history: [VAEEpochStats]) {
    self.settings = settings
    self.trainImages = trainImages
    self.testImages = testImages
    self.history = history
  }
}

public struct VAETrainingError: Error, CustomStringConvertible, LocalizedError {
  public let message: String
  public var description: String { message }
  public var errorDescription: String? { message }
}

/// Trains a VAE on rows of pixels in [0, 1].
///
///     let result = try VAETrainer(VAETrainingSettings()).train(train: mnist.train.images, test: mnist.test.images) {
///       print($0.epoch, $0.trainLoss, $0.testLoss, $0.seconds)
///     }
///     try result.model.save(to: "models/mnist-vae.h5")
///
/// Each epoch visits a fresh permutation of the training rows (Fisher–Yates from the seed's
/// "shuffle" stream) in ⌊N / batch⌋ full mini-batches (the N mod batch rows left over sit out
/// that epoch); ε of the reparameterisation comes from the "epsilon" stream, the initial
/// weights from the "init" stream. Same settings and data ⇒ bitwise the same weights (for a
/// fixed BLAS thread count on one machine).
public struct VAETrainer: Sendable {
  public let settings: VAETrainingSettings

  public init(_ settings: VAETrainingSettings = VAETrainingSettings()) {
    self.settings = settings
  }

  public struct Result: Sendable {
    public var model: VAEModel
    public var history: [VAEEpochStats]
  }

  public func train(
    train: Matrix<Float>, test: Matrix<Float>? = nil, progress: ((VAEEpochStats) -> Void)? = nil
  ) throws -> Result {
    let s = settings
    let a = s.architecture
    if let problem = a.problem { throw VAETrainingError(message: "bad architecture: \(problem)") }
    guard s.epochs >= 1, s.batchSize >= 1, s.learningRate > 0 else {
      throw VAETrainingError(message: "epochs, batch size and learning rate must be positive")
    }
    guard train.cols == a.input, test.map({ $0.cols == a.input }) ?? true else {
      throw VAETrainingError(message: "images have \(train.cols) values, the architecture expects \(a.input)")
    }
    guard train.rows >= s.batchSize else {
      throw VAETrainingError(message: "\(train.rows) training images are fewer than one mini-batch of \(s.batchSize)")
    }

    let previousThreads = BLASThreads.current
    BLASThreads.set(s.blasThreads)
    defer { BLASThreads.set(previousThreads) }

    let network = VAENetwork(architecture: a, capacity: s.batchSize)
    var initRNG = RandomStream(seed: s.seed, key: "vae", purpose: "init")
    network.initialize(rng: &initRNG)
    var shuffleRNG = RandomStream(seed: s.seed, key: "vae", purpose: "shuffle")
    var noiseRNG = RandomStream(seed: s.seed, key: "vae", purpose: "epsilon")

    let (n, k, batch) = (a.input, a.latent, s.batchSize)
    let steps = train.rows / batch
    var order = Array(0..<train.rows)
    var history: [VAEEpochStats] = []
    let clock = ContinuousClock()

    for epoch in 1...s.epochs {
      let start = clock.now
      for i in stride(from: order.count - 1, to: 0, by: -1) {
        order.swapAt(i, shuffleRNG.integer(below: i + 1))
      }
      var lossSum: Double = 0
      try train.storage.withUnsafeBufferPointer { pixels in
        let source = pixels.baseAddress!
        for step in 0..<steps {
          for row in 0..<batch {
            (network.x + row * n).update(from: source + order[step * batch + row] * n, count: n)
          }
          for i in 0..<(batch * k) { network.epsilon[i] = Float(noiseRNG.normal()) }
          let (reconstruction, kl) = network.evaluate(rows: batch, gradient: true)
          let loss = (reconstruction + kl) / Double(batch)
          guard loss.isFinite else {
            throw VAETrainingError(message: "training diverged: loss \(loss) at epoch \(epoch), mini-batch \(step + 1)")
          }
          lossSum += loss
          network.adamStep(learningRate: s.learningRate, beta1: s.beta1, beta2: s.beta2, epsilon: s.adamEpsilon)
        }
      }
      let testLoss = test.map { network.meanLoss(images: $0, seed: s.seed).total } ?? .nan
      let elapsed = clock.now - start
      let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
      let stats = VAEEpochStats(epoch: epoch, trainLoss: lossSum / Double(steps), testLoss: testLoss, seconds: seconds)
      history.append(stats)
      progress?(stats)
    }

    let record = VAETrainingRecord(settings: s, trainImages: train.rows, testImages: test?.rows ?? 0, history: history)
    let model = try VAEModel(architecture: a, tensors: network.exportTensors(), training: record)
    return Result(model: model, history: history)
  }
}
