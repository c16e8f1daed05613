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

final class GeneratorProjectionTests: GGEPTestCase {
  /// A small smooth network (softplus, sigmoid: the VAE decoder's activations) with biases.
  func smoothNetwork(k: Int = 4, h: Int = 16, n: Int = 30, seed: UInt64 = 3) -> FeedForwardGenerator {
    var rng = RandomStream(seed: seed)
    func layer(_ i: Int, _ o: Int, _ act: Activation) -> DenseLayer {
      DenseLayer(
        weights: Matrix(rows: i, cols: o, storage: rng.normals(i * o, scale: 1 / Double(i).squareRoot())).asFloat,
        bias: rng.normals(o, scale: 0.1).map(Float.init), activation: act)
    }
    return FeedForwardGenerator(layers: [layer(k, h, .softplus), layer(h, h, .softplus), layer(h, n, .sigmoid)], summary: "test")
  }

  /// The same network evaluated in Double, as an independent reference for finite differences
  /// (Float finite differences are limited by rounding, not by the pullback).
  func doubleForward(_ net: FeedForwardGenerator, _ z: [Double]) -> [Double] {
    var h = z
    for layer in net.layers {
      var out = layer.bias.isEmpty ? [Double](repeating: 0, count: layer.outputWidth) : layer.bias.map(Double.init)
      for i in 0..<layer.inputWidth {
        for j in 0..<layer.outputWidth { out[j] += h[i] * Double(layer.weights[i, j]) }
      }
      switch layer.activation {
      case .identity: break
      case .relu: out = out.map { max($0, 0) }
      case .softplus: out = out.map { max($0, 0) + log1p(exp(-Swift.abs($0))) }
      case .sigmoid: out = out.map { 1 / (1 + exp(-$0)) }
      case .leakyRelu(let a): out = out.map { $0 > 0 ? $0 : Double(a) * $0 }
      case .tanh: out = out.map { Foundation.tanh($0) }
      case .plu(let a, let c):
        out = out.map { max(Double(a) * ($0 + Double(c)) - Double(c), min(Double(a) * ($0 - Double(c)) + Double(c), $0)) }
      }
      h = out
    }
    return h
  }

  /// The pullback is the vector-Jacobian product: compare gᵀ(∂G/∂z) with central differences
  /// of z ↦ ⟨g, G(z)⟩ computed in Double on the same weights (h = 1e-5).
  func testPullbackMatchesFiniteDifferences() {
    let net = smoothNetwork()
    let (k, n, rows) = (net.latentDimension, net.outputDimension, 3)
    var rng = RandomStream(seed: 4)
    let z = rng.normals(rows * k).map(Float.init)
    let g = rng.normals(rows * n).map(Float.init)
    let ws = net.makeWorkspace(rows: rows)
    z.withUnsafeBufferPointer { net.forward($0.baseAddress!, workspace: ws) }
    var dz = [Float](repeating: 0, count: rows * k)
    g.withUnsafeBufferPointer { gp in dz.withUnsafeMutableBufferPointer { net.pullback(gp.baseAddress!, into: $0.baseAddress!, workspace: ws) } }

    // The Float forward pass agrees with the Double reference.
    let forward = ws.output
    for r in 0..<rows {
      let reference = doubleForward(net, (0..<k).map { Double(z[r * k + $0]) })
      for j in 0..<n { XCTAssertEqual(Double(forward[r * n + j]), reference[j], accuracy: 1e-5) }
    }
    let h = 1e-5
    for index in 0..<(rows * k) {
      let r = index / k
      var zr = (0..<k).map { Double(z[r * k + $0]) }
      func objective(_ zz: [Double]) -> Double {
        zip(doubleForward(net, zz), (0..<n).map { Double(g[r * n + $0]) }).reduce(0) { $0 + $1.0 * $1.1 }
      }
      zr[index % k] += h
      let plus = objective(zr)
      zr[index % k] -= 2 * h
      let minus = objective(zr)
      let numeric = (plus - minus) / (2 * h)
      let relative = Swift.abs(numeric - Double(dz[index])) / max(Swift.abs(numeric), 1e-2)
      XCTAssertLessThan(relative, 1e-4, "dz[\(index)] = \(dz[index]), finite difference \(numeric)")
    }
  }

  func testLinearGeneratorHasOrthonormalColumnsAndExactProjection() throws {
    let (gen, basis) = try FeedForwardGenerator.linear(n: 60, k: 5, seed: 1)
    let gram = matmul(basis, transposeA: true, basis)
    XCTAssertLessThan(Fixtures.maxAbsDifference(gram, .identity(5)), 1e-12)
    let projector = ExactLinearProjector(basis: basis)
    let (v, _) = Fixtures.signal(in: gen, seed: 2)
    // A point of the range projects to itself (as a unit vector), whatever its scale.
    let slot = ProjectionSlot(rng: RandomStream(seed: 0))
    let p = try projector.project(Matrix(rows: 1, cols: 60, storage: v.map { 3 * $0 }), slots: [slot])
    XCTAssertEqual(Fixtures.cosine(p.storage, v), 1, accuracy: 1e-12)
    XCTAssertEqual(norm(p.storage), 1, accuracy: 1e-12)
    XCTAssertEqual(slot.lastLoss, 0, accuracy: 1e-12)
  }

  /// Adam on a linear generator must find the exact projection of an arbitrary target.
  func testAdamProjectorAgreesWithExactProjectionOnLinearGenerator() throws {
    let (gen, basis) = try FeedForwardGenerator.linear(n: 80, k: 6, seed: 5)
    var rng = RandomStream(seed: 6)
    let targets = Matrix(rows: 4, cols: 80, storage: rng.normals(4 * 80))
    let exact = try ExactLinearProjector(basis: basis).project(targets, slots: (0..<4).map { _ in ProjectionSlot(rng: rng) })
    let adam = AdamProjector(generator: gen, steps: 300, learningRate: 0.05, restarts: 2, lambdaZ: 0)
    let slots = (0..<4).map { ProjectionSlot(rng: RandomStream(seed: UInt64($0), key: "slot")) }
    let approx = try adam.project(targets, slots: slots)
    for i in 0..<4 {
      XCTAssertGreaterThan(Fixtures.cosine(Array(exact.row(i)), Array(approx.row(i))), 0.9999)
    }
  }

  /// docs/mathematics.md §4: projecting G(z*) onto a relu-random generator's range recovers it.
  func testAdamProjectorRecoversReluRandomRangePoint() throws {
    let gen = FeedForwardGenerator.reluRandom(n: 200, k: 8, hidden: 60, seed: 7)
    var targets: [Double] = []
    var truths: [[Double]] = []
    for s in 0..<5 {
      let (v, _) = Fixtures.signal(in: gen, seed: UInt64(100 + s))
      truths.append(v)
      targets += v
    }
    for mode in AdamProjector.ScaleMode.allCases {
      let projector = AdamProjector(generator: gen, mode: mode, steps: 200, learningRate: 0.05, restarts: 3, lambdaZ: 0)
      let slots = (0..<5).map { ProjectionSlot(rng: RandomStream(seed: 1, key: "r\($0)"), oracleScale: 1) }
      let out = try projector.project(Matrix(rows: 5, cols: 200, storage: targets), slots: slots)
      for i in 0..<5 {
        XCTAssertGreaterThan(Fixtures.cosine(Array(out.row(i)), truths[i]), 0.99, "\(mode) target \(i)")
      }
    }
  }

  /// A target's projection depends only on its own slot, not on the other rows of the batch.
  func testProjectionOfARowDoesNotDependOnItsBatchmates() throws {
    let gen = smoothNetwork(n: 30)
    var rng = RandomStream(seed: 12)
    let a = rng.normals(30), b = rng.normals(30)
    let projector = AdamProjector(generator: gen, steps: 20, restarts: 2)
    let alone = try projector.project(Matrix(rows: 1, cols: 30, storage: a), slots: [ProjectionSlot(rng: RandomStream(seed: 1))])
    let paired = try projector.project(
      Matrix(rows: 2, cols: 30, storage: b + a), slots: [ProjectionSlot(rng: RandomStream(seed: 2)), ProjectionSlot(rng: RandomStream(seed: 1))])
    for (x, y) in zip(alone.storage, paired.row(1)) { XCTAssertEqual(x, y, accuracy: 1e-6) }
  }
}
