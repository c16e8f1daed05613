import Foundation
import GGEPCore
import GGEPPrior

/// A trained variational autoencoder (docs/mathematics.md §3, `vae-mnist`): its architecture, every weight and
/// bias, and how it was trained.
///
/// Weights are stored **in × out** (row-major), as `DenseLayer` keeps them: a layer maps a row
/// batch h to h·W + b. The tensors are keyed by their dataset path in the model file
/// (`encoder/w1`, …, `decoder/b3`; `VAEArchitecture.tensors` lists them in canonical order).
///
/// `checksum` is the SHA-256 of the weight bytes: every tensor in the canonical order
/// (encoder w1, b1, w2, b2, w_mu, b_mu, w_logvar, b_logvar, then decoder w1, b1, w2, b2, w3, b3
/// for the default architecture), each as IEEE-754 binary32 little-endian values in row-major
/// order, concatenated with no separators.
public struct VAEModel: Sendable {
  /// The `format` attribute of a model file (`ModelFile`).
  public static var format: String { ModelFile.format }

  public let architecture: VAEArchitecture
  public let tensors: [String: [Float]]
  /// Settings and results of the training run, when known.
  public var training: VAETrainingRecord?
  /// Lowercase hex SHA-256 of the weights (see the type's documentation).
  public let checksum: String

  /// Checks that every tensor of `architecture` is present with the right number of values
  /// (and no others), and computes the checksum.
  public init(architecture: VAEArchitecture, tensors: [String: [Float]], training: VAETrainingRecord? = nil) throws {
    if let problem = architecture.problem { throw ModelFileError(file: "", object: "", message: "bad architecture: \(problem)") }
    let expected = architecture.tensors
    for t in expected {
      guard let values = tensors[t.path] else {
        throw ModelFileError(file: "", object: "/" + t.path, message: "missing tensor")
      }
      guard values.count == t.count else {
        throw ModelFileError(file: "", object: "/" + t.path, message: "has \(values.count) values, expected \(t.shape)")
      }
    }
    if let extra = Set(tensors.keys).subtracting(expected.map(\.path)).sorted().first {
      throw ModelFileError(file: "", object: "/" + extra, message: "not a tensor of this architecture")
    }
    self.architecture = architecture
    self.tensors = tensors
    self.training = training
    checksum = Self.checksum(architecture: architecture, tensors: tensors)
  }

  /// SHA-256 over the tensors' float32 little-endian bytes in canonical order.
  public static func checksum(architecture: VAEArchitecture, tensors: [String: [Float]]) -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(architecture.parameterCount * 4)
    for t in architecture.tensors {
      let values = tensors[t.path]!
      #if _endian(little)
      values.withUnsafeBytes { bytes.append(contentsOf: $0) }
      #else
      for v in values {
        let bits = v.bitPattern
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt32(shift))) }
      }
      #endif
    }
    return SHA256.hexDigest(bytes)
  }

  /// A weight tensor as a matrix (in × out), or a bias as a 1 × out matrix.
  public func matrix(_ path: String) -> Matrix<Float>? {
    guard let t = architecture.tensors.first(where: { $0.path == path }), let values = tensors[path] else { return nil }
    return t.isWeight ? Matrix(rows: t.shape[0], cols: t.shape[1], storage: values) : Matrix(rows: 1, cols: t.count, storage: values)
  }

  /// The generator name used in logs and results: `vae-mnist(sha256:` + the first 8 hex digits
  /// of the checksum + `…)`.
  public var summary: String { "vae-mnist(sha256:\(checksum.prefix(8))…)" }

  /// The decoder as a generator G: Rᵏ → Rⁿ (the architecture's hidden activation, softplus or
  /// ReLU, then a sigmoid output), for the projectors and the layer-wise inverters.
  public func decoderGenerator() -> FeedForwardGenerator {
    let widths = architecture.decoderLayerWidths
    let layers = (1..<widths.count).map { i in
      DenseLayer(
        weights: Matrix(rows: widths[i - 1], cols: widths[i], storage: tensors["decoder/w\(i)"]!),
        bias: tensors["decoder/b\(i)"]!,
        activation: i == widths.count - 1 ? .sigmoid : architecture.hiddenActivation)
    }
    return FeedForwardGenerator(layers: layers, summary: summary)
  }

  /// The mean negative ELBO of `images` (rows of `architecture.input` values in [0, 1]) in nats
  /// per image, with its two parts. The estimator is the one training reports as test loss:
  /// KL(q(z|x) ‖ N(0, I)) in closed form plus a single-sample Monte Carlo estimate of
  /// −E_q[log p(x|z)], with ε from `RandomStream(seed: seed, key: "vae", purpose: "evaluation")`
  /// drawn image by image, in chunks of `batchSize` rows. `threads` chunks are evaluated at once
  /// (call it with BLAS at one thread then); the chunks' sums are added in chunk order, so the
  /// result is bitwise the same for any `threads`.
  public func negativeELBO(images: Matrix<Float>, seed: UInt64 = 0, batchSize: Int = 100, threads: Int = 1) -> VAELoss {
    precondition(images.cols == architecture.input)
    let network = VAENetwork(architecture: architecture, capacity: batchSize, workspaces: max(1, threads))
    network.importTensors(tensors)
    return network.meanLoss(images: images, seed: seed, threads: threads)
  }
}

/// A loss in nats per image: the negative ELBO and its parts.
public struct VAELoss: Sendable, Equatable, Codable {
  /// Bernoulli cross-entropy −log p(x|z) (single-sample estimate).
  public var reconstruction: Double
  /// KL(q(z|x) ‖ N(0, I)).
  public var kl: Double
  public var total: Double { reconstruction + kl }
}

extension VAENetwork {
  /// The mean loss over all rows of `images`, in fixed chunks of `capacity` rows (the last may
  /// be shorter), with ε from the evaluation noise stream of `seed` drawn image by image in
  /// order before any chunk runs. Up to `threads` chunks run at once, each in its own workspace;
  /// each chunk's sums are kept apart and added in chunk order at the end, so the result does
  /// not depend on `threads`. Does not touch the parameters or Adam state.
  func meanLoss(images: Matrix<Float>, seed: UInt64, threads: Int = 1) -> VAELoss {
    let (n, k) = (architecture.input, architecture.latent)
    let rows = images.rows
    let chunks = (rows + capacity - 1) / capacity
    guard chunks > 0 else { return VAELoss(reconstruction: 0, kl: 0) }
    // Per evaluation, not per training step: the noise of every image and the chunk sums.
    let scratch = AlignedFloats([rows * k])
    let noise = scratch.buffers[0]
    var rng = RandomStream(seed: seed, key: "vae", purpose: "evaluation")
    for i in 0..<(rows * k) { noise[i] = Float(rng.normal()) }
    var sums = [Double](repeating: 0, count: 2 * chunks)
    let workers = max(1, min(threads, workspaces.count, chunks))
    images.storage.withUnsafeBufferPointer { pixels in
      sums.withUnsafeMutableBufferPointer { sumsBuffer in
        // Worker w evaluates chunks w, w + workers, … in workspace w and writes only those
        // chunks' two sums.
        let shared = UnsafeSendable((self, pixels.baseAddress!, UnsafePointer(noise), sumsBuffer.baseAddress!))
        // (With one worker, concurrentPerform runs the body on this thread.)
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
          let (network, pixels, noise, sums) = shared.value
          let workspace = network.workspaces[worker]
          let capacity = network.capacity
          var chunk = worker
          while chunk < chunks {
            let start = chunk * capacity
            let count = min(capacity, rows - start)
            workspace.x.update(from: pixels + start * n, count: count * n)
            workspace.epsilon.update(from: noise + start * k, count: count * k)
            let part = network.evaluate(workspace, rows: count, gradient: false, scale: 1 / Float(count))
            sums[2 * chunk] = part.reconstruction
            sums[2 * chunk + 1] = part.kl
            chunk += workers
          }
        }
      }
    }
    var reconstruction: Double = 0
    var kl: Double = 0
    for chunk in 0..<chunks {
      reconstruction += sums[2 * chunk]
      kl += sums[2 * chunk + 1]
    }
    let count = Double(rows)
    return VAELoss(reconstruction: reconstruction / count, kl: kl / count)
  }
}
