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

final class ProblemTests: GGEPTestCase {
  let n = 40

  func testSpikedPairPopulationEigenvaluesByDsygvd() throws {
    let v = Fixtures.sparseSignal(n: n, support: 12, seed: 1)
    let pair = SpikedCovariancePair(beta: 2)
    let population = pair.population(signal: v)
    let (values, vectors) = try LAPACK.generalizedEigen(population.a.dense(), population.b.dense())
    XCTAssertEqual(values[0], 3, accuracy: 1e-10)  // 1 + β
    XCTAssertEqual(values[1], 1, accuracy: 1e-10)
    XCTAssertEqual(values[n - 1], 1, accuracy: 1e-10)
    let leading = (0..<n).map { vectors[$0, 0] }
    XCTAssertEqual(Fixtures.cosine(leading, v), 1, accuracy: 1e-10)
    XCTAssertEqual(population.lambda1, 3)
    XCTAssertEqual(population.lambda2, 1)
  }

  func testPhaseRetrievalPopulationEigenvaluesByDsygvd() throws {
    let v = Fixtures.sparseSignal(n: n, support: 9, seed: 2)
    for link in PhaseRetrievalPair.Link.allCases {
      let pair = PhaseRetrievalPair(link: link)
      let population = pair.population(signal: v)
      let (values, vectors) = try LAPACK.generalizedEigen(population.a.dense(), population.b.dense())
      XCTAssertEqual(values[0], population.lambda1, accuracy: 1e-10)
      XCTAssertEqual(values[1], population.lambda2, accuracy: 1e-10)
      XCTAssertEqual(Fixtures.cosine((0..<n).map { vectors[$0, 0] }, v), 1, accuracy: 1e-10)
      switch link {
      case .square: XCTAssertEqual(values[0], 3, accuracy: 1e-10)
      case .abs: XCTAssertEqual(values[0] / values[1], 2, accuracy: 1e-10)
      }
    }
  }

  func testGeneralCovariancePopulationByDsygvd() throws {
    let v = Fixtures.sparseSignal(n: n, support: 15, seed: 3)
    let w = Fixtures.sparseSignal(n: n, support: 15, seed: 4)
    var rng = RandomStream(seed: 9)
    let choices: [Covariance] = [
      .identity, .diagonal((0..<n).map { _ in rng.uniform(0.5, 2) }), .toeplitz(r: 0.5), .spike(direction: w, gamma: 5),
    ]
    for sigma in choices {
      let pair = SpikedCovariancePair(beta: 2, covariance: sigma)
      let population = pair.population(signal: v)
      let (values, vectors) = try LAPACK.generalizedEigen(population.a.dense(), population.b.dense())
      let expected = 1 + 2 * dot(v, sigma.multiply(v))
      XCTAssertEqual(values[0], expected, accuracy: 1e-9, "\(sigma)")
      XCTAssertEqual(values[1], 1, accuracy: 1e-9, "\(sigma)")
      XCTAssertEqual(population.lambda1, expected, accuracy: 1e-12)
      XCTAssertEqual(Fixtures.cosine((0..<n).map { vectors[$0, 0] }, v), 1, accuracy: 1e-9, "\(sigma)")
    }
  }

  /// Σ v and the sampling factor L agree with the dense Σ: coloring the identity's rows gives
  /// the rows L e_i = column i of L, and L Lᵀ must be Σ exactly (to rounding).
  func testCovarianceFactorsReproduceSigma() {
    var rng = RandomStream(seed: 5)
    let w = Fixtures.sparseSignal(n: n, support: 10, seed: 6)
    let choices: [Covariance] = [
      .diagonal((0..<n).map { _ in rng.uniform(0.5, 2) }), .toeplitz(r: -0.7), .toeplitz(r: 0.5), .spike(direction: w, gamma: 5),
    ]
    for sigma in choices {
      var columns = Matrix<Double>.identity(n)
      sigma.colorRows(&columns)  // row i = L e_i
      let lFromRows = columns.transposed
      let product = matmul(lFromRows, lFromRows, transposeB: true)
      XCTAssertLessThan(Fixtures.maxAbsDifference(product, sigma.dense(dimension: n)), 1e-12, "\(sigma)")
      let x = rng.normals(n)
      let dense = matmul(Matrix(rows: 1, cols: n, storage: x), sigma.dense(dimension: n)).storage
      XCTAssertLessThan(zip(dense, sigma.multiply(x)).map { Swift.abs($0 - $1) }.max()!, 1e-12, "\(sigma)")
    }
  }

  func testGramOperatorMatchesDenseAndBlockProducts() {
    var rng = RandomStream(seed: 11)
    let x = Matrix(rows: 25, cols: n, storage: rng.normals(25 * n))
    let weights = rng.normals(25)
    for op in [GramOperator(samples: x), GramOperator(samples: x, weights: weights)] {
      let block = Matrix(rows: 3, cols: n, storage: rng.normals(3 * n))
      let viaOperator = op.apply(block)
      let viaDense = matmul(block, op.dense())
      XCTAssertLessThan(Fixtures.maxAbsDifference(viaOperator, viaDense), 1e-12)
    }
  }

  /// The sampled pair concentrates on the population pair: ‖Âv − Av‖ shrinks like 1/√m.
  func testSampledPairConcentratesOnPopulation() {
    let v = Fixtures.sparseSignal(n: n, support: 12, seed: 7)
    for pair in [SpikedCovariancePair(beta: 2) as any ProblemPair, PhaseRetrievalPair(link: .square)] {
      let population = pair.population(signal: v)
      var errors: [Double] = []
      for m in [200, 20_000] {
        var rng = RandomStream(seed: 8, key: "m\(m)")
        let sampled = pair.sample(signal: v, m: m, rng: &rng)
        let diff = zip(sampled.a.apply(v), population.a.apply(v)).map { $0 - $1 }
        errors.append(norm(diff))
      }
      XCTAssertLessThan(errors[1], errors[0] / 4, "\(pair)")  // 100× the samples, ~10× smaller
    }
  }
}
