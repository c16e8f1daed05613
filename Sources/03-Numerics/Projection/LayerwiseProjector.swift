import GGEPCore
import GGEPPrior

/// P_G by a layer-wise inversion (docs/mathematics.md §10 inside docs/mathematics.md §4): each target is inverted layer by
/// layer (LP, Latent-Pursuit, Layered Basis-Pursuit), optionally refined by Adam from that ẑ
/// (the hybrid), and P_G(x) = G(ẑ)/‖G(ẑ)‖.
///
/// A layer-wise method inverts a point, not a direction, so the unit target t = x/‖x‖ is
/// scaled first:
///
///     oracle-norm:  x' = c·t, c = ‖image‖ (as the Adam projector's mode);
///     cosine:       x' = s·t, s = E‖G(z)‖ over z ~ N(0, I_k), estimated once from 64 fixed draws.
///
/// For a positively homogeneous network (ReLU layers, no biases) G(αz) = αG(z), so the
/// direction of G(ẑ) does not depend on the scale and cosine mode loses nothing; with biases, s
/// puts the target at the generator's typical norm. Rows are independent: a row's result depends
/// only on its target and its job's stream (the hybrid's Adam restarts), never on its batch.
/// The loss recorded is that of the other projectors: 2 − 2 cos(t, P) in cosine mode,
/// ‖G(ẑ) − c·t‖² with the oracle's norm.
public struct LayerwiseProjector: Projector {
  public let network: InversionNetwork
  public let inverter: any LatentInverter
  public let mode: AdamProjector.ScaleMode
  /// The hybrid: Adam on ½‖G(z) − x'‖² + λ‖z‖² from the layer-wise ẑ, with these settings.
  public let refinement: AdamProjector.Settings?
  public let generator: any Generator
  /// s = E‖G(z)‖, the cosine mode's target norm.
  public let typicalNorm: Double

  public init(generator: some LayeredGenerator, inverter: any LatentInverter, mode: AdamProjector.ScaleMode, refinement: AdamProjector.Settings? = nil) {
    self.network = InversionNetwork(generator)
    self.generator = generator
    self.inverter = inverter
    self.mode = mode
    self.refinement = refinement
    var rng = RandomStream(seed: 0, key: "layerwise projector", purpose: "typical norm")
    var total = 0.0
    for _ in 0..<64 { total += norm(network.forward(rng.normals(network.latentDimension)).last!) }
    typicalNorm = total / 64
  }

  public var dimension: Int { network.outputDimension }

  public var summary: String {
    guard let r = refinement else { return "\(inverter.name)(mode=\(mode.rawValue))" }
    return "hybrid(start=\(inverter.name),mode=\(mode.rawValue),steps=\(r.steps),lr=\(r.learningRate),restarts=\(r.restarts),lambda_z=\(r.lambdaZ))"
  }

  public func projectRows(_ targets: Matrix<Double>, slots: [ProjectionSlot]) -> ProjectionOutcome {
    precondition(targets.cols == dimension && slots.count == targets.rows)
    let n = dimension
    var out = Matrix<Double>(rows: targets.rows, cols: n)
    var failures: [Int: ProjectionError] = [:]
    var scaled: [[Double]] = []
    var latents: [[Double]?] = []
    for i in 0..<targets.rows {
      let t = Array(targets.row(i))
      let tNorm = norm(t)
      var scale = typicalNorm
      if mode == .oracleNorm {
        guard let c = slots[i].oracleScale else {
          failures[i] = ProjectionError(message: "oracle-norm projection needs the image norm, which this job does not have")
          scaled.append([]); latents.append(nil)
          continue
        }
        scale = c
      }
      guard tNorm > 0, tNorm.isFinite else {
        failures[i] = ProjectionError(message: tNorm == 0 ? "the target is zero" : "the target is not finite")
        scaled.append([]); latents.append(nil)
        continue
      }
      let x = t.map { $0 * scale / tNorm }
      scaled.append(x)
      do {
        latents.append(try inverter.invert(x))
      } catch {
        failures[i] = ProjectionError(message: "\(inverter.name) projection failed at \(error)")
        latents.append(nil)
      }
    }
    if let refinement {
      let live = latents.indices.filter { latents[$0] != nil }
      var adamTargets = live.map { AdamInverter.Target(x: scaled[$0], start: latents[$0], rng: slots[$0].rng) }
      let refined = AdamInverter(generator: generator, settings: refinement).invert(advancing: &adamTargets)
      for (slot, i) in live.enumerated() {
        latents[i] = refined[slot].z
        // The job's stream moves on: the next iteration's extra restarts are new draws.
        slots[i].rng = adamTargets[slot].rng
      }
    }
    for i in 0..<targets.rows {
      guard let z = latents[i] else { continue }
      let image = network.forward(z).last!
      let r = norm(image)
      guard r > 0, r.isFinite else {
        failures[i] = ProjectionError(message: "\(inverter.name) projection gave \(r == 0 ? "G(ẑ) = 0" : "a non-finite G(ẑ)")")
        continue
      }
      let t = targets.row(i)
      let tNorm = norm(Array(t))
      var cosine = 0.0
      for j in 0..<n {
        out.storage[i * n + j] = image[j] / r
        cosine += out.storage[i * n + j] * t[t.startIndex + j] / tNorm
      }
      if mode == .oracleNorm, let c = slots[i].oracleScale {
        slots[i].lastLoss = zip(image, t).map { ($0 - c * $1 / tNorm) * ($0 - c * $1 / tNorm) }.reduce(0, +)
      } else {
        slots[i].lastLoss = 2 - 2 * cosine
      }
    }
    return ProjectionOutcome(projected: out, failures: failures)
  }
}
