import Foundation
import XCTest

@testable import GGEPCore
@testable import GGEPModels
@testable import GGEPNumerics

/// Layer-wise inversion (SPEC 10): the LP inversion of one layer.
final class InversionTests: XCTestCase {
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
}
