#if canImport(Glibc)
import Glibc
import GGEPPrior
#else
import Foundation
#endif

/// The adversarial loss family of docs/mathematics.md §11 (Moustakides' lecture): pick ω strictly increasing and
/// ρ > 0, let ψ′(z) = ρ(z) and φ′(z) = −ω⁻¹(z) ρ(z). The discriminator D maximises
///
///     Ĵ = (1/n) Σᵢ φ(D(Xᵢ)) + (1/m) Σⱼ ψ(D(G(Zⱼ)))
///
/// whose pointwise maximiser is D_o = ω(g/f) (f the data density, g the generator's): the
/// derivative of f φ(D) + g ψ(D) is ρ(D)(g − f ω⁻¹(D)), zero exactly there. The generator
/// minimises the maximum, min_θ max_ϑ Ĵ; only the second mean depends on θ, so its loss is
/// (1/m) Σⱼ ψ(D(G(Zⱼ))). The three cases of the lecture:
///
///     A  mean-square     ω(r) = r,         ρ = 1,         φ(z) = −z²/2,      ψ(z) = z
///     B  exponential     ω(r) = log r,     ρ = e^{−z/2},  φ(z) = −2e^{z/2},  ψ(z) = −2e^{−z/2}
///     C  cross-entropy   ω(r) = r/(r + 1), ρ = 1/z,       φ(z) = log(1 − z), ψ(z) = log z,  D ∈ (0, 1)
///
/// The discriminator network ends in one raw output t per row. For A and B, D = t; for C,
/// D = σ(t) = 1/(1 + e^{−t}), which keeps D in (0, 1). Note the lecture's orientation: with φ on
/// the data and ψ on the generated rows, D_o = g/(f + g) in case C, so D is the probability of
/// *generated*, the opposite of the usual GAN convention where D is the probability of *real*.
///
/// Everything is computed per element in Double from the Float outputs and rounded once, and the
/// means are summed in row order, so a batch gives the same bits on every run. In case C the
/// composition with the sigmoid is done in closed form: φ(σ(t)) = −softplus(t) and
/// ψ(σ(t)) = −softplus(−t), with softplus(x) = max(x, 0) + log1p(e^{−|x|}); a rounded
/// σ(t) = 1 (t ≳ 37 in Double, ≳ 17 in Float) would otherwise give log 0 = −∞.
public enum AdversarialLoss: String, Codable, CaseIterable, Sendable {
  /// Case A.
  case meanSquare = "mean-square"
  /// Case B.
  case exponential = "exponential"
  /// Case C.
  case crossEntropy = "cross-entropy"

  // MARK: - The family's functions (docs/mathematics.md §11's table), of the discriminator's value z = D

  /// φ(z), applied to D on the data rows.
  public func phi(_ z: Double) -> Double {
    switch self {
    case .meanSquare: return -z * z / 2
    case .exponential: return -2 * exp(z / 2)
    case .crossEntropy: return log1p(-z)
    }
  }

  /// ψ(z), applied to D on the generated rows.
  public func psi(_ z: Double) -> Double {
    switch self {
    case .meanSquare: return z
    case .exponential: return -2 * exp(-z / 2)
    case .crossEntropy: return log(z)
    }
  }

  /// φ′(z), written out from φ (not from ω⁻¹ and ρ, so the identity φ′ = −ω⁻¹ρ is a check).
  public func phiDerivative(_ z: Double) -> Double {
    switch self {
    case .meanSquare: return -z
    case .exponential: return -exp(z / 2)
    case .crossEntropy: return -1 / (1 - z)
    }
  }

  /// ψ′(z), written out from ψ.
  public func psiDerivative(_ z: Double) -> Double {
    switch self {
    case .meanSquare: return 1
    case .exponential: return exp(-z / 2)
    case .crossEntropy: return 1 / z
    }
  }

  /// ρ(z) > 0.
  public func rho(_ z: Double) -> Double {
    switch self {
    case .meanSquare: return 1
    case .exponential: return exp(-z / 2)
    case .crossEntropy: return 1 / z
    }
  }

  /// ω(r) for a density ratio r = g/f > 0: the optimal discriminator's value.
  public func omega(_ r: Double) -> Double {
    switch self {
    case .meanSquare: return r
    case .exponential: return log(r)
    case .crossEntropy: return r / (r + 1)
    }
  }

  /// ω⁻¹(z): the density ratio g/f that a discriminator value z stands for.
  public func omegaInverse(_ z: Double) -> Double {
    switch self {
    case .meanSquare: return z
    case .exponential: return exp(z)
    case .crossEntropy: return z / (1 - z)
    }
  }

  // MARK: - From the network's raw output t

  /// D(t): t itself for A and B, σ(t) for C.
  public func discriminatorValue(_ t: Double) -> Double {
    self == .crossEntropy ? Self.sigmoid(t) : t
  }

  /// The raw output t with D(t) = z (the logit for C): where a discriminator must end to take
  /// the value z.
  public func rawOutput(forValue z: Double) -> Double {
    self == .crossEntropy ? log(z) - log1p(-z) : z
  }

  /// φ(D(t)) and d/dt of it: one data row's term of Ĵ before the 1/n.
  public func realTerm(_ t: Double) -> (value: Double, derivative: Double) {
    switch self {
    case .meanSquare: return (-t * t / 2, -t)
    case .exponential:
      let e = exp(t / 2)
      return (-2 * e, -e)
    case .crossEntropy:
      // log(1 − σ(t)) = −softplus(t); its derivative is −σ(t).
      return (-Self.softplus(t), -Self.sigmoid(t))
    }
  }

  /// ψ(D(t)) and d/dt of it: one generated row's term of Ĵ before the 1/m.
  public func fakeTerm(_ t: Double) -> (value: Double, derivative: Double) {
    switch self {
    case .meanSquare: return (t, 1)
    case .exponential:
      let e = exp(-t / 2)
      return (-2 * e, e)
    case .crossEntropy:
      // log σ(t) = −softplus(−t); its derivative is σ(−t) = 1 − σ(t), without the cancellation.
      return (-Self.softplus(-t), Self.sigmoid(-t))
    }
  }

  /// Whether `generatorTerm(_:nonSaturating:)` offers the non-saturating variant (case C only).
  public var hasNonSaturatingVariant: Bool { self == .crossEntropy }

  /// One generated row's term of the generator's loss (before the 1/m) and d/dt of it.
  ///
  /// Minimax (docs/mathematics.md §11, the default): ψ(D(t)), the same as `fakeTerm`. Non-saturating (case C
  /// only; a departure from the lecture, Goodfellow et al. 2014's practical variant): −log(1 − D(t))
  /// = softplus(t), derivative σ(t). Both decrease as D(G(z)) → 0 ("looks like data" in the
  /// lecture's orientation), but where the discriminator is sure a sample is generated (t ≫ 0)
  /// the minimax gradient σ(−t) vanishes while σ(t) stays near 1 — why early training uses it.
  public func generatorTerm(_ t: Double, nonSaturating: Bool = false) -> (value: Double, derivative: Double) {
    precondition(!nonSaturating || hasNonSaturatingVariant, "the non-saturating generator loss exists for cross-entropy only")
    if nonSaturating { return (Self.softplus(t), Self.sigmoid(t)) }
    return fakeTerm(t)
  }

  // MARK: - Batches of raw discriminator outputs (one Float per row)

  /// Ĵ = (1/n) Σᵢ φ(D(tᵢ)) + (1/m) Σⱼ ψ(D(sⱼ)) for raw outputs t on `n` data rows and s on `m`
  /// generated rows, summed in Double in row order. Unless nil, `realGradient` (n) and
  /// `fakeGradient` (m) receive `scale` · ∂Ĵ/∂tᵢ = scale · φ′(D) D′(tᵢ)/n and
  /// scale · ∂Ĵ/∂sⱼ = scale · ψ′(D) D′(sⱼ)/m: the discriminator ascends Ĵ, so a minimiser such as
  /// `Adam` wants scale = −1. The derivatives are formed in Double and rounded once.
  /// O(n + m), no allocation.
  public func discriminatorObjective(
    real t: UnsafePointer<Float>, count n: Int, fake s: UnsafePointer<Float>, count m: Int,
    realGradient: UnsafeMutablePointer<Float>?, fakeGradient: UnsafeMutablePointer<Float>?, scale: Double = 1
  ) -> Double {
    precondition(n >= 1 && m >= 1)
    var realSum = 0.0
    for i in 0..<n {
      let (value, derivative) = realTerm(Double(t[i]))
      realSum += value
      realGradient?[i] = Float(scale * derivative / Double(n))
    }
    var fakeSum = 0.0
    for j in 0..<m {
      let (value, derivative) = fakeTerm(Double(s[j]))
      fakeSum += value
      fakeGradient?[j] = Float(scale * derivative / Double(m))
    }
    return realSum / Double(n) + fakeSum / Double(m)
  }

  /// The generator's loss (1/m) Σⱼ ℓ(sⱼ) on the raw discriminator outputs s of `m` generated
  /// rows, ℓ the minimax ψ(D(s)) of docs/mathematics.md §11 or, with `nonSaturating` (case C only), softplus(s)
  /// (see `generatorTerm`); the generator minimises it. Unless nil, `gradient` (m) receives
  /// scale · ∂loss/∂sⱼ = scale · ℓ′(sⱼ)/m, which the discriminator's input pullback carries on to
  /// the generated rows. Summed in Double in row order; O(m), no allocation.
  public func generatorLoss(
    fake s: UnsafePointer<Float>, count m: Int, gradient: UnsafeMutablePointer<Float>?, nonSaturating: Bool = false,
    scale: Double = 1
  ) -> Double {
    precondition(m >= 1)
    var sum = 0.0
    for j in 0..<m {
      let (value, derivative) = generatorTerm(Double(s[j]), nonSaturating: nonSaturating)
      sum += value
      gradient?[j] = Float(scale * derivative / Double(m))
    }
    return sum / Double(m)
  }

  /// `discriminatorObjective` on arrays, gradients at scale 1 (allocates; not for hot loops).
  public func discriminatorObjective(real: [Float], fake: [Float]) -> (objective: Double, realGradient: [Float], fakeGradient: [Float]) {
    var realGradient = [Float](repeating: 0, count: real.count)
    var fakeGradient = [Float](repeating: 0, count: fake.count)
    let objective = real.withUnsafeBufferPointer { t in
      fake.withUnsafeBufferPointer { s in
        realGradient.withUnsafeMutableBufferPointer { gt in
          fakeGradient.withUnsafeMutableBufferPointer { gs in
            discriminatorObjective(
              real: t.baseAddress!, count: real.count, fake: s.baseAddress!, count: fake.count, realGradient: gt.baseAddress!,
              fakeGradient: gs.baseAddress!)
          }
        }
      }
    }
    return (objective, realGradient, fakeGradient)
  }

  /// `generatorLoss` on an array, gradient at scale 1 (allocates; not for hot loops).
  public func generatorLoss(fake: [Float], nonSaturating: Bool = false) -> (loss: Double, gradient: [Float]) {
    var gradient = [Float](repeating: 0, count: fake.count)
    let loss = fake.withUnsafeBufferPointer { s in
      gradient.withUnsafeMutableBufferPointer { g in
        generatorLoss(fake: s.baseAddress!, count: fake.count, gradient: g.baseAddress!, nonSaturating: nonSaturating)
      }
    }
    return (loss, gradient)
  }

  // MARK: - Stable scalar pieces

  /// softplus(x) = log(1 + eˣ) = max(x, 0) + log1p(e^{−|x|}): no overflow, and no log of a
  /// rounded 1 + tiny.
  @inline(__always)
  static func softplus(_ x: Double) -> Double { max(x, 0) + log1p(exp(-Swift.abs(x))) }

  /// σ(x) = 1/(1 + e^{−x}), through e^{−|x|} so that neither branch overflows.
  @inline(__always)
  static func sigmoid(_ x: Double) -> Double {
    let e = exp(-Swift.abs(x))
    return x >= 0 ? 1 / (1 + e) : e / (1 + e)
  }
}
