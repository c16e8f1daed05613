#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif
import Dispatch
import GGEPCore
import GGEPPrior

/// The VAE's compute core: parameters and Adam state, plus one or more workspaces, each with
/// every buffer of a mini-batch (or of one gradient shard of one) and a gradient of its own, all
/// allocated once; forward, loss and backward as sgemm calls over a workspace's rows.
///
/// Per batch of r rows (x is r × n, ε is r × k), act the architecture's hidden activation
/// (softplus or ReLU, `VAEArchitecture.hiddenActivation`):
///
///     h₁ = act(x W₁ + b₁), …, h_E = act(h_{E−1} W_E + b_E)                      (encoder)
///     [μ | log σ²] = h_E W_h + b_h        (W_h = [w_mu | w_logvar], one GEMM of width 2k)
///     z = μ + σ ⊙ ε,  σ = exp(½ log σ²)                                 (reparameterisation)
///     g₁ = act(z V₁ + c₁), …, ℓ = g_D V_{D+1} + c_{D+1}                         (decoder logits)
///     loss = s Σ_rows [ Σ_pixels BCE(x, ℓ) + ½ Σ_latent (μ² + σ² − 1 − log σ²) ]
///
/// with s = 1/r for a whole mini-batch; a gradient shard of a mini-batch of B rows uses s = 1/B,
/// so the shards' gradients add up to the gradient of the mini-batch mean. The backward pass is
/// the chain rule in the same layout: per layer one TN GEMM for the weight gradient, one sgemv
/// for the bias gradient and one NT GEMM for the input gradient, times the activation's
/// derivative act'(pre-activation) saved by the forward pass (`Activation.apply(_:derivative:_:)`:
/// σ(pre-activation) for softplus from the fused kernel, [pre-activation > 0] for ReLU, its
/// value at the kink 0 taken as 0). Nothing is allocated per step, and every
/// operation has a fixed shape and order, so a run is bitwise reproducible (for one BLAS thread).
///
/// Threads: `evaluate` reads the parameters and writes only its workspace, so different
/// workspaces can be evaluated on different threads at once; `adamStep` may itself split the
/// parameters across threads (elementwise, so the split does not change a bit). Every buffer
/// starts on a 64-byte boundary, so no kernel's path (OpenBLAS's or ours) depends on where the
/// allocator happened to put it.
///
/// Parameters live in one flat buffer (so one Adam call updates them all), layer by layer,
/// weights (in × out) then bias; the two encoder heads are packed as one (h_E × 2k) matrix whose
/// first k columns are w_mu and last k are w_logvar. `exportTensors` / `importTensors` convert to
/// and from the model file's separate tensors.
final class VAENetwork {

  /// The buffers of one batch: inputs x (capacity × n) and noise ε (capacity × k), filled by the
  /// caller, the activations and deltas of the forward and backward passes, and the gradient
  /// (laid out like the parameters) that a backward pass writes.
  final class Workspace {
    /// Rows the buffers hold; a batch may have fewer.
    let capacity: Int
    let x: UnsafeMutablePointer<Float>
    let epsilon: UnsafeMutablePointer<Float>
    let gradient: UnsafeMutablePointer<Float>
    let encoderOutputs: [UnsafeMutablePointer<Float>]
    let encoderDerivatives: [UnsafeMutablePointer<Float>]
    let headOutputs: UnsafeMutablePointer<Float>  // [μ | log σ²] per row
    let sigma: UnsafeMutablePointer<Float>
    let z: UnsafeMutablePointer<Float>
    let decoderOutputs: [UnsafeMutablePointer<Float>]  // hidden layers, then logits
    let decoderDerivatives: [UnsafeMutablePointer<Float>]
    let logitGradient: UnsafeMutablePointer<Float>
    let deltaA: UnsafeMutablePointer<Float>
    let deltaB: UnsafeMutablePointer<Float>
    let headGradient: UnsafeMutablePointer<Float>
    private let arena: AlignedFloats

    fileprivate init(architecture a: VAEArchitecture, capacity: Int, parameterCount: Int) {
      self.capacity = capacity
      let widest = ([a.input, 2 * a.latent] + a.encoderHidden + a.decoderHidden).max()!
      var counts = [capacity * a.input, capacity * a.latent, parameterCount]
      counts += a.encoderHidden.map { capacity * $0 } + a.encoderHidden.map { capacity * $0 }
      counts += [capacity * 2 * a.latent, capacity * a.latent, capacity * a.latent]
      counts += (a.decoderHidden + [a.input]).map { capacity * $0 } + a.decoderHidden.map { capacity * $0 }
      counts += [capacity * a.input, capacity * widest, capacity * widest, capacity * 2 * a.latent]
      arena = AlignedFloats(counts)
      var next = arena.buffers.makeIterator()
      func take(_ count: Int = 1) -> [UnsafeMutablePointer<Float>] { (0..<count).map { _ in next.next()! } }
      (x, epsilon, gradient) = (take()[0], take()[0], take()[0])
      encoderOutputs = take(a.encoderHidden.count)
      encoderDerivatives = take(a.encoderHidden.count)
      (headOutputs, sigma, z) = (take()[0], take()[0], take()[0])
      decoderOutputs = take(a.decoderHidden.count + 1)
      decoderDerivatives = take(a.decoderHidden.count)
      (logitGradient, deltaA, deltaB, headGradient) = (take()[0], take()[0], take()[0], take()[0])
      assert(next.next() == nil)
    }
  }

  let architecture: VAEArchitecture
  /// Rows each workspace holds.
  let capacity: Int
  /// Three stacks on one flat parameter buffer (`DenseStack`): the encoder's hidden layers
  /// (act), the heads (affine, width 2k) and the decoder (act …, then affine logits).
  let encoder: DenseStack
  let headStack: DenseStack
  let decoder: DenseStack
  var encoderLayers: [DenseStack.Layer] { encoder.layers }
  var heads: DenseStack.Layer { headStack.layers[0] }
  var decoderLayers: [DenseStack.Layer] { decoder.layers }
  let parameterCount: Int

  let parameters: UnsafeMutablePointer<Float>
  /// `capacity` ones (for bias gradients δᵀ·1).
  let ones: UnsafeMutablePointer<Float>
  /// The one optimiser (`Adam`), made with the first step's settings.
  private var optimizer: Adam?
  var adamSteps: Int { optimizer?.steps ?? 0 }
  private let arena: AlignedFloats

  /// At least one; each has `capacity` rows and its own gradient.
  let workspaces: [Workspace]
  /// The workspaces' gradients, for the Adam kernel.
  private let gradientPointers: [UnsafePointer<Float>?]
  /// The first workspace's batch (x, ε) and gradient: what a single-batch caller uses.
  var x: UnsafeMutablePointer<Float> { workspaces[0].x }
  var epsilon: UnsafeMutablePointer<Float> { workspaces[0].epsilon }
  var gradient: UnsafeMutablePointer<Float> { workspaces[0].gradient }

  init(architecture a: VAEArchitecture, capacity: Int, workspaces workspaceCount: Int = 1) {
    precondition(a.problem == nil, a.problem ?? "")
    precondition(capacity >= 1 && workspaceCount >= 1)
    architecture = a
    self.capacity = capacity
    encoder = DenseStack(
      widths: [a.input] + a.encoderHidden, activations: a.encoderHidden.map { _ in a.hiddenActivation })
    headStack = DenseStack(
      widths: [a.encoderHidden[a.encoderHidden.count - 1], 2 * a.latent], activations: [.identity],
      offset: encoder.parameterRange.upperBound)
    decoder = DenseStack(
      widths: a.decoderLayerWidths, activations: a.decoderHidden.map { _ in a.hiddenActivation } + [.identity],
      offset: headStack.parameterRange.upperBound)
    parameterCount = decoder.parameterRange.upperBound
    assert(parameterCount == a.parameterCount)

    arena = AlignedFloats([parameterCount, capacity])
    (parameters, ones) = (arena.buffers[0], arena.buffers[1])
    ones.update(repeating: 1, count: capacity)
    let count = parameterCount
    workspaces = (0..<workspaceCount).map { _ in Workspace(architecture: a, capacity: capacity, parameterCount: count) }
    gradientPointers = workspaces.map { UnsafePointer($0.gradient) }
  }

  // MARK: - Parameters

  /// Xavier (Glorot) uniform weights U(−a, a), a = √(6 / (fan_in + fan_out)), zero biases,
  /// drawn tensor by tensor in the canonical order (w_mu and w_logvar as separate layers).
  /// The same for ReLU hidden layers: He's 2/fan_in variance offsets the half of the units a
  /// ReLU switches off, which matters when it compounds over many layers; over the two hidden
  /// layers of each side here it is a constant factor that Adam's per-parameter steps absorb.
  func initialize(rng: inout RandomStream) {
    var tensors: [String: [Float]] = [:]
    for t in architecture.tensors {
      if t.isWeight {
        let bound = (6 / Double(t.shape[0] + t.shape[1])).squareRoot()
        tensors[t.path] = (0..<t.count).map { _ in Float(rng.uniform(-bound, bound)) }
      } else {
        tensors[t.path] = [Float](repeating: 0, count: t.count)
      }
    }
    importTensors(tensors)
    resetOptimizer()
  }

  func resetOptimizer() {
    optimizer = nil
  }

  /// The parameters as the model file's tensors (keyed by dataset path).
  func exportTensors() -> [String: [Float]] { exportTensors(from: parameters) }

  /// A buffer laid out like the parameters (the parameters or their gradient) as tensors.
  func exportTensors(from parameters: UnsafePointer<Float>) -> [String: [Float]] {
    var out: [String: [Float]] = [:]
    let k = architecture.latent
    func copy(_ offset: Int, _ count: Int) -> [Float] { Array(UnsafeBufferPointer(start: parameters + offset, count: count)) }
    for (i, l) in encoderLayers.enumerated() {
      out["encoder/w\(i + 1)"] = copy(l.weightOffset, l.fanIn * l.fanOut)
      out["encoder/b\(i + 1)"] = copy(l.biasOffset, l.fanOut)
    }
    var wMu = [Float](repeating: 0, count: heads.fanIn * k)
    var wLogvar = wMu
    for r in 0..<heads.fanIn {
      for j in 0..<k {
        wMu[r * k + j] = parameters[heads.weightOffset + r * 2 * k + j]
        wLogvar[r * k + j] = parameters[heads.weightOffset + r * 2 * k + k + j]
      }
    }
    out["encoder/w_mu"] = wMu
    out["encoder/w_logvar"] = wLogvar
    out["encoder/b_mu"] = copy(heads.biasOffset, k)
    out["encoder/b_logvar"] = copy(heads.biasOffset + k, k)
    for (i, l) in decoderLayers.enumerated() {
      out["decoder/w\(i + 1)"] = copy(l.weightOffset, l.fanIn * l.fanOut)
      out["decoder/b\(i + 1)"] = copy(l.biasOffset, l.fanOut)
    }
    return out
  }

  /// Sets the parameters from the model file's tensors (all present, of the right sizes).
  func importTensors(_ tensors: [String: [Float]]) {
    let k = architecture.latent
    func put(_ path: String, _ offset: Int) {
      let values = tensors[path]!
      values.withUnsafeBufferPointer { (parameters + offset).update(from: $0.baseAddress!, count: values.count) }
    }
    for (i, l) in encoderLayers.enumerated() {
      put("encoder/w\(i + 1)", l.weightOffset)
      put("encoder/b\(i + 1)", l.biasOffset)
    }
    let wMu = tensors["encoder/w_mu"]!, wLogvar = tensors["encoder/w_logvar"]!
    for r in 0..<heads.fanIn {
      for j in 0..<k {
        parameters[heads.weightOffset + r * 2 * k + j] = wMu[r * k + j]
        parameters[heads.weightOffset + r * 2 * k + k + j] = wLogvar[r * k + j]
      }
    }
    put("encoder/b_mu", heads.biasOffset)
    put("encoder/b_logvar", heads.biasOffset + k)
    for (i, l) in decoderLayers.enumerated() {
      put("decoder/w\(i + 1)", l.weightOffset)
      put("decoder/b\(i + 1)", l.biasOffset)
    }
  }

  // MARK: - Forward and backward

  /// The loss of the batch in the first workspace's `x`, `epsilon` (first `rows` rows), summed
  /// over rows: the reconstruction term Σ BCE and the KL term. With `gradient`, also fills
  /// `self.gradient` with ∂(mean loss)/∂parameters, the mean being over the `rows` rows.
  @discardableResult
  func evaluate(rows r: Int, gradient wantGradient: Bool) -> (reconstruction: Double, kl: Double) {
    evaluate(workspaces[0], rows: r, gradient: wantGradient, scale: 1 / Float(r))
  }

  /// The loss of the batch in `w.x`, `w.epsilon` (first `rows` rows), summed over rows: the
  /// reconstruction term Σ BCE and the KL term. With `gradient`, also fills `w.gradient` with
  /// ∂(scale × the summed loss)/∂parameters. Reads the parameters, writes only `w`.
  @discardableResult
  func evaluate(_ w: Workspace, rows r: Int, gradient wantGradient: Bool, scale: Float) -> (reconstruction: Double, kl: Double) {
    precondition(r >= 1 && r <= w.capacity)
    let n = architecture.input
    let (x, gradient) = (w.x, w.gradient)
    let (encoderOutputs, encoderDerivatives) = (w.encoderOutputs, w.encoderDerivatives)
    let (headOutputs, z) = (w.headOutputs, w.z)
    let (decoderOutputs, decoderDerivatives) = (w.decoderOutputs, w.decoderDerivatives)
    let (logitGradient, deltaA, deltaB, headGradient) = (w.logitGradient, w.deltaA, w.deltaB, w.headGradient)
    // Encoder, then the heads [μ | log σ²].
    let p = UnsafePointer(parameters)
    encoder.forward(
      parameters: p, input: x, rows: r, outputs: encoderOutputs, derivatives: wantGradient ? encoderDerivatives : nil)
    headStack.affine(0, parameters: p, input: encoderOutputs[encoderOutputs.count - 1], rows: r, output: headOutputs)

    let kl = reparameterise(w, rows: r)

    // Decoder to logits, then the Bernoulli cross-entropy (and its gradient σ(ℓ) − x, / r).
    let last = decoderLayers.count - 1
    // The logits' identity activation saves no derivative (the logits' gradient comes from the loss).
    decoder.forward(
      parameters: p, input: z, rows: r, outputs: decoderOutputs,
      derivatives: wantGradient ? decoderDerivatives + [logitGradient] : nil)
    let reconstruction = VectorKernels.bernoulliCrossEntropy(
      logits: decoderOutputs[last], targets: x, gradient: wantGradient ? logitGradient : nil, scale: scale, r * n)
    guard wantGradient else { return (reconstruction, kl) }

    // Decoder backward from ∂loss/∂logits; ∂/∂z goes to headGradient's scratch first.
    decoder.backward(
      parameters: p, input: z, outputs: decoderOutputs.map { UnsafePointer($0) }, derivatives: decoderDerivatives.map { UnsafePointer($0) },
      delta: logitGradient, rows: r, gradient: gradient, ones: ones, inputGradient: headGradient, scratch: (deltaA, deltaB))
    expandHeadGradient(w, rows: r, scale: scale)

    // Encoder backward, from the heads down; the first layer needs no input gradient.
    let top = encoderLayers.count - 1
    headStack.layerBackward(
      0, parameters: p, input: encoderOutputs[top], delta: headGradient, rows: r, gradient: gradient, ones: ones, inputGradient: deltaA)
    VectorKernels.multiply(deltaA, by: encoderDerivatives[top], r * heads.fanIn)
    encoder.backward(
      parameters: p, input: x, outputs: encoderOutputs.map { UnsafePointer($0) }, derivatives: encoderDerivatives.map { UnsafePointer($0) },
      delta: deltaA, rows: r, gradient: gradient, ones: ones, inputGradient: nil, scratch: (deltaB, logitGradient))
    return (reconstruction, kl)
  }

  /// z = μ + σ ⊙ ε with σ = exp(½ log σ²), from `w`'s heads [μ | log σ²] and ε (first `rows`
  /// rows); returns the KL term ½ Σ (μ² + σ² − 1 − log σ²) summed over those rows.
  func reparameterise(_ w: Workspace, rows r: Int) -> Double {
    let k = architecture.latent
    var kl: Double = 0
    for row in 0..<r {
      let h = w.headOutputs + row * 2 * k
      for j in 0..<k {
        let mu = h[j], logvar = h[k + j]
        let s = expf(0.5 * logvar)
        w.sigma[row * k + j] = s
        w.z[row * k + j] = mu + s * w.epsilon[row * k + j]
        kl += 0.5 * Double(mu * mu + s * s - 1 - logvar)
      }
    }
    return kl
  }

  /// `w.headGradient` holds ∂loss/∂z (rows × k, packed); expands it in place (backwards, so the
  /// r × k values are read before the r × 2k layout overwrites them) into the heads' gradient
  /// [∂/∂μ | ∂/∂log σ²] = [dz + s μ | ½ dz ε σ + ½ s (σ² − 1)], s the loss scale (1/batch).
  func expandHeadGradient(_ w: Workspace, rows r: Int, scale: Float) {
    let k = architecture.latent
    for row in stride(from: r - 1, through: 0, by: -1) {
      let h = w.headOutputs + row * 2 * k
      for j in stride(from: k - 1, through: 0, by: -1) {
        let dz = w.headGradient[row * k + j]
        let s = w.sigma[row * k + j]
        let dLogvar = 0.5 * dz * w.epsilon[row * k + j] * s + 0.5 * (s * s - 1) * scale
        let dMu = dz + h[j] * scale
        w.headGradient[row * 2 * k + k + j] = dLogvar
        w.headGradient[row * 2 * k + j] = dMu
      }
    }
  }

  // MARK: - Optimiser

  /// Adam on parameters `range` with the sum of the first `shards` workspaces' gradients, added
  /// in workspace order (shard 0 + shard 1 + …).
  private func adamUpdate(_ optimizer: Adam, _ range: Range<Int>, shards: Int, _ step: Adam.Constants) {
    gradientPointers.withUnsafeBufferPointer { g in
      optimizer.update(parameters, gradients: g.baseAddress!, shards: shards, range: range, step)
    }
  }

  /// The one optimiser, made with these settings on its first use.
  func optimizer(learningRate: Double, beta1: Double, beta2: Double, epsilon: Double) -> Adam {
    if let optimizer { return optimizer }
    let made = Adam(count: parameterCount, learningRate: Float(learningRate), beta1: Float(beta1), beta2: Float(beta2), epsilon: Float(epsilon))
    optimizer = made
    return made
  }

  /// One Adam step on every parameter with the sum of the first `shards` workspaces' gradients,
  /// added in workspace order (shard 0 + shard 1 + …). With `threads` > 1 the parameters are
  /// split into ranges updated in parallel (no BLAS involved); the update is elementwise, so the
  /// split changes no bit.
  func adamStep(learningRate: Double, beta1: Double, beta2: Double, epsilon: Double, shards: Int = 1, threads: Int = 1) {
    precondition(shards >= 1 && shards <= workspaces.count)
    let optimizer = self.optimizer(learningRate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon)
    let step = optimizer.nextStep()
    let n = parameterCount
    // With several threads, 8 pieces per thread (taken as threads come free, so a thread that
    // wakes late costs little), each at least 16 Ki parameters, boundaries on 64-byte lines.
    let pieces = threads == 1 ? 1 : max(1, min(8 * threads, n / 16_384))
    if pieces == 1 {
      adamUpdate(optimizer, 0..<n, shards: shards, step)
    } else {
      let network = UnsafeSendable(self)
      DispatchQueue.concurrentPerform(iterations: pieces) { p in
        let bound = { (p: Int) in p == pieces ? n : n * p / pieces / 16 * 16 }
        network.value.adamUpdate(optimizer, bound(p)..<bound(p + 1), shards: shards, step)
      }
    }
  }
}

