import Foundation
import Synchronization
import GGEPCore
import GGEPPrior
import GGEPModels
import GGEPPipeline

/// The signals v* an experiment is run on (docs/mathematics.md §2: "the signal is v* = x/‖x‖").
///
/// Signal i depends only on (signal spec, i) and the generator, never on m, the problem or the
/// algorithm, so every method and sample size sees the same signals ("the same images").
public struct SignalSource: Sendable {
  public let spec: SignalSpec
  public let generator: any Generator
  /// The MNIST split, for `source: mnist`.
  private let images: MNIST.Split?
  /// Dataset index of each signal, for `source: mnist`.
  public let imageIndices: [Int]

  public init(spec: SignalSpec, generator: any Generator) throws {
    self.spec = spec
    self.generator = generator
    if case .mnist(let split, let indices, let data) = spec.source {
      let part: MNIST.Part = split == .test ? .test : .train
      let loaded = try MNISTCache.shared.split(part, directory: data)
      images = loaded
      // A seeded subset drawn by partial Fisher–Yates: its first k indices do not depend on
      // `count`, so growing `count` keeps the earlier images.
      var rng = RandomStream(seed: UInt64(spec.seed), key: "mnist \(split.rawValue)", purpose: "indices")
      imageIndices = indices ?? rng.sample(spec.count, from: loaded.count)
    } else {
      images = nil
      imageIndices = []
    }
  }

  /// A stable name for signal i in results (`mnist-test[3127]`, `generator[2]`).
  public func identifier(_ index: Int) -> String {
    switch spec.source {
    case .mnist(let split, _, _): return "mnist-\(split.rawValue)[\(imageIndices[index])]"
    case .generator: return "generator[\(index)]"
    case .sparse: return "sparse[\(index)]"
    }
  }

  /// The unit signal and the norm of the unnormalised "image" x (oracle-norm's c = ‖x‖).
  public func signal(_ index: Int) throws(SignalError) -> (unit: [Double], imageNorm: Double) {
    if let images { return try unit(image: imageIndices[index], in: images) }
    return try draw(key: "signal \(index)")
  }

  /// A second signal tied to signal `index` (the direction w of the `spike` covariance:
  /// "a second seeded test image").
  public func companion(of index: Int) throws(SignalError) -> [Double] {
    if let images {
      guard images.count > 1 else { throw SignalError("a spike covariance needs a second image, but the MNIST split has \(images.count)") }
      var rng = RandomStream(seed: UInt64(spec.seed), key: "companion \(index)", purpose: "signal")
      var other = rng.integer(below: images.count)
      while other == imageIndices[index] { other = rng.integer(below: images.count) }
      return try unit(image: other, in: images).unit
    }
    return try draw(key: "companion \(index)").unit
  }

  /// How many latent draws a signal gets before its job fails: a ReLU network gives G(z) = 0
  /// on part of the latent space, which a redraw escapes, but a generator that returns zero
  /// or NaN everywhere never yields a signal.
  public static let maximumDraws = 100

  private func unit(image: Int, in split: MNIST.Split) throws(SignalError) -> (unit: [Double], imageNorm: Double) {
    let x = split.images.row(image).map(Double.init)
    let size = norm(x)
    guard size > 0 else { throw SignalError("MNIST image \(image) is all zero: it has no direction to use as a signal") }
    return (x.map { $0 / size }, size)
  }

  private func draw(key: String) throws(SignalError) -> (unit: [Double], imageNorm: Double) {
    var rng = RandomStream(seed: UInt64(spec.seed), key: key, purpose: "signal")
    switch spec.source {
    case .generator, .mnist:
      // v* = Ĝ(z*), z* ~ N(0, I_k): in the range, as the theory assumes. A degenerate draw
      // (G(z*) = 0, possible for ReLU networks) is redrawn from the same stream, a bounded
      // number of times.
      var zeros = 0
      var nonFinite = 0
      for _ in 0..<Self.maximumDraws {
        let z = Matrix(rows: 1, cols: generator.latentDimension, storage: rng.normals(generator.latentDimension).map(Float.init))
        let x = generator.evaluate(z).storage.map(Double.init)
        let size = norm(x)
        if size > 0, size.isFinite { return (x.map { $0 / size }, size) }
        if size.isFinite { zeros += 1 } else { nonFinite += 1 }
      }
      throw SignalError(
        "the generator gave no usable signal in \(Self.maximumDraws) latent draws (\(zeros) gave G(z) = 0, \(nonFinite) a NaN or infinite G(z)); check the model's weights and last activation")
    case .sparse(let support):
      // A nonnegative "image" with `support` lit pixels of intensity U[0.5, 1.5).
      let n = generator.outputDimension
      var x = [Double](repeating: 0, count: n)
      for i in rng.sample(support, from: n) { x[i] = rng.uniform(0.5, 1.5) }
      let size = norm(x)
      return (x.map { $0 / size }, size)
    }
  }
}

/// Why no signal could be made for a job (its job fails with this reason).
public struct SignalError: UserFacingError, Sendable {
  public let message: String
  public init(_ message: String) { self.message = message }
  public var description: String { "signal: \(message)" }
}

/// MNIST splits loaded once per process (checksums verified on first load) and shared by
/// every batch.
public final class MNISTCache: Sendable {
  // Splits are immutable values.
  private let cache = Mutex<[String: MNIST.Split]>([:])
  public static let shared = MNISTCache()

  public func split(_ part: MNIST.Part, directory: String) throws -> MNIST.Split {
    let key = "\(directory)|\(part.rawValue)"
    return try cache.withLock { cache in
      if let hit = cache[key] { return hit }
      let loaded = try MNIST.load(part, directory: directory)
      cache[key] = loaded
      return loaded
    }
  }
}
