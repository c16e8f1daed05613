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

/// Layered Basis-Pursuit and Latent-Pursuit (docs/mathematics.md §10): recovery of random nets in the good
/// regime, failure with n1 ≫ n2, inpainting, the solvers' optimality conditions, refusal and
/// determinism. Every method runs with its default settings.
final class PursuitTests: GGEPTestCase {
  /// A random net k → n1 → n2 (docs/mathematics.md §10's setting), seed 1 as in InversionTests.
  func randomNet(k: Int = 20, n1: Int, n2: Int = 625, bias: Bool, output: Activation = .relu) -> InversionNetwork {
    InversionNetwork(FeedForwardGenerator.reluMLP(widths: [k, n1, n2], bias: bias, activations: [.relu, output], seed: 1))
  }

  func truth(_ seed: Int) -> [Double] {
    var rng = RandomStream(seed: UInt64(seed), key: "z*")
    return rng.normals(20)
  }

  /// The three inverters at their defaults: Latent-Pursuit plain and debiased, Layered BP.
  func methods(_ net: InversionNetwork) -> [(String, ([Double], [Bool]?) throws(InversionFailure) -> (z: [Double], iterations: Int))] {
    let plain = LatentPursuit(network: net)
    let debiased = LatentPursuit(network: net, settings: .init(debias: true))
    let bp = LayeredBasisPursuit(network: net)
    return [
      (plain.name, { x, o throws(InversionFailure) in try plain.invertCounting(x, observed: o) }),
      (debiased.name, { x, o throws(InversionFailure) in try debiased.invertCounting(x, observed: o) }),
      (bp.name, { x, o throws(InversionFailure) in try bp.invertCounting(x, observed: o) }),
    ]
  }

  func ms(_ start: Date) -> Double { Date().timeIntervalSince(start) * 1000 }

  /// In the good regime (k = 20, n1 = 100, n2 = 625: each layer's active count at least
  /// doubles) all three recover z* of three draws to a latent SNR above 60 dB — without bias,
  /// with bias, and through a PLU output — and so does the forward pass of ẑ at every layer.
  func testTheGoodRegimeIsRecoveredByBothPursuits() throws {
    for (bias, output) in [(false, Activation.relu), (true, .relu), (false, .plu(alpha: 0.1, c: 1))] {
      let net = randomNet(n1: 100, bias: bias, output: output)
      for (name, invert) in methods(net) {
        var report: [String] = []
        for s in 0..<3 {
          let z = truth(s)
          let layers = net.forward(z)
          let start = Date()
          let (estimate, iterations) = try invert(layers.last!, nil)
          let time = ms(start)
          let snr = signalToNoiseDB(z, estimate)
          report.append(String(format: "%.1f dB (%d it, %.0f ms)", snr, iterations, time))
          XCTAssertGreaterThan(snr, 60, "\(name), bias \(bias), output \(output.name), z* \(s)")
          for (l, h) in net.forward(estimate).enumerated() {
            XCTAssertGreaterThan(signalToNoiseDB(layers[l], h), 60, "\(name), bias \(bias), output \(output.name), z* \(s), layer \(l + 1)")
          }
        }
        print("20-100-625 bias \(bias) output \(output.name) \(name): \(report.joined(separator: ", "))")
      }
    }
  }

  /// With n1 ≫ n2 (k = 20, n1 = 1000, n2 = 625) the last layer has more active hidden units
  /// (≈ 500) than active outputs (≈ 310): its inversion is not unique, and both layer-wise
  /// methods fail (latent SNR below 20 dB) on three draws.
  func testWhenTheHiddenLayerIsWiderThanTheOutputBothPursuitsFail() throws {
    let net = randomNet(n1: 1000, bias: false)
    let methods = [methods(net)[0], methods(net)[2]]  // plain Latent-Pursuit and Layered BP
    for (name, invert) in methods {
      var report: [String] = []
      for s in 0..<3 {
        let z = truth(s)
        let start = Date()
        let (estimate, iterations) = try invert(net.forward(z).last!, nil)
        let time = ms(start)
        let snr = signalToNoiseDB(z, estimate)
        report.append(String(format: "%.1f dB (%d it, %.0f ms)", snr, iterations, time))
        XCTAssertLessThan(snr, 20, "\(name), z* \(s)")
      }
      print("20-1000-625 \(name): \(report.joined(separator: ", "))")
    }
  }

  /// Inpainting: with a third of the outputs hidden (and garbage there), the good regime with
  /// biases is still recovered above 60 dB from the rest.
  func testMaskedOutputsAreLeftOut() throws {
    let net = randomNet(n1: 100, bias: true)
    let z = truth(4)
    var x = net.forward(z).last!
    let observed = (0..<625).map { $0 % 3 != 0 }
    for j in 0..<625 where !observed[j] { x[j] = 1e6 }  // must not matter
    for (name, invert) in methods(net) {
      let snr = signalToNoiseDB(z, try invert(x, observed).z)
      print(String(format: "20-100-625 bias, a third hidden, \(name): %.1f dB", snr))
      XCTAssertGreaterThan(snr, 60, name)
    }
  }

  /// FISTA on nonnegative lassos. With orthonormal rows the answer is closed-form,
  /// h = max(0, W(y − b) − λ); on a random design, the KKT conditions hold to 1e-8: with
  /// g = W(Wᵀh + b − y) + λ, g_i = 0 where h_i > 0 and g_i ≥ 0 where h_i = 0. And through a
  /// sigmoid (g = W(φ'(pre)(φ(pre) − y)) + λ) and with the ridge of the latent (g = … + γh = 0).
  func testFISTASatisfiesTheKKTConditions() throws {
    var rng = RandomStream(seed: 3, key: "fista")
    let (n, m) = (12, 30)
    // Closed form: W = Qᵀ with Q (m × n) orthonormal columns.
    let q = try LAPACK.orthonormalColumns(Matrix(rows: m, cols: n, storage: rng.normals(m * n)))
    let orthonormal = PursuitLayer(weights: q.transposed, bias: rng.normals(m, scale: 0.1), target: rng.normals(m), equalities: m)
    let lambda = 0.3 * orthonormal.lambdaScale
    let exact = orthonormal.pullback(zip(orthonormal.target, orthonormal.bias).map { $0 - $1 }).map { max(0, $0 - lambda) }
    XCTAssertTrue(exact.contains(0) && exact.contains { $0 > 0 }, "the test should have both active and inactive entries")
    let closed = try Pursuit.fista(orthonormal, penalty: .sparseNonnegative(lambda), iterations: 10_000, tolerance: 1e-14, layer: 1)
    XCTAssertLessThan(zip(closed.h, exact).map { Swift.abs($0 - $1) }.max()!, 1e-10)

    let w = Matrix(rows: n, cols: m, storage: rng.normals(n * m, scale: 1 / Double(n).squareRoot()))
    for activation in [Activation.identity, .sigmoid] {
      let target = activation == .sigmoid ? (0..<m).map { _ in 0.1 + 0.8 * rng.uniform() } : rng.normals(m)
      let p = PursuitLayer(weights: w, bias: rng.normals(m, scale: 0.1), target: target, equalities: m, activation: activation)
      for penalty in [PursuitPenalty.sparseNonnegative(0.2 * p.lambdaScale), .ridge(0.5)] {
        let solution = try Pursuit.fista(p, penalty: penalty, iterations: 100_000, tolerance: 1e-14, layer: 1)
        XCTAssertTrue(solution.converged, "\(activation.name), \(penalty)")
        var g = p.pullback(p.dataResidual(p.preactivation(solution.h)))
        var worst = 0.0
        switch penalty {
        case .sparseNonnegative(let lambda):
          XCTAssertTrue(solution.h.contains(0) && solution.h.contains { $0 > 0 }, "\(activation.name): both kinds of entries")
          for i in 0..<n {
            g[i] += lambda
            worst = max(worst, solution.h[i] > 0 ? Swift.abs(g[i]) : max(0, -g[i]))
            XCTAssertGreaterThanOrEqual(solution.h[i], 0)
          }
        case .ridge(let gamma):
          for i in 0..<n { worst = max(worst, Swift.abs(g[i] + gamma * solution.h[i])) }
        }
        print("FISTA KKT residual, \(activation.name), \(penalty): \(worst) after \(solution.iterations) iterations")
        XCTAssertLessThan(worst, 1e-8, "\(activation.name), \(penalty)")
      }
    }
  }

  /// The linearized ADMM on a feasible layer whose targets no h fits (so inequalities bind):
  /// the answer is feasible, W_Iᵀh + b_I ≤ 1e-10, and with its multipliers ν ≥ 0 meets the KKT
  /// conditions to 1e-9: g = W_E(W_Eᵀh + b_E − y) + W_I ν (+ λ, or + γh), g_i = 0 on free or
  /// positive entries, ≥ 0 on zero ones of a nonnegative h, and ν_j·(W_Iᵀh + b_I)_j = 0.
  func testTheLinearizedADMMMeetsItsConstraintsAndKKT() throws {
    var rng = RandomStream(seed: 5, key: "admm")
    let (n, e, i) = (10, 20, 25)
    let w = Matrix(rows: n, cols: e + i, storage: rng.normals(n * (e + i), scale: 1 / Double(n).squareRoot()))
    // Feasible: the inequalities hold with slack at a point h₀ ≥ 0.
    let h0 = rng.normals(n).map { max($0, 0) }
    var bias = rng.normals(e + i, scale: 0.3)
    let at0 = PursuitLayer(weights: w, bias: [Double](repeating: 0, count: e + i), target: [], equalities: 0).preactivation(h0)
    for j in e..<(e + i) { bias[j] = -at0[j] - 0.1 * Swift.abs(rng.normal()) }
    let p = PursuitLayer(weights: w, bias: bias, target: rng.normals(e).map { Swift.abs($0) + 0.2 }, equalities: e)
    for penalty in [PursuitPenalty.sparseNonnegative(0.05 * p.lambdaScale), .ridge(0.1)] {
      let solution = try Pursuit.linearizedADMM(p, penalty: penalty, rho: 1, iterations: 20_000, tolerance: 1e-13, layer: 1)
      XCTAssertTrue(solution.converged, "\(penalty)")
      let pre = p.preactivation(solution.h)
      let nu = solution.multipliers
      var r = [Double](repeating: 0, count: e + i)
      for j in 0..<e { r[j] = pre[j] - p.target[j] }
      for j in 0..<i { r[e + j] = nu[j] }
      var g = p.pullback(r)
      var stationarity = 0.0
      switch penalty {
      case .sparseNonnegative(let lambda):
        XCTAssertTrue(solution.h.contains(0) && solution.h.contains { $0 > 0 }, "both kinds of entries")
        for k in 0..<n {
          g[k] += lambda
          stationarity = max(stationarity, solution.h[k] > 0 ? Swift.abs(g[k]) : max(0, -g[k]))
          XCTAssertGreaterThanOrEqual(solution.h[k], 0)
        }
      case .ridge(let gamma):
        for k in 0..<n { stationarity = max(stationarity, Swift.abs(g[k] + gamma * solution.h[k])) }
      }
      let violation = (0..<i).map { pre[e + $0] }.max()!
      let slackness = (0..<i).map { Swift.abs(nu[$0] * pre[e + $0]) }.max()!
      let binding = (0..<i).filter { nu[$0] > 1e-6 }.count
      print("ADMM \(penalty): \(solution.iterations) iterations, \(binding) binding, max violation \(violation), slackness \(slackness), stationarity \(stationarity)")
      XCTAssertGreaterThan(binding, 0, "the test should have binding inequalities")
      XCTAssertTrue(nu.allSatisfy { $0 >= 0 })
      XCTAssertLessThan(violation, 1e-10, "\(penalty)")
      XCTAssertLessThan(slackness, 1e-9, "\(penalty)")
      XCTAssertLessThan(stationarity, 1e-9, "\(penalty)")
    }
  }

  /// A softplus hidden layer can neither be split by its support nor inverted entrywise: both
  /// methods refuse it, naming the layer and the activation.
  func testAnUnsupportedActivationIsRefused() {
    let net = InversionNetwork(FeedForwardGenerator.reluMLP(widths: [3, 9, 12], bias: false, activations: [.softplus, .relu], seed: 1))
    let x = net.forward([0.5, -1, 2]).last!
    for (name, invert) in methods(net) {
      XCTAssertThrowsError(try invert(x, nil), name) { error in
        guard let failure = error as? InversionFailure else { return XCTFail("\(name): \(error)") }
        XCTAssertEqual(failure.layer, 1)
        XCTAssertEqual(
          "\(failure)",
          "layer 1: \(name) cannot invert activation softplus (3 → 9): it is neither relu (split by its support) nor strictly increasing "
            + "(identity, leaky-relu, sigmoid, tanh, plu)")
      }
    }
    // Layered BP with a λ list that fits neither one value nor one per hidden layer.
    let bp = LayeredBasisPursuit(network: randomNet(k: 3, n1: 9, n2: 20, bias: false), settings: .init(lambdas: [1e-6, 1e-6]))
    XCTAssertThrowsError(try bp.invert([Double](repeating: 0, count: 20))) { error in
      XCTAssertEqual("\(error)", "layer 2: layered-bp has 2 λ values for 1 hidden layers (give one, or one per hidden layer)")
    }
  }

  /// Two calls give the same bits (ẑ and the iteration count), with biases and a mask.
  func testInversionIsBitwiseDeterministic() throws {
    let net = randomNet(n1: 100, bias: true)
    let x = net.forward(truth(1)).last!
    let observed = (0..<625).map { $0 % 4 != 1 }
    for (name, invert) in methods(net) {
      let (a, b) = (try invert(x, observed), try invert(x, observed))
      XCTAssertEqual(a.z.map(\.bitPattern), b.z.map(\.bitPattern), name)
      XCTAssertEqual(a.iterations, b.iterations, name)
    }
  }
}

/// The two settings that reproduce an independent implementation's Latent-Pursuit (a
/// continuation on λ, and the ADMM with an exact h-step): both still recover the good regime,
/// and both leave the encoding of the default settings — and so every job key — alone.
final class PursuitVariantTests: GGEPTestCase {
  func testContinuationAndTheExactADMMRecoverTheGoodRegime() throws {
    let net = InversionNetwork(FeedForwardGenerator.reluMLP(widths: [20, 100, 625], bias: false, activations: [.relu, .relu], seed: 1))
    for settings in [
      LatentPursuit.Settings(iterations: 6000, continuation: 10), LatentPursuit.Settings(solver: .admm),
      LatentPursuit.Settings(continuation: 5, solver: .admm),
    ] {
      for s in 0..<3 {
        var rng = RandomStream(seed: UInt64(s), key: "z*")
        let z = rng.normals(20)
        let (zHat, iterations) = try LatentPursuit(network: net, settings: settings).invertCounting(net.forward(z).last!, observed: nil)
        XCTAssertGreaterThan(signalToNoiseDB(z, zHat), 60, "\(settings), z* \(s)")
        XCTAssertLessThanOrEqual(iterations, 2 * settings.iterations, "\(settings)")
      }
    }
  }

  func testTheLambdaStagesAreGeometricAndEndAtLambda() {
    let stages = LatentPursuit.Settings(lambda: 1e-6, continuation: 3, lambdaStart: 1e-2).lambdaStages
    XCTAssertEqual(stages.count, 3)
    XCTAssertEqual(stages[0], 1e-2)
    XCTAssertEqual(stages[1], 1e-4, accuracy: 1e-16)
    XCTAssertEqual(stages[2], 1e-6)
    XCTAssertEqual(LatentPursuit.Settings().lambdaStages, [1e-6])
  }

  func testTheDefaultEncodingIsTheOneJobsWereKeyedBy() throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let json = String(decoding: try encoder.encode(LatentPursuit.Settings()), as: UTF8.self)
    XCTAssertEqual(json, #"{"debias":false,"gamma":1e-06,"iterations":2000,"lambda":1e-06,"rho":1,"supportThreshold":1e-05,"tolerance":1e-10}"#)
    let variant = LatentPursuit.Settings(continuation: 4, solver: .admm)
    let decoded = try JSONDecoder().decode(LatentPursuit.Settings.self, from: encoder.encode(variant))
    XCTAssertEqual(decoded, variant)
  }

  /// The exact ADMM on one overdetermined ReLU layer (a unique solution) meets its equations
  /// and inequalities and returns h ≥ 0.
  func testTheExactADMMSolvesAnOverdeterminedReLULayer() throws {
    var rng = RandomStream(seed: 3, key: "admm layer")
    let (n, out) = (30, 120)
    let w = Matrix(rows: n, cols: out, storage: rng.normals(n * out))
    let h = (0..<n).map { i in i % 3 == 0 ? 0 : Swift.abs(rng.normal()) }
    let layer = InversionNetwork.Layer(weights: w, bias: [], activation: .relu)
    var y = [Double](repeating: 0, count: out)
    for j in 0..<out { for i in 0..<n { y[j] += h[i] * w.storage[i * out + j] } }
    let active = (0..<out).filter { y[$0] > 0 }, inactive = (0..<out).filter { y[$0] <= 0 }
    let problem = PursuitLayer(layer, equalityRows: active, target: active.map { y[$0] }, inequalityRows: inactive)
    for rho in [0.1, 1] {
      let solution = try Pursuit.admm(problem, penalty: .sparseNonnegative(1e-9), rho: rho, iterations: 20000, tolerance: 1e-10, layer: 1)
      XCTAssertTrue(solution.converged, "ρ = \(rho)")
      XCTAssertTrue(solution.h.allSatisfy { $0 >= 0 })
      XCTAssertGreaterThan(signalToNoiseDB(h, solution.h), 60, "ρ = \(rho), \(solution.iterations) iterations")
    }
  }
}
