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

/// Layer-wise inversion (docs/mathematics.md §10): the LP inversion of one layer.
final class InversionTests: GGEPTestCase {
  /// A random ReLU layer in × out, W ~ N(0, 1/in), optional bias.
  func layer(_ fanIn: Int, _ fanOut: Int, bias: Bool, seed: UInt64) -> (Matrix<Double>, [Double]) {
    var rng = RandomStream(seed: seed, key: "lp-layer")
    let w = Matrix(rows: fanIn, cols: fanOut, storage: rng.normals(fanIn * fanOut, scale: 1 / Double(fanIn).squareRoot()))
    return (w, bias ? rng.normals(fanOut, scale: 0.3) : [])
  }

  func forward(_ w: Matrix<Double>, _ b: [Double], _ h: [Double]) -> [Double] {
    (0..<w.cols).map { j in
      max((0..<w.rows).reduce(b.isEmpty ? 0 : b[j]) { $0 + h[$1] * w.storage[$1 * w.cols + j] }, 0)
    }
  }

  /// The realizable case: y = relu(hW + b) from a known h; the LP returns h to 1e-6, with and
  /// without bias, with h ≥ 0 (a hidden layer) or free (the latent), noiseless and ℓ∞.
  func testASingleReLULayerIsInvertedExactly() throws {
    for bias in [false, true] {
      for nonnegative in [false, true] {
        let (w, b) = layer(20, 80, bias: bias, seed: bias ? 1 : 2)
        var rng = RandomStream(seed: 7, key: "truth")
        let h = rng.normals(20).map { nonnegative ? Swift.abs($0) : $0 }
        let y = forward(w, b, h)
        for exact in [false, true] {
          let result: LPLayerInversion.Result
          do {
            result = try LPLayerInversion.invert(weights: w, bias: b, output: y, relu: true, nonnegativeInput: nonnegative, exact: exact, layer: 1)
          } catch {
            XCTFail("bias \(bias), h ≥ 0 \(nonnegative), exact \(exact): \(error)")
            continue
          }
          let error = zip(result.h, h).map { Swift.abs($0 - $1) }.max()!
          XCTAssertLessThan(error, 1e-6, "bias \(bias), h ≥ 0 \(nonnegative), exact \(exact)")
          XCTAssertLessThan(result.residual, 1e-9)
        }
      }
    }
  }

  /// A constructed noisy case with a known ℓ∞ residual: one input, two active outputs with
  /// weights 1 and y = (1 + δ, 1 − δ): the best h is 1, with residual δ.
  func testTheLInfinityLPReturnsTheKnownResidual() throws {
    let w = Matrix(rows: 1, cols: 2, storage: [1, 1])
    for delta in [0.01, 0.25] {
      let result = try LPLayerInversion.invert(weights: w, bias: [], output: [1 + delta, 1 - delta], relu: true, nonnegativeInput: true, layer: 2)
      XCTAssertEqual(result.residual, delta, accuracy: 1e-12)
      XCTAssertEqual(result.h[0], 1, accuracy: 1e-12)
    }
    // The noiseless program on the same data has no solution: a failure with the solver's status.
    XCTAssertThrowsError(
      try LPLayerInversion.invert(weights: w, bias: [], output: [1.25, 0.75], relu: true, nonnegativeInput: true, exact: true, layer: 2)
    ) { error in
      XCTAssertEqual("\(error)", "layer 2: the LP is primal infeasible (CLP status 1)")
    }
  }

  /// A random two-layer ReLU net, docs/mathematics.md §10's setting: k → n1 → n2.
  func randomNet(k: Int, n1: Int, n2: Int, bias: Bool, output: Activation = .relu, seed: UInt64 = 1) -> InversionNetwork {
    InversionNetwork(
      FeedForwardGenerator.reluMLP(widths: [k, n1, n2], bias: bias, activations: [.relu, output], seed: seed))
  }

  /// In the good regime (each layer's active count at least doubles: k = 20, n1 = 100, n2 = 625)
  /// LP inversion and the oracle recover z* of random nets to a latent SNR above 60 dB, with and
  /// without biases, and through a PLU output.
  func testLayerwiseInversionRecoversRandomNetsInTheGoodRegime() throws {
    for (bias, output) in [(false, Activation.relu), (true, .relu), (false, .plu(alpha: 0.1, c: 1))] {
      let net = randomNet(k: 20, n1: 100, n2: 625, bias: bias, output: output)
      for s in 0..<3 {
        var rng = RandomStream(seed: UInt64(s), key: "z*")
        let z = rng.normals(20)
        let x = net.forward(z).last!
        let lp = try LPInverter(network: net).invert(x)
        XCTAssertGreaterThan(signalToNoiseDB(z, lp), 60, "lp, bias \(bias), output \(output), signal \(s)")
        let oracle = try OracleInverter(network: net, truth: z).invert(x)
        XCTAssertGreaterThan(signalToNoiseDB(z, oracle), 60, "oracle, bias \(bias), output \(output)")
      }
    }
  }

  /// Per-layer SNR on known vectors, and the refusal of a layer no method can invert.
  func testSNRAndUnsupportedLayers() {
    XCTAssertEqual(signalToNoiseDB([3, 4], [3, 4]), 100)
    XCTAssertEqual(signalToNoiseDB([3, 4], [3, 4.5]), 20 * log10(5 / 0.5), accuracy: 1e-12)  // 20 dB
    XCTAssertEqual(signalToNoiseDB([1, 0], [0, 0]), 0, accuracy: 1e-12)
    let softplusNet = InversionNetwork(FeedForwardGenerator.reluMLP(widths: [3, 9, 12], bias: false, activations: [.softplus, .relu], seed: 1))
    XCTAssertEqual(
      softplusNet.unsupportedLayer(),
      "layer 1 (3 → 9) has activation softplus, which a layer-wise inversion can neither split by its support (relu) nor invert entrywise (identity, leaky-relu, sigmoid, tanh, plu)")
    XCTAssertNil(randomNet(k: 3, n1: 9, n2: 20, bias: true, output: .plu(alpha: 0.1, c: 1)).unsupportedLayer())
  }

  /// The inversion paper's claim, as behaviour: with n1 ≫ n2 (k = 20, n1 = 1000, n2 = 625) the
  /// last layer cannot be inverted layer-wise (more active hidden units than observed outputs),
  /// while gradient descent on z still finds z*.
  func testWhenTheHiddenLayerIsWiderThanTheOutputLayerwiseFailsAndAdamSucceeds() throws {
    let generator = FeedForwardGenerator.reluMLP(widths: [20, 1000, 625], bias: false, activations: [.relu, .relu], seed: 1)
    let net = InversionNetwork(generator)
    let adam = AdamInverter(generator: generator, settings: AdamProjector.Settings(steps: 400, learningRate: 0.05, restarts: 2, lambdaZ: 0))
    var lpSNR: [Double] = []
    var targets: [AdamInverter.Target] = []
    var truths: [[Double]] = []
    for s in 0..<3 {
      var rng = RandomStream(seed: UInt64(s), key: "z*")
      let z = rng.normals(20)
      let x = net.forward(z).last!
      truths.append(z)
      lpSNR.append((try? signalToNoiseDB(z, LPInverter(network: net).invert(x))) ?? -100)
      targets.append(AdamInverter.Target(x: x, rng: RandomStream(seed: UInt64(s), key: "adam")))
    }
    let adamSNR = zip(adam.invert(targets), truths).map { signalToNoiseDB($1, $0.z) }
    print("n1 ≫ n2: lp latent SNR \(lpSNR.map { String(format: "%.1f", $0) }), adam \(adamSNR.map { String(format: "%.1f", $0) })")
    XCTAssertTrue(lpSNR.allSatisfy { $0 < 40 }, "\(lpSNR)")
    XCTAssertTrue(adamSNR.allSatisfy { $0 > 40 }, "\(adamSNR)")
  }

  /// Inpainting: with a third of the outputs hidden, LP and the oracle still recover z* from the
  /// rest in the good regime.
  func testMaskedOutputsAreLeftOut() throws {
    let net = randomNet(k: 20, n1: 100, n2: 625, bias: true)
    var rng = RandomStream(seed: 4, key: "z*")
    let z = rng.normals(20)
    var x = net.forward(z).last!
    let observed = (0..<625).map { $0 % 3 != 0 }
    for j in 0..<625 where !observed[j] { x[j] = 1e6 }  // garbage where hidden: must not matter
    XCTAssertGreaterThan(signalToNoiseDB(z, try LPInverter(network: net).invert(x, observed: observed)), 60)
    XCTAssertGreaterThan(signalToNoiseDB(z, try OracleInverter(network: net, truth: z).invert(x, observed: observed)), 60)
  }

  /// The oracle knows every support, so a hidden layer's inactive entries are known zeros: with
  /// k = 10 → n₁ = 120 → n = 90 (PLU) the output has fewer equations (90) than h₁ has entries
  /// (120), but more than its ≈ 60 active ones. Solving for all of h₁ (the minimum-norm answer
  /// of an underdetermined system) fails; solving for the active entries is exact.
  func testTheOracleSolvesForTheActiveEntriesOnly() throws {
    let net = randomNet(k: 10, n1: 120, n2: 90, bias: false, output: .plu(alpha: 0.1, c: 1))
    for s in 0..<3 {
      var rng = RandomStream(seed: UInt64(s), key: "z*")
      let z = rng.normals(10)
      let h = net.forward(z)
      let active = h[0].filter { $0 > 0 }.count
      XCTAssertTrue(active < 90 && active > 10, "\(active) active of 120")
      XCTAssertGreaterThan(signalToNoiseDB(z, try OracleInverter(network: net, truth: z).invert(h.last!)), 60, "draw \(s)")
    }
  }
}
