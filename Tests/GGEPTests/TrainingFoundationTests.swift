import Foundation
import XCTest

@testable import GGEPCore
@testable import GGEPPrior
@testable import GGEPNumerics
@testable import GGEPModels
@testable import GGEPConfig
@testable import GGEPPipeline
@testable import GGEPPlot
@testable import GGEPCluster
@testable import GGEPComponents
@testable import GGEPKindGEP
@testable import GGEPKindInversion
@testable import GGEPPriors
@testable import GGEPBench
@testable import GGEPBuiltIns

/// The numerical foundations of generator training (docs/mathematics.md §11): the adversarial loss family A/B/C,
/// spectral normalisation, batch normalisation in training mode and the kernel criteria
/// (Cauchy–Schwarz, MMD²), each against an independent Double computation, central finite
/// differences, or a hand computation. Every test prints the errors it measured.
final class TrainingFoundationTests: GGEPTestCase {
  // MARK: - Helpers

  /// max |a − b| / max(max |b|, floor): a norm-wise relative error.
  func relativeError(_ a: [Double], _ b: [Double], floor: Double = 1e-30) -> Double {
    precondition(a.count == b.count)
    let scale = max(b.map(Swift.abs).max() ?? 0, floor)
    return zip(a, b).map { Swift.abs($0 - $1) }.max()! / scale
  }

  func format(_ x: Double) -> String { String(format: "%.2e", x) }

  func gaussianMatrix(_ rows: Int, _ cols: Int, _ rng: inout RandomStream, mean: Double = 0, scale: Double = 1) -> Matrix<Float> {
    Matrix(rows: rows, cols: cols, storage: rng.normals(rows * cols, scale: scale).map { Float(mean + $0) })
  }

  // MARK: - Adversarial loss family

  /// docs/mathematics.md §11 defines the family by ψ′ = ρ and φ′ = −ω⁻¹ρ: the derivatives written out from φ and
  /// ψ satisfy both identities pointwise, agree with central differences of φ and ψ, and ω⁻¹
  /// inverts ω. The three read from their config names.
  func testFamilyDerivativesAreMinusOmegaInverseTimesRhoAndRho() throws {
    let names = try JSONDecoder().decode([AdversarialLoss].self, from: Data(#"["mean-square", "exponential", "cross-entropy"]"#.utf8))
    XCTAssertEqual(names, [.meanSquare, .exponential, .crossEntropy], "the names a config writes")
    for loss in AdversarialLoss.allCases {
      let points: [Double] =
        loss == .crossEntropy ? stride(from: 0.02, through: 0.98, by: 0.04).map { $0 } : stride(from: -3.0, through: 3.0, by: 0.25).map { $0 }
      var identity = 0.0, differences = 0.0, inverse = 0.0
      for z in points {
        let phiPrime = loss.phiDerivative(z), psiPrime = loss.psiDerivative(z)
        // Relative, with a floor of 1 where φ′ crosses zero (case A at z = 0).
        identity = max(identity, Swift.abs(phiPrime + loss.omegaInverse(z) * loss.rho(z)) / max(Swift.abs(phiPrime), 1))
        identity = max(identity, Swift.abs(psiPrime - loss.rho(z)) / max(Swift.abs(psiPrime), 1))
        let h = 1e-6
        let phiDifference = (loss.phi(z + h) - loss.phi(z - h)) / (2 * h)
        let psiDifference = (loss.psi(z + h) - loss.psi(z - h)) / (2 * h)
        differences = max(differences, Swift.abs(phiDifference - phiPrime) / max(Swift.abs(phiPrime), 1))
        differences = max(differences, Swift.abs(psiDifference - psiPrime) / max(Swift.abs(psiPrime), 1))
        inverse = max(inverse, Swift.abs(loss.omega(loss.omegaInverse(z)) - z) / max(Swift.abs(z), 1e-3))
      }
      print("\(loss.rawValue): φ′ = −ω⁻¹ρ, ψ′ = ρ to \(format(identity)); finite differences to \(format(differences)); ω(ω⁻¹(z)) = z to \(format(inverse))")
      XCTAssertLessThan(identity, 1e-14, "\(loss)")
      XCTAssertLessThan(differences, 1e-8, "\(loss)")
      XCTAssertLessThan(inverse, 1e-14, "\(loss)")
    }
  }

  /// Golden-section maximisation on [a, b] of a unimodal function (≈ 1e-8 relative in the
  /// argument: the maximum is flat to second order).
  func maximise(_ a: Double, _ b: Double, _ f: (Double) -> Double) -> Double {
    let ratio = (5.0.squareRoot() - 1) / 2
    var (lo, hi) = (a, b)
    var x1 = hi - ratio * (hi - lo), x2 = lo + ratio * (hi - lo)
    var (f1, f2) = (f(x1), f(x2))
    for _ in 0..<300 {
      if f1 < f2 {
        lo = x1
        (x1, f1) = (x2, f2)
        x2 = lo + ratio * (hi - lo)
        f2 = f(x2)
      } else {
        hi = x2
        (x2, f2) = (x1, f1)
        x1 = hi - ratio * (hi - lo)
        f1 = f(x1)
      }
    }
    return (lo + hi) / 2
  }

  /// On a two-point distribution (f, g) = (0.7, 0.2) and (0.3, 0.8), the maximiser of
  /// f φ(D) + g ψ(D) found by a golden-section search — over D with φ, ψ, and over the raw output
  /// t with the stable batch terms — is ω(g/f) at each point; and the batch gradient of Ĵ (10
  /// data rows: 7 at point 1, 3 at point 2; 10 generated: 2 and 8) vanishes per point there while
  /// Ĵ drops when the outputs move.
  func testOptimalDiscriminatorIsOmegaOfTheDensityRatio() {
    let f = [0.7, 0.3], g = [0.2, 0.8]
    for loss in AdversarialLoss.allCases {
      var valueError = 0.0, rawError = 0.0
      var optimum = [Double]()
      for p in 0..<2 {
        let expected = loss.omega(g[p] / f[p])
        let (a, b) = loss == .crossEntropy ? (1e-9, 1 - 1e-9) : (-10.0, 10.0)
        let found = maximise(a, b) { f[p] * loss.phi($0) + g[p] * loss.psi($0) }
        valueError = max(valueError, Swift.abs(found - expected))
        let foundRaw = maximise(-30, 30) { f[p] * loss.realTerm($0).value + g[p] * loss.fakeTerm($0).value }
        rawError = max(rawError, Swift.abs(loss.discriminatorValue(foundRaw) - expected))
        optimum.append(loss.rawOutput(forValue: expected))
      }
      func batch(_ t: [Double]) -> (objective: Double, perPoint: [Double]) {
        let real = (0..<10).map { Float($0 < 7 ? t[0] : t[1]) }
        let fake = (0..<10).map { Float($0 < 2 ? t[0] : t[1]) }
        let (objective, gt, gs) = loss.discriminatorObjective(real: real, fake: fake)
        var perPoint = [0.0, 0.0]
        for i in 0..<10 { perPoint[i < 7 ? 0 : 1] += Double(gt[i]) }
        for j in 0..<10 { perPoint[j < 2 ? 0 : 1] += Double(gs[j]) }
        return (objective, perPoint)
      }
      let (best, stationarity) = batch(optimum)
      let stationary = stationarity.map(Swift.abs).max()!
      var smallestDrop = Double.infinity
      for shift in [(0.05, 0.0), (-0.05, 0.0), (0.0, 0.05), (0.0, -0.05)] {
        let moved = batch([optimum[0] + shift.0, optimum[1] + shift.1]).objective
        smallestDrop = min(smallestDrop, best - moved)
      }
      print("\(loss.rawValue): argmax over D − ω(g/f) \(format(valueError)), over t \(format(rawError)); batch gradient at the optimum \(format(stationary)); smallest drop of Ĵ at ±0.05 \(format(smallestDrop))")
      XCTAssertLessThan(valueError, 1e-6, "\(loss)")
      XCTAssertLessThan(rawError, 1e-6, "\(loss)")
      XCTAssertLessThan(stationary, 1e-6, "\(loss)")
      XCTAssertGreaterThan(smallestDrop, 1e-5, "\(loss)")
    }
  }

  /// φ(D(t)), ψ(D(t)) straight from docs/mathematics.md §11's table (naive sigmoid: only for moderate t).
  func naiveTerms(_ loss: AdversarialLoss, _ t: Double) -> (real: Double, fake: Double) {
    let d = loss == .crossEntropy ? 1 / (1 + exp(-t)) : t
    return (loss.phi(d), loss.psi(d))
  }

  /// Ĵ and the generator's loss of the batch API equal a naive Double evaluation of the table
  /// (10⁻¹²), and their Float gradients equal central differences (h = 1e-5) of it to Float
  /// rounding (2e-7 relative, elementwise); the generator's minimax gradient is the
  /// discriminator's fake-row gradient bit for bit; scale −1 negates exactly.
  func testBatchGradientsMatchFiniteDifferences() {
    for loss in AdversarialLoss.allCases {
      var rng = RandomStream(seed: 11, key: loss.rawValue)
      let real = rng.normals(6, scale: 1.5).map(Float.init)
      let fake = rng.normals(5, scale: 1.5).map { Float($0 + 0.5) }
      let (objective, realGradient, fakeGradient) = loss.discriminatorObjective(real: real, fake: fake)
      func reference(_ t: [Double], _ s: [Double]) -> Double {
        t.map { naiveTerms(loss, $0).real }.reduce(0, +) / Double(t.count) + s.map { naiveTerms(loss, $0).fake }.reduce(0, +) / Double(s.count)
      }
      let (t0, s0) = (real.map(Double.init), fake.map(Double.init))
      let valueError = Swift.abs(objective - reference(t0, s0)) / Swift.abs(reference(t0, s0))
      let h = 1e-5
      var gradientError = 0.0
      for i in 0..<t0.count {
        var (plus, minus) = (t0, t0)
        plus[i] += h
        minus[i] -= h
        let numeric = (reference(plus, s0) - reference(minus, s0)) / (2 * h)
        gradientError = max(gradientError, Swift.abs(Double(realGradient[i]) - numeric) / Swift.abs(numeric))
      }
      for j in 0..<s0.count {
        var (plus, minus) = (s0, s0)
        plus[j] += h
        minus[j] -= h
        let numeric = (reference(t0, plus) - reference(t0, minus)) / (2 * h)
        gradientError = max(gradientError, Swift.abs(Double(fakeGradient[j]) - numeric) / Swift.abs(numeric))
      }
      // The generator minimises the ψ-mean of Ĵ: same value as Ĵ minus its φ-mean, same gradient.
      let generator = loss.generatorLoss(fake: fake)
      let realMean = t0.map { naiveTerms(loss, $0).real }.reduce(0, +) / Double(t0.count)
      XCTAssertEqual(generator.loss, objective - realMean, accuracy: 1e-12 * Swift.abs(objective) + 1e-14, "\(loss)")
      XCTAssertEqual(generator.gradient.map(\.bitPattern), fakeGradient.map(\.bitPattern), "\(loss)")
      var negated = [Float](repeating: 0, count: fake.count)
      _ = fake.withUnsafeBufferPointer { s in
        negated.withUnsafeMutableBufferPointer { loss.generatorLoss(fake: s.baseAddress!, count: fake.count, gradient: $0.baseAddress!, scale: -1) }
      }
      XCTAssertEqual(negated.map(\.bitPattern), generator.gradient.map { (-$0).bitPattern }, "\(loss)")
      var nonSaturatingError = 0.0
      if loss.hasNonSaturatingVariant {
        // −(1/m) Σ log(1 − D(s)), the usual "maximise log D_real" with D_real = 1 − D here.
        func nonSaturating(_ s: [Double]) -> Double { -s.map { log(1 - 1 / (1 + exp(-$0))) }.reduce(0, +) / Double(s.count) }
        let variant = loss.generatorLoss(fake: fake, nonSaturating: true)
        nonSaturatingError = Swift.abs(variant.loss - nonSaturating(s0)) / Swift.abs(nonSaturating(s0))
        for j in 0..<s0.count {
          var (plus, minus) = (s0, s0)
          plus[j] += h
          minus[j] -= h
          let numeric = (nonSaturating(plus) - nonSaturating(minus)) / (2 * h)
          nonSaturatingError = max(nonSaturatingError, Swift.abs(Double(variant.gradient[j]) - numeric) / Swift.abs(numeric))
        }
      }
      let variantReport = loss.hasNonSaturatingVariant ? format(nonSaturatingError) : "n/a"
      print("\(loss.rawValue): Ĵ vs naive Double \(format(valueError)); ∂Ĵ/∂t vs central differences \(format(gradientError)) (max relative); non-saturating generator \(variantReport)")
      XCTAssertLessThan(valueError, 1e-12, "\(loss)")
      XCTAssertLessThan(gradientError, 2e-7, "\(loss)")
      XCTAssertLessThan(nonSaturatingError, 2e-7, "\(loss)")
    }
  }

  /// Case C where σ(t) rounds to 0 or 1: log(1 − σ(200)) naively is log 0 = −∞, the stable terms
  /// give −200 and −e^{−200}; a batch at t = ±100 has a finite Ĵ; and at t = 8 (the
  /// discriminator sure a row is generated) the non-saturating gradient is e⁸ ≈ 2981 times the
  /// minimax one, which is why it exists.
  func testCrossEntropyIsStableWhereTheSigmoidRounds() {
    let loss = AdversarialLoss.crossEntropy
    XCTAssertEqual(naiveTerms(loss, 200).real, -.infinity, "the naive form this guards against")
    XCTAssertEqual(loss.realTerm(200).value, -200, accuracy: 1e-13)
    XCTAssertEqual(loss.realTerm(200).derivative, -1)
    XCTAssertEqual(loss.fakeTerm(-200).value, -200, accuracy: 1e-13)
    XCTAssertEqual(loss.fakeTerm(-200).derivative, 1)
    let tail = exp(-200.0)
    XCTAssertEqual(loss.realTerm(-200).value, -tail, accuracy: 1e-14 * tail)
    XCTAssertEqual(loss.fakeTerm(200).value, -tail, accuracy: 1e-14 * tail)
    XCTAssertEqual(loss.fakeTerm(200).derivative, tail, accuracy: 1e-14 * tail)
    let (objective, realGradient, fakeGradient) = loss.discriminatorObjective(real: [100, -100], fake: [-100, 100])
    // Real rows: −softplus(100) − softplus(−100) ≈ −100; generated: −softplus(100) − softplus(−100) ≈ −100.
    XCTAssertEqual(objective, -100, accuracy: 1e-12)
    XCTAssertEqual(realGradient, [-0.5, -Float(exp(-100.0) / 2)])
    XCTAssertEqual(fakeGradient, [0.5, Float(exp(-100.0) / 2)])
    let minimax = loss.generatorLoss(fake: [8]).gradient[0]
    let nonSaturating = loss.generatorLoss(fake: [8], nonSaturating: true).gradient[0]
    let ratio = Double(nonSaturating) / Double(minimax)
    print("cross-entropy at t = 8: non-saturating / minimax gradient \(ratio) (e⁸ = \(exp(8.0)))")
    XCTAssertEqual(ratio, exp(8.0), accuracy: 1e-6 * exp(8.0))
  }

  // MARK: - Spectral normalisation

  /// Power iteration with a persistent u, one iteration per call, converges to LAPACK's largest
  /// singular value (1e-4 relative) for a tall and a wide matrix; the estimate never exceeds it
  /// (uᵀWv ≤ σ_max for unit u, v); W/σ has spectral norm 1; and the same seed gives the same bits.
  func testPowerIterationConvergesToTheSpectralNorm() throws {
    for (rows, cols) in [(12, 7), (7, 12)] {
      var rng = RandomStream(seed: 3, key: "\(rows)x\(cols)")
      let w = gaussianMatrix(rows, cols, &rng)
      let exact = try LAPACK.spectralNorm(w.asDouble)
      var sn = SpectralNormalization(rows: rows, cols: cols, rng: &rng)
      var twin = sn
      var first = 0.0
      var overshoot = -Double.infinity
      w.storage.withUnsafeBufferPointer { wp in
        for step in 0..<300 {
          let sigma = Double(sn.powerIteration(weights: wp.baseAddress!))
          if step == 0 { first = Swift.abs(sigma - exact) / exact }
          overshoot = max(overshoot, (sigma - exact) / exact)
        }
        twin.powerIteration(weights: wp.baseAddress!, iterations: 300)
      }
      let error = Swift.abs(Double(sn.sigma) - exact) / exact
      var copy = sn
      let normalizedNorm = try LAPACK.spectralNorm(copy.normalized(w).asDouble)
      print("\(rows)×\(cols): σ after 1 iteration off by \(format(first)), after 300 by \(format(error)); largest overshoot \(format(overshoot)); ‖W/σ‖₂ − 1 = \(format(normalizedNorm - 1))")
      XCTAssertLessThan(error, 1e-4)
      XCTAssertLessThan(overshoot, 1e-6)
      XCTAssertEqual(normalizedNorm, 1, accuracy: 1e-4)
      XCTAssertEqual(twin.u.map(\.bitPattern), sn.u.map(\.bitPattern), "one call of 300 iterations = 300 calls of one")
      XCTAssertEqual(twin.sigma.bitPattern, sn.sigma.bitPattern)
    }
  }

  /// ∂L/∂W = (G − ⟨G, W_sn⟩ u vᵀ)/σ for L(W) = ⟨C, W/σ_max(W)⟩ with converged u, v (2000
  /// iterations), against central differences (h = 1e-6) of L in Double with σ_max from LAPACK;
  /// and ⟨∂L/∂W, W⟩ = 0 (L is invariant to scaling W).
  func testSpectralNormalizationBackwardMatchesFiniteDifferences() throws {
    var rng = RandomStream(seed: 8)
    let (rows, cols) = (6, 4)
    let w = gaussianMatrix(rows, cols, &rng)
    let c = gaussianMatrix(rows, cols, &rng)
    var sn = SpectralNormalization(rows: rows, cols: cols, rng: &rng)
    let wsn = sn.normalized(w, iterations: 2000)
    let gradient = sn.weightGradient(c, normalizedWeights: wsn)
    let exactSigma = try LAPACK.spectralNorm(w.asDouble)
    XCTAssertEqual(Double(sn.sigma), exactSigma, accuracy: 1e-6 * exactSigma, "the vectors converged")
    func objective(_ m: Matrix<Double>) throws -> Double {
      try zip(c.storage, m.storage).reduce(0) { $0 + Double($1.0) * $1.1 } / LAPACK.spectralNorm(m)
    }
    let h = 1e-6
    var numeric = [Double]()
    for k in 0..<(rows * cols) {
      var (plus, minus) = (w.asDouble, w.asDouble)
      plus.storage[k] += h
      minus.storage[k] -= h
      numeric.append(try (objective(plus) - objective(minus)) / (2 * h))
    }
    let error = relativeError(gradient.storage.map(Double.init), numeric)
    let radial = zip(gradient.storage, w.storage).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
    let radialScale = norm(gradient.storage.map(Double.init)) * norm(w.storage.map(Double.init))
    print("spectral-norm backward vs central differences: \(format(error)) (norm-wise); ⟨∂L/∂W, W⟩/(‖∂L/∂W‖‖W‖) = \(format(radial / radialScale))")
    XCTAssertLessThan(error, 1e-5)
    XCTAssertLessThan(Swift.abs(radial) / radialScale, 1e-6)
  }

  // MARK: - Batch normalisation in training mode

  /// y = γ (x − μ)/√(σ² + ε) + β in Double, the batch's own biased statistics.
  func batchNormReference(_ x: [Double], rows: Int, features f: Int, gamma: [Double], beta: [Double], epsilon: Double) -> [Double] {
    var y = [Double](repeating: 0, count: x.count)
    for j in 0..<f {
      let column = (0..<rows).map { x[$0 * f + j] }
      let mean = column.reduce(0, +) / Double(rows)
      let variance = column.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(rows)
      for r in 0..<rows { y[r * f + j] = gamma[j] * (x[r * f + j] - mean) / (variance + epsilon).squareRoot() + beta[j] }
    }
    return y
  }

  /// The forward against the Double reference, and ∂L/∂x, ∂L/∂γ, ∂L/∂β of L = ⟨C, y⟩ against
  /// central differences (h = 1e-6) of it, for a batch of 5 rows × 3 features laid out at offset
  /// 4 of a parameter buffer.
  func testBatchNormBackwardMatchesFiniteDifferences() {
    var rng = RandomStream(seed: 21)
    let (rows, f) = (5, 3)
    let bn = TrainingBatchNorm(features: f, offset: 4)
    var parameters = [Float](repeating: 0, count: 4 + 2 * f)
    for j in 0..<f {
      parameters[bn.gammaOffset + j] = Float(1 + 0.4 * rng.normal())
      parameters[bn.betaOffset + j] = Float(rng.normal())
    }
    let x = gaussianMatrix(rows, f, &rng, mean: 2, scale: 1.5).storage
    let c = rng.normals(rows * f)
    let delta = c.map(Float.init)
    let ws = bn.makeWorkspace(rows: rows)
    var y = [Float](repeating: 0, count: rows * f)
    var gradient = [Float](repeating: 0, count: parameters.count)
    var dx = [Float](repeating: 0, count: rows * f)
    parameters.withUnsafeBufferPointer { p in
      bn.forward(parameters: p.baseAddress!, input: x, output: &y, workspace: ws)
      bn.backward(parameters: p.baseAddress!, outputGradient: delta, workspace: ws, gradient: &gradient, inputGradient: &dx)
    }
    let gamma = (0..<f).map { Double(parameters[bn.gammaOffset + $0]) }
    let beta = (0..<f).map { Double(parameters[bn.betaOffset + $0]) }
    let xd = x.map(Double.init)
    let eps = Double(bn.epsilon)
    let forwardError = relativeError(y.map(Double.init), batchNormReference(xd, rows: rows, features: f, gamma: gamma, beta: beta, epsilon: eps))
    func loss(_ x: [Double], _ gamma: [Double], _ beta: [Double]) -> Double {
      zip(batchNormReference(x, rows: rows, features: f, gamma: gamma, beta: beta, epsilon: eps), c).reduce(0) { $0 + $1.0 * $1.1 }
    }
    let h = 1e-6
    var numericX = [Double](), numericGamma = [Double](), numericBeta = [Double]()
    for k in 0..<(rows * f) {
      var (plus, minus) = (xd, xd)
      plus[k] += h
      minus[k] -= h
      numericX.append((loss(plus, gamma, beta) - loss(minus, gamma, beta)) / (2 * h))
    }
    for j in 0..<f {
      var (plus, minus) = (gamma, gamma)
      plus[j] += h
      minus[j] -= h
      numericGamma.append((loss(xd, plus, beta) - loss(xd, minus, beta)) / (2 * h))
      (plus, minus) = (beta, beta)
      plus[j] += h
      minus[j] -= h
      numericBeta.append((loss(xd, gamma, plus) - loss(xd, gamma, minus)) / (2 * h))
    }
    let xError = relativeError(dx.map(Double.init), numericX)
    let gammaError = relativeError((0..<f).map { Double(gradient[bn.gammaOffset + $0]) }, numericGamma)
    let betaError = relativeError((0..<f).map { Double(gradient[bn.betaOffset + $0]) }, numericBeta)
    print("batch norm: forward vs Double \(format(forwardError)); ∂L/∂x \(format(xError)), ∂L/∂γ \(format(gammaError)), ∂L/∂β \(format(betaError)) vs central differences (norm-wise)")
    XCTAssertLessThan(forwardError, 1e-6)
    XCTAssertLessThan(xError, 1e-5)
    XCTAssertLessThan(gammaError, 1e-5)
    XCTAssertLessThan(betaError, 1e-5)
    XCTAssertEqual(gradient[0..<4], [0, 0, 0, 0], "nothing written outside the layer's parameters")
  }

  /// Two training batches by hand: feature 0 = (1, 2, 3, 6): μ = 3, σ² = 3.5, unbiased 14/3;
  /// feature 1 = (−1, −1, 1, 1): μ = 0, σ² = 1, unbiased 4/3. From μ̄ = 0, σ̄² = 1 with momentum
  /// 0.1: μ̄ = (0.3, 0), σ̄² = (0.9 + 1.4/3, 0.9 + 0.4/3); the same batch again: μ̄ = (0.57, 0),
  /// σ̄² = (0.9 σ̄² + 1.4/3, 0.9 σ̄² + 0.4/3).
  func testRunningStatisticsFollowPyTorch() {
    var bn = TrainingBatchNorm(features: 2)
    var parameters = [Float](repeating: 0, count: 4)
    parameters.withUnsafeMutableBufferPointer { bn.initializeParameters($0.baseAddress!) }
    XCTAssertEqual(parameters, [1, 1, 0, 0])
    XCTAssertEqual(bn.runningMean, [0, 0])
    XCTAssertEqual(bn.runningVariance, [1, 1])
    let x: [Float] = [1, -1, 2, -1, 3, 1, 6, 1]
    let ws = bn.makeWorkspace(rows: 4)
    var y = [Float](repeating: 0, count: 8)
    parameters.withUnsafeBufferPointer { bn.forward(parameters: $0.baseAddress!, input: x, output: &y, workspace: ws) }
    XCTAssertEqual(Array(UnsafeBufferPointer(start: ws.mean, count: 2)), [3, 0])
    XCTAssertEqual(Array(UnsafeBufferPointer(start: ws.variance, count: 2)), [3.5, 1])
    XCTAssertEqual(Double(y[0]), -2 / (3.5 + 1e-5).squareRoot(), accuracy: 1e-6)
    bn.updateRunningStatistics(from: ws)
    let first: (mean: [Double], variance: [Double]) = ([0.3, 0], [0.9 + 1.4 / 3, 0.9 + 0.4 / 3])
    bn.updateRunningStatistics(from: ws)
    let second: (mean: [Double], variance: [Double]) = ([0.57, 0], first.variance.enumerated().map { 0.9 * $1 + [1.4 / 3, 0.4 / 3][$0] })
    var fresh = TrainingBatchNorm(features: 2)
    fresh.updateRunningStatistics(from: ws)
    let error = max(
      relativeError(fresh.runningMean.map(Double.init) + fresh.runningVariance.map(Double.init), first.mean + first.variance),
      relativeError(bn.runningMean.map(Double.init) + bn.runningVariance.map(Double.init), second.mean + second.variance))
    print("running statistics after one and two updates vs hand computation: \(format(error))")
    XCTAssertLessThan(error, 1e-7)
  }

  /// A training-mode forward of a batch whose statistics are the running ones equals the
  /// eval-mode layer folded into `DenseLayer(weights:bias:batchNorm:activation:)` (1e-5 relative);
  /// with the initial running statistics (0, 1) it does not.
  func testTrainingForwardAtTheRunningStatisticsEqualsTheFoldedLayer() {
    var rng = RandomStream(seed: 34)
    let (rows, fanIn, fanOut) = (8, 5, 4)
    let w = gaussianMatrix(fanIn, fanOut, &rng, scale: 0.8)
    let b = rng.normals(fanOut).map(Float.init)
    let x = gaussianMatrix(rows, fanIn, &rng, mean: 0.5)
    var bn = TrainingBatchNorm(features: fanOut)
    var parameters = [Float](repeating: 0, count: 2 * fanOut)
    for j in 0..<fanOut {
      parameters[j] = Float(1 + 0.3 * rng.normal())
      parameters[fanOut + j] = Float(0.5 * rng.normal())
    }
    let affine = FeedForwardGenerator(layers: [DenseLayer(weights: w, bias: b, activation: .identity)], summary: "affine").evaluate(x)
    let ws = bn.makeWorkspace(rows: rows)
    var training = [Float](repeating: 0, count: rows * fanOut)
    parameters.withUnsafeBufferPointer { bn.forward(parameters: $0.baseAddress!, input: affine.storage, output: &training, workspace: ws) }
    func folded(_ bn: TrainingBatchNorm) -> [Float] {
      let evaluation = parameters.withUnsafeBufferPointer { bn.evaluationMode(parameters: $0.baseAddress!) }
      let layer = DenseLayer(weights: w, bias: b, batchNorm: evaluation, activation: .identity)
      return FeedForwardGenerator(layers: [layer], summary: "folded").evaluate(x).storage
    }
    let untrained = relativeError(folded(bn).map(Double.init), training.map(Double.init))
    bn.runningMean = Array(UnsafeBufferPointer(start: ws.mean, count: fanOut))
    bn.runningVariance = Array(UnsafeBufferPointer(start: ws.variance, count: fanOut))
    let error = relativeError(folded(bn).map(Double.init), training.map(Double.init))
    print("training forward vs folded eval layer at the batch's statistics: \(format(error)); at the initial running statistics: \(format(untrained))")
    XCTAssertLessThan(error, 1e-5)
    XCTAssertGreaterThan(untrained, 0.1)
  }

  // MARK: - Kernel criteria

  /// The criteria by direct double loops in Double: sums, values and gradients, the
  /// distance as Σ (xₖ − yₖ)², never through norms.
  struct KernelReference {
    let bandwidths: [Double]

    func kernel(_ a: [Double], _ b: [Double]) -> (value: Double, weight: Double) {
      let d2 = zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
      var value = 0.0, weight = 0.0
      for h in bandwidths {
        let e = exp(-d2 / (h * h))
        value += e
        weight += 2 / (h * h) * e
      }
      return (value, weight)
    }

    /// S_xy, S_yy (i ≠ j), S_xx (i ≠ j) and ∇_Yⱼ S_xy, ∇_Yⱼ S_yy.
    func sums(_ x: [[Double]], _ y: [[Double]]) -> (xy: Double, yy: Double, xx: Double, dxy: [[Double]], dyy: [[Double]]) {
      let d = y[0].count
      var (sxy, syy, sxx) = (0.0, 0.0, 0.0)
      var dxy = [[Double]](repeating: [Double](repeating: 0, count: d), count: y.count)
      var dyy = dxy
      for (j, yj) in y.enumerated() {
        for xi in x {
          let (value, weight) = kernel(xi, yj)
          sxy += value
          for k in 0..<d { dxy[j][k] += weight * (xi[k] - yj[k]) }
        }
        for (i, yi) in y.enumerated() where i != j {
          let (value, weight) = kernel(yi, yj)
          syy += value
          for k in 0..<d { dyy[j][k] += 2 * weight * (yi[k] - yj[k]) }
        }
      }
      for (i, xi) in x.enumerated() { for (j, xj) in x.enumerated() where i != j { sxx += kernel(xi, xj).value } }
      return (sxy, syy, sxx, dxy, dyy)
    }

    func values(_ x: [[Double]], _ y: [[Double]]) -> (ratio: Double, logRatio: Double, mmd2: Double) {
      let (n, m) = (Double(x.count), Double(y.count))
      let s = sums(x, y)
      let (c, g) = (s.xy / (n * m), s.yy / (m * (m - 1)))
      return (c * c / g, 2 * log(c) - log(g), s.xx / (n * (n - 1)) + g - 2 * c)
    }

    func gradients(_ x: [[Double]], _ y: [[Double]]) -> (ratio: [Double], logRatio: [Double], mmd2: [Double]) {
      let (n, m) = (Double(x.count), Double(y.count))
      let s = sums(x, y)
      let ratio = values(x, y).ratio
      var (r, l, d) = ([Double](), [Double](), [Double]())
      for j in 0..<y.count {
        for k in 0..<y[0].count {
          let logGradient = 2 * s.dxy[j][k] / s.xy - s.dyy[j][k] / s.yy
          l.append(logGradient)
          r.append(ratio * logGradient)
          d.append(s.dyy[j][k] / (m * (m - 1)) - 2 * s.dxy[j][k] / (n * m))
        }
      }
      return (r, l, d)
    }
  }

  func rows(_ m: Matrix<Float>) -> [[Double]] { (0..<m.rows).map { m.row($0).map(Double.init) } }

  /// n = 7, m = 5, d = 4, bandwidths 1.5 and 4: the GEMM-based values and gradients equal the
  /// direct double loops in Double (1e-5 relative, the gradient norm-wise), and a second call
  /// gives the same bits.
  func testKernelCriteriaMatchADirectDoubleComputation() {
    var rng = RandomStream(seed: 55)
    let x = gaussianMatrix(7, 4, &rng)
    let y = gaussianMatrix(5, 4, &rng, mean: 0.5, scale: 1.2)
    let criteria = KernelCriteria(bandwidths: [1.5, 4])
    let reference = KernelReference(bandwidths: [1.5, 4])
    let (expected, expectedGradient) = (reference.values(rows(x), rows(y)), reference.gradients(rows(x), rows(y)))
    let logCS = criteria.cauchySchwarz(data: x, generated: y)
    let ratioCS = criteria.cauchySchwarz(data: x, generated: y, of: .ratio)
    let mmd = criteria.mmd2(data: x, generated: y)
    let valueErrors = [
      Swift.abs(logCS.value.ratio - expected.ratio) / expected.ratio,
      Swift.abs(logCS.value.logRatio - expected.logRatio) / Swift.abs(expected.logRatio),
      Swift.abs(mmd.value - expected.mmd2) / Swift.abs(expected.mmd2),
    ]
    let gradientErrors = [
      relativeError(ratioCS.gradient.storage.map(Double.init), expectedGradient.ratio),
      relativeError(logCS.gradient.storage.map(Double.init), expectedGradient.logRatio),
      relativeError(mmd.gradient.storage.map(Double.init), expectedGradient.mmd2),
    ]
    print("kernel criteria vs direct Double loops (Ĵ, log Ĵ, MMD²): values \(valueErrors.map(format)), gradients \(gradientErrors.map(format)) (norm-wise); Ĵ = \(expected.ratio), MMD² = \(expected.mmd2)")
    for e in valueErrors + gradientErrors { XCTAssertLessThan(e, 1e-5) }
    XCTAssertEqual(ratioCS.value, logCS.value)
    let again = criteria.mmd2(data: x, generated: y)
    XCTAssertEqual(again.value.bitPattern, mmd.value.bitPattern)
    XCTAssertEqual(again.gradient.storage.map(\.bitPattern), mmd.gradient.storage.map(\.bitPattern))
  }

  /// The same batch: each gradient against central differences (h = 1e-5) of the Double
  /// reference value, entry by entry of Y (1e-5 norm-wise).
  func testKernelCriteriaGradientsMatchFiniteDifferences() {
    var rng = RandomStream(seed: 55)
    let x = gaussianMatrix(7, 4, &rng)
    let y = gaussianMatrix(5, 4, &rng, mean: 0.5, scale: 1.2)
    let criteria = KernelCriteria(bandwidths: [1.5, 4])
    let reference = KernelReference(bandwidths: [1.5, 4])
    let computed = [
      criteria.cauchySchwarz(data: x, generated: y, of: .ratio).gradient, criteria.cauchySchwarz(data: x, generated: y).gradient,
      criteria.mmd2(data: x, generated: y).gradient,
    ]
    let (xr, yr) = (rows(x), rows(y))
    let h = 1e-5
    var numeric = [[Double]](repeating: [], count: 3)
    for j in 0..<5 {
      for k in 0..<4 {
        var (plus, minus) = (yr, yr)
        plus[j][k] += h
        minus[j][k] -= h
        let (a, b) = (reference.values(xr, plus), reference.values(xr, minus))
        numeric[0].append((a.ratio - b.ratio) / (2 * h))
        numeric[1].append((a.logRatio - b.logRatio) / (2 * h))
        numeric[2].append((a.mmd2 - b.mmd2) / (2 * h))
      }
    }
    let errors = (0..<3).map { relativeError(computed[$0].storage.map(Double.init), numeric[$0]) }
    print("kernel gradients (Ĵ, log Ĵ, MMD²) vs central differences: \(errors.map(format)) (norm-wise)")
    for e in errors { XCTAssertLessThan(e, 1e-5) }
  }

  /// n = m = 200 in d = 2, bandwidths 0.5, 1, 2, data N(0, I). Y = X (rows reversed): MMD² is
  /// exactly 2(k̄ − H)/n (k̄ the data's within mean, H = 3 bandwidths), a negative number of the
  /// size of the estimator's noise, and Ĵ = ((n(n−1)k̄ + nH)/n²)²/k̄. An independent sample of the
  /// same law: Ĵ within 5 % of the bound k̄ = Ê K(X¹, X²), |MMD²| below 2H/n. Shifting Y by
  /// 0.5, 1, 2 along one axis: Ĵ falls below the bound and keeps falling, MMD² grows (already
  /// at 0.5 to more than 3 times the independent sample's).
  func testKernelCriteriaSeparateMatchingFromShiftedSamples() {
    var rng = RandomStream(seed: 89)
    let (n, d) = (200, 2)
    let x = gaussianMatrix(n, d, &rng)
    let same = gaussianMatrix(n, d, &rng)
    let criteria = KernelCriteria(bandwidths: [0.5, 1, 2])
    let bound = criteria.dataKernelMean(x)
    var reversed = Matrix<Float>(rows: n, cols: d)
    for i in 0..<n { reversed.setRow(i, x.row(n - 1 - i)) }
    let h = 3.0
    let identicalMMD = criteria.mmd2(data: x, generated: reversed).value
    let identicalCS = criteria.cauchySchwarz(data: x, generated: reversed).value.ratio
    let expectedMMD = 2 * (bound - h) / Double(n)
    let crossMean = (Double(n * (n - 1)) * bound + Double(n) * h) / Double(n * n)
    let expectedCS = crossMean * crossMean / bound
    let sameMMD = criteria.mmd2(data: x, generated: same).value
    let sameCS = criteria.cauchySchwarz(data: x, generated: same).value.ratio
    var shiftedCS = [Double](), shiftedMMD = [Double]()
    for shift in [0.5, 1, 2] {
      var moved = same
      for i in 0..<n { moved[i, 0] += Float(shift) }
      shiftedCS.append(criteria.cauchySchwarz(data: x, generated: moved).value.ratio)
      shiftedMMD.append(criteria.mmd2(data: x, generated: moved).value)
    }
    print("bound k̄ = \(bound); Y = X: Ĵ = \(identicalCS) (closed form \(expectedCS)), MMD² = \(identicalMMD) (closed form \(expectedMMD)); independent Y: Ĵ = \(sameCS), MMD² = \(sameMMD); shifted 0.5/1/2: Ĵ = \(shiftedCS), MMD² = \(shiftedMMD)")
    XCTAssertEqual(identicalMMD, expectedMMD, accuracy: 1e-4 * Swift.abs(expectedMMD))
    XCTAssertEqual(identicalCS, expectedCS, accuracy: 1e-5 * expectedCS)
    XCTAssertLessThan(identicalMMD, 0)
    XCTAssertEqual(sameCS, bound, accuracy: 0.05 * bound)
    XCTAssertLessThan(Swift.abs(sameMMD), 2 * h / Double(n))
    XCTAssertLessThan(shiftedCS[0], sameCS)
    XCTAssertLessThan(shiftedCS[0], bound)
    XCTAssertLessThan(shiftedCS[1], shiftedCS[0])
    XCTAssertLessThan(shiftedCS[2], shiftedCS[1])
    XCTAssertGreaterThan(identicalCS, shiftedCS.max()!)
    XCTAssertGreaterThan(shiftedMMD[0], 3 * Swift.abs(sameMMD))
    XCTAssertGreaterThan(shiftedMMD[1], shiftedMMD[0])
    XCTAssertGreaterThan(shiftedMMD[2], shiftedMMD[1])
  }
}
