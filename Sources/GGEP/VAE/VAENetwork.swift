#if canImport(Glibc)
import Glibc
#else
import Foundation
#endif
import _CBLAS

/// The VAE's compute core: parameters, Adam state and every buffer of a mini-batch, allocated
/// once; forward, loss and backward as sgemm calls over the whole batch.
///
/// Per mini-batch of r rows (x is r × n, ε is r × k):
///
///     h₁ = softplus(x W₁ + b₁), …, h_E = softplus(h_{E−1} W_E + b_E)            (encoder)
///     [μ | log σ²] = h_E W_h + b_h        (W_h = [w_mu | w_logvar], one GEMM of width 2k)
///     z = μ + σ ⊙ ε,  σ = exp(½ log σ²)                                 (reparameterisation)
///     g₁ = softplus(z V₁ + c₁), …, ℓ = g_D V_{D+1} + c_{D+1}                    (decoder logits)
///     loss = (1/r) Σ_rows [ Σ_pixels BCE(x, ℓ) + ½ Σ_latent (μ² + σ² − 1 − log σ²) ]
///
/// The backward pass is the chain rule in the same layout: per layer one TN GEMM for the weight
/// gradient, one sgemv for the bias gradient and one NT GEMM for the input gradient, times the
/// softplus derivative σ(pre-activation) saved by the forward pass. Nothing is allocated per
/// step, and every operation has a fixed shape and order, so a run is bitwise reproducible for a
/// fixed BLAS thread count.
///
/// Parameters live in one flat buffer (so one Adam call updates them all), layer by layer,
/// weights (in × out) then bias; the two encoder heads are packed as one (h_E × 2k) matrix whose
/// first k columns are w_mu and last k are w_logvar. `exportTensors` / `importTensors` convert to
/// and from the model file's separate tensors.
final class VAENetwork {
  struct Layer {
    let fanIn: Int
    let fanOut: Int
    let weightOffset: Int
    let biasOffset: Int
  }

  let architecture: VAEArchitecture
  /// Rows the buffers hold; a batch may have fewer.
  let capacity: Int
  let encoderLayers: [Layer]  // hidden layers only
  let heads: Layer  // fanOut = 2k
  let decoderLayers: [Layer]  // the last one produces logits
  let parameterCount: Int

  let parameters: UnsafeMutablePointer<Float>
  let gradient: UnsafeMutablePointer<Float>
  private let adamM: UnsafeMutablePointer<Float>
  private let adamV: UnsafeMutablePointer<Float>
  private(set) var adamSteps = 0

  /// The batch: inputs x (capacity × n) and noise ε (capacity × k), filled by the caller.
  let x: UnsafeMutablePointer<Float>
  let epsilon: UnsafeMutablePointer<Float>

  private let encoderOutputs: [UnsafeMutablePointer<Float>]
  private let encoderDerivatives: [UnsafeMutablePointer<Float>]
  private let headOutputs: UnsafeMutablePointer<Float>  // [μ | log σ²] per row
  private let sigma: UnsafeMutablePointer<Float>
  private let z: UnsafeMutablePointer<Float>
  private let decoderOutputs: [UnsafeMutablePointer<Float>]  // hidden layers, then logits
  private let decoderDerivatives: [UnsafeMutablePointer<Float>]
  private let logitGradient: UnsafeMutablePointer<Float>
  private let deltaA: UnsafeMutablePointer<Float>
  private let deltaB: UnsafeMutablePointer<Float>
  private let headGradient: UnsafeMutablePointer<Float>
  private let ones: UnsafeMutablePointer<Float>
  private var allocations: [UnsafeMutablePointer<Float>] = []

  init(architecture a: VAEArchitecture, capacity: Int) {
    precondition(a.problem == nil, a.problem ?? "")
    precondition(capacity >= 1)
    architecture = a
    self.capacity = capacity
    var offset = 0
    func layer(_ fanIn: Int, _ fanOut: Int) -> Layer {
      let l = Layer(fanIn: fanIn, fanOut: fanOut, weightOffset: offset, biasOffset: offset + fanIn * fanOut)
      offset += fanIn * fanOut + fanOut
      return l
    }
    let encoderWidths = [a.input] + a.encoderHidden
    encoderLayers = (1..<encoderWidths.count).map { layer(encoderWidths[$0 - 1], encoderWidths[$0]) }
    heads = layer(a.encoderHidden[a.encoderHidden.count - 1], 2 * a.latent)
    let decoderWidths = a.decoderLayerWidths
    decoderLayers = (1..<decoderWidths.count).map { layer(decoderWidths[$0 - 1], decoderWidths[$0]) }
    parameterCount = offset
    assert(parameterCount == a.parameterCount)

    var allocations: [UnsafeMutablePointer<Float>] = []
    func buffer(_ count: Int) -> UnsafeMutablePointer<Float> {
      let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
      p.initialize(repeating: 0, count: max(count, 1))
      allocations.append(p)
      return p
    }
    parameters = buffer(parameterCount)
    gradient = buffer(parameterCount)
    adamM = buffer(parameterCount)
    adamV = buffer(parameterCount)
    x = buffer(capacity * a.input)
    epsilon = buffer(capacity * a.latent)
    encoderOutputs = a.encoderHidden.map { buffer(capacity * $0) }
    encoderDerivatives = a.encoderHidden.map { buffer(capacity * $0) }
    headOutputs = buffer(capacity * 2 * a.latent)
    sigma = buffer(capacity * a.latent)
    z = buffer(capacity * a.latent)
    decoderOutputs = (a.decoderHidden + [a.input]).map { buffer(capacity * $0) }
    decoderDerivatives = a.decoderHidden.map { buffer(capacity * $0) }
    logitGradient = buffer(capacity * a.input)
    let widest = ([a.input, 2 * a.latent] + a.encoderHidden + a.decoderHidden).max()!
    deltaA = buffer(capacity * widest)
    deltaB = buffer(capacity * widest)
    headGradient = buffer(capacity * 2 * a.latent)
    ones = buffer(capacity)
    ones.update(repeating: 1, count: capacity)
    self.allocations = allocations
  }

  deinit {
    for p in allocations { p.deallocate() }
  }

  // MARK: - Parameters

  /// Xavier (Glorot) uniform weights U(−a, a), a = √(6 / (fan_in + fan_out)), zero biases,
  /// drawn tensor by tensor in the canonical order (w_mu and w_logvar as separate layers).
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
    adamM.update(repeating: 0, count: parameterCount)
    adamV.update(repeating: 0, count: parameterCount)
    adamSteps = 0
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

  /// The loss of the batch in `x`, `epsilon` (first `rows` rows), summed over rows: the
  /// reconstruction term Σ BCE and the KL term. With `gradient`, also fills `self.gradient`
  /// with ∂(mean loss)/∂parameters, the mean being over the `rows` rows.
  @discardableResult
  func evaluate(rows r: Int, gradient wantGradient: Bool) -> (reconstruction: Double, kl: Double) {
    precondition(r >= 1 && r <= capacity)
    let (n, k) = (architecture.input, architecture.latent)
    // Encoder.
    var input = UnsafePointer(x)
    for (i, l) in encoderLayers.enumerated() {
      let out = encoderOutputs[i]
      affine(l, input: input, rows: r, output: out)
      if wantGradient {
        VectorKernels.softplus(out, derivative: encoderDerivatives[i], r * l.fanOut)
      } else {
        VectorKernels.softplus(out, r * l.fanOut)
      }
      input = UnsafePointer(out)
    }
    affine(heads, input: input, rows: r, output: headOutputs)

    // Reparameterisation and the KL term ½ Σ (μ² + σ² − 1 − log σ²).
    var kl: Double = 0
    for row in 0..<r {
      let h = headOutputs + row * 2 * k
      for j in 0..<k {
        let mu = h[j], logvar = h[k + j]
        let s = expf(0.5 * logvar)
        sigma[row * k + j] = s
        z[row * k + j] = mu + s * epsilon[row * k + j]
        kl += 0.5 * Double(mu * mu + s * s - 1 - logvar)
      }
    }

    // Decoder to logits, then the Bernoulli cross-entropy (and its gradient σ(ℓ) − x, / r).
    input = UnsafePointer(z)
    let last = decoderLayers.count - 1
    for (i, l) in decoderLayers.enumerated() {
      let out = decoderOutputs[i]
      affine(l, input: input, rows: r, output: out)
      if i < last {
        if wantGradient {
          VectorKernels.softplus(out, derivative: decoderDerivatives[i], r * l.fanOut)
        } else {
          VectorKernels.softplus(out, r * l.fanOut)
        }
      }
      input = UnsafePointer(out)
    }
    let scale = 1 / Float(r)
    let reconstruction = VectorKernels.bernoulliCrossEntropy(
      logits: decoderOutputs[last], targets: x, gradient: wantGradient ? logitGradient : nil, scale: scale, r * n)
    guard wantGradient else { return (reconstruction, kl) }

    // Decoder backward: `delta` is ∂loss/∂(pre-activation) of layer i.
    var delta = UnsafeMutablePointer(logitGradient)
    var spare = deltaA
    for i in stride(from: last, through: 0, by: -1) {
      let l = decoderLayers[i]
      let layerInput = i == 0 ? UnsafePointer(z) : UnsafePointer(decoderOutputs[i - 1])
      let target = i == 0 ? headGradient : spare  // ∂/∂z goes to headGradient's scratch first
      backward(l, input: layerInput, delta: delta, rows: r, inputGradient: target)
      if i > 0 {
        VectorKernels.multiply(target, by: decoderDerivatives[i - 1], r * l.fanIn)
        spare = delta == logitGradient ? deltaB : delta
        delta = target
      }
    }
    // headGradient now holds ∂loss/∂z (r × k, packed); expand it in place (backwards, so the
    // r × k values are read before the r × 2k layout overwrites them) into
    // [∂/∂μ | ∂/∂log σ²] = [dz + μ/r | ½ dz ε σ + ½ (σ² − 1)/r].
    for row in stride(from: r - 1, through: 0, by: -1) {
      let h = headOutputs + row * 2 * k
      for j in stride(from: k - 1, through: 0, by: -1) {
        let dz = headGradient[row * k + j]
        let s = sigma[row * k + j]
        let dLogvar = 0.5 * dz * epsilon[row * k + j] * s + 0.5 * (s * s - 1) * scale
        let dMu = dz + h[j] * scale
        headGradient[row * 2 * k + k + j] = dLogvar
        headGradient[row * 2 * k + j] = dMu
      }
    }

    // Encoder backward, from the heads down; the first layer needs no input gradient.
    let top = encoderLayers.count - 1
    backward(heads, input: encoderOutputs[top], delta: headGradient, rows: r, inputGradient: deltaA)
    VectorKernels.multiply(deltaA, by: encoderDerivatives[top], r * heads.fanIn)
    delta = deltaA
    spare = deltaB
    for i in stride(from: top, through: 0, by: -1) {
      let l = encoderLayers[i]
      let layerInput = i == 0 ? UnsafePointer(x) : UnsafePointer(encoderOutputs[i - 1])
      backward(l, input: layerInput, delta: delta, rows: r, inputGradient: i == 0 ? nil : spare)
      if i > 0 {
        VectorKernels.multiply(spare, by: encoderDerivatives[i - 1], r * l.fanIn)
        swap(&delta, &spare)
      }
    }
    return (reconstruction, kl)
  }

  /// out = input · W + b for `rows` rows (bias broadcast first, then one GEMM with β = 1).
  @inline(__always)
  private func affine(_ l: Layer, input: UnsafePointer<Float>, rows r: Int, output: UnsafeMutablePointer<Float>) {
    let bias = UnsafePointer(parameters + l.biasOffset)
    for row in 0..<r { (output + row * l.fanOut).update(from: bias, count: l.fanOut) }
    Float.gemm(
      false, false, r, l.fanOut, l.fanIn, 1, input, l.fanIn, UnsafePointer(parameters + l.weightOffset), l.fanOut, 1,
      output, l.fanOut)
  }

  /// ∂W = inputᵀ · delta, ∂b = deltaᵀ · 1, and (unless nil) inputGradient = delta · Wᵀ.
  @inline(__always)
  private func backward(
    _ l: Layer, input: UnsafePointer<Float>, delta: UnsafePointer<Float>, rows r: Int,
    inputGradient: UnsafeMutablePointer<Float>?
  ) {
    Float.gemm(true, false, l.fanIn, l.fanOut, r, 1, input, l.fanIn, delta, l.fanOut, 0, gradient + l.weightOffset, l.fanOut)
    cblas_sgemv(
      CblasRowMajor, CblasTrans, Int32(r), Int32(l.fanOut), 1, delta, Int32(l.fanOut), ones, 1, 0,
      gradient + l.biasOffset, 1)
    if let inputGradient {
      Float.gemm(
        false, true, r, l.fanIn, l.fanOut, 1, delta, l.fanOut, UnsafePointer(parameters + l.weightOffset), l.fanOut, 0,
        inputGradient, l.fanIn)
    }
  }

  // MARK: - Optimiser

  /// One Adam step on every parameter with the current `gradient`.
  func adamStep(learningRate: Double, beta1: Double, beta2: Double, epsilon: Double) {
    adamSteps += 1
    let t = Double(adamSteps)
    let c1 = 1 / (1 - pow(beta1, t))
    let c2 = 1 / (1 - pow(beta2, t))
    VectorKernels.adam(
      weights: parameters, gradient: gradient, m: adamM, v: adamV, count: parameterCount,
      learningRate: Float(learningRate), beta1: Float(beta1), beta2: Float(beta2), epsilon: Float(epsilon),
      c1: Float(c1), c2: Float(c2))
  }
}
