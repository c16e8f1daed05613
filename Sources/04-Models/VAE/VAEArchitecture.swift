import Foundation
import GGEPCore
import GGEPPrior

/// The shape of a variational autoencoder (docs/mathematics.md §3, `vae-mnist`), its hidden layers all with one
/// activation act (softplus unless chosen otherwise):
///
///     encoder  x (input) → act … act → (μ, log σ²)   each `latent` wide, affine
///     decoder  z (latent) → act … act → sigmoid (input wide)
///
/// `mnist` is docs/mathematics.md §3's 784-500-500-(20, 20) encoder and 20-500-500-784 decoder with softplus;
/// `mnistReLU` is the inversion paper's 20-128-392-784 decoder (the GAN generator's shape) with
/// ReLU, and the mirrored 784-392-128-(20, 20) encoder. Any number (≥ 1) of hidden
/// layers is allowed on either side; tests use small ones.
///
/// JSON (`json`, the model file's `architecture` attribute and the training settings) writes
/// `hidden_activation` only when it is not softplus, and reads its absence as softplus: a
/// softplus architecture encodes to the bytes it had before the key existed, so model files and
/// everything hashed from them are unchanged.
public struct VAEArchitecture: Codable, Equatable, Hashable, Sendable {
  public var input: Int
  public var encoderHidden: [Int]
  public var latent: Int
  public var decoderHidden: [Int]
  /// The activation of every hidden layer of encoder and decoder.
  public var hiddenActivation: Activation

  public init(input: Int, encoderHidden: [Int], latent: Int, decoderHidden: [Int], hiddenActivation: Activation = .softplus) {
    self.input = input
    self.encoderHidden = encoderHidden
    self.latent = latent
    self.decoderHidden = decoderHidden
    self.hiddenActivation = hiddenActivation
  }

  /// 784-500-500-(20, 20) / 20-500-500-784, softplus.
  public static let mnist = VAEArchitecture(input: 784, encoderHidden: [500, 500], latent: 20, decoderHidden: [500, 500])

  /// 784-392-128-(20, 20) / 20-128-392-784, ReLU: the decoder has the shape of the inversion
  /// paper's GAN generator (ReLU hidden layers, sigmoid output), so the two priors differ only
  /// in how they were trained.
  public static let mnistReLU = VAEArchitecture(
    input: 784, encoderHidden: [392, 128], latent: 20, decoderHidden: [128, 392], hiddenActivation: .relu)

  enum CodingKeys: String, CodingKey {
    case input
    case encoderHidden = "encoder_hidden"
    case latent
    case decoderHidden = "decoder_hidden"
    case hiddenActivation = "hidden_activation"
  }

  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    input = try c.decode(Int.self, forKey: .input)
    encoderHidden = try c.decode([Int].self, forKey: .encoderHidden)
    latent = try c.decode(Int.self, forKey: .latent)
    decoderHidden = try c.decode([Int].self, forKey: .decoderHidden)
    hiddenActivation = try c.decodeIfPresent(Activation.self, forKey: .hiddenActivation) ?? .softplus
  }

  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(input, forKey: .input)
    try c.encode(encoderHidden, forKey: .encoderHidden)
    try c.encode(latent, forKey: .latent)
    try c.encode(decoderHidden, forKey: .decoderHidden)
    if hiddenActivation != .softplus { try c.encode(hiddenActivation, forKey: .hiddenActivation) }
  }

  /// Why the architecture is unusable, or nil.
  public var problem: String? {
    if input < 1 || latent < 1 { return "input and latent widths must be positive" }
    if encoderHidden.isEmpty || decoderHidden.isEmpty { return "each side needs at least one hidden layer" }
    if (encoderHidden + decoderHidden).contains(where: { $0 < 1 }) { return "hidden widths must be positive" }
    // Widths come from a file: a product that overflows would trap wherever a count is taken.
    if let tensor = tensors.first(where: { CheckedSize.product($0.shape + [MemoryLayout<Double>.size]) == nil }) {
      return "\(tensor.path) of shape \(tensor.shape) is too large: its byte count overflows a 64-bit integer"
    }
    return nil
  }

  /// Canonical JSON (sorted keys, no spaces), as stored in the model file.
  public var json: String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: try! encoder.encode(self), as: UTF8.self)
  }

  public static func fromJSON(_ text: String) throws -> VAEArchitecture {
    try JSONDecoder().decode(VAEArchitecture.self, from: Data(text.utf8))
  }

  /// The activations, as stored in the model file: the encoder's hidden layers (its μ and
  /// log σ² heads are affine) and every decoder layer.
  public var activationsJSON: String {
    let hidden = "\"\(hiddenActivation.name)\""
    let encoder = encoderHidden.map { _ in hidden } + ["\"identity\""]
    let decoder = decoderHidden.map { _ in hidden } + ["\"sigmoid\""]
    return "{\"decoder\":[\(decoder.joined(separator: ","))],\"encoder\":[\(encoder.joined(separator: ","))]}"
  }

  /// One weight or bias array of the model.
  public struct Tensor: Equatable, Sendable {
    /// The dataset path in the model file, e.g. `encoder/w1`.
    public let path: String
    /// `[in, out]` for weights (stored in × out, row-major: h_out = h_in · W + b), `[out]` for biases.
    public let shape: [Int]
    public var count: Int { shape.reduce(1, *) }
    public var isWeight: Bool { shape.count == 2 }
  }

  /// Every tensor in the canonical order: the order of the model file's listing and of the
  /// checksum. Encoder w1, b1, …, w_mu, b_mu, w_logvar, b_logvar; decoder w1, b1, …, wL, bL.
  public var tensors: [Tensor] {
    var list: [Tensor] = []
    let encoderWidths = [input] + encoderHidden
    for i in 1..<encoderWidths.count {
      list.append(Tensor(path: "encoder/w\(i)", shape: [encoderWidths[i - 1], encoderWidths[i]]))
      list.append(Tensor(path: "encoder/b\(i)", shape: [encoderWidths[i]]))
    }
    let last = encoderHidden[encoderHidden.count - 1]
    list.append(Tensor(path: "encoder/w_mu", shape: [last, latent]))
    list.append(Tensor(path: "encoder/b_mu", shape: [latent]))
    list.append(Tensor(path: "encoder/w_logvar", shape: [last, latent]))
    list.append(Tensor(path: "encoder/b_logvar", shape: [latent]))
    let decoderWidths = decoderLayerWidths
    for i in 1..<decoderWidths.count {
      list.append(Tensor(path: "decoder/w\(i)", shape: [decoderWidths[i - 1], decoderWidths[i]]))
      list.append(Tensor(path: "decoder/b\(i)", shape: [decoderWidths[i]]))
    }
    return list
  }

  /// latent, decoder hidden widths…, input.
  var decoderLayerWidths: [Int] { [latent] + decoderHidden + [input] }

  /// Number of trainable parameters.
  public var parameterCount: Int { tensors.reduce(0) { $0 + $1.count } }

  /// Multiply-adds of one image through encoder and decoder (the forward pass).
  public var forwardMultiplyAdds: Int {
    let encoderWidths = [input] + encoderHidden
    var total = 0
    for i in 1..<encoderWidths.count { total += encoderWidths[i - 1] * encoderWidths[i] }
    total += encoderHidden[encoderHidden.count - 1] * 2 * latent
    let d = decoderLayerWidths
    for i in 1..<d.count { total += d[i - 1] * d[i] }
    return total
  }
}
