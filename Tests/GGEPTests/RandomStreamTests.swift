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

final class RandomStreamTests: GGEPTestCase {
  /// The reference implementation's outputs from state {1, 2, 3, 4}.
  func testXoshiroReferenceVector() {
    var rng = RandomStream(state: (1, 2, 3, 4))
    XCTAssertEqual(rng.next(), 11520)
    XCTAssertEqual(rng.next(), 0)
    XCTAssertEqual(rng.next(), 1_509_978_240)
    XCTAssertEqual(rng.next(), 1_215_971_899_390_074_240)
  }

  func testStreamsAreDeterministicAndKeyed() {
    var a = RandomStream(seed: 7, key: "job-a", purpose: "data")
    var b = RandomStream(seed: 7, key: "job-a", purpose: "data")
    var c = RandomStream(seed: 7, key: "job-b", purpose: "data")
    var d = RandomStream(seed: 7, key: "job-a", purpose: "init")
    let xa = a.normals(100), xb = b.normals(100), xc = c.normals(100), xd = d.normals(100)
    XCTAssertEqual(xa, xb)
    XCTAssertNotEqual(xa, xc)
    XCTAssertNotEqual(xa, xd)
  }

  func testNormalMoments() {
    var rng = RandomStream(seed: 1)
    let x = rng.normals(200_000)
    let mean = x.reduce(0, +) / Double(x.count)
    let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(x.count)
    let fourth = x.map { pow($0 - mean, 4) }.reduce(0, +) / Double(x.count)
    XCTAssertEqual(mean, 0, accuracy: 0.01)
    XCTAssertEqual(variance, 1, accuracy: 0.015)
    XCTAssertEqual(fourth, 3, accuracy: 0.08)  // Gaussian kurtosis
  }

  /// The ziggurat's distribution, body and tails: the empirical CDF against Φ at points on both
  /// sides of the base strip's edge R ≈ 3.44.
  func testNormalDistributionFunction() {
    var rng = RandomStream(seed: 99)
    let count = 1_000_000
    let x = rng.normals(count).sorted()
    func empirical(_ t: Double) -> Double {
      var lo = 0, hi = x.count
      while lo < hi { let mid = (lo + hi) / 2; if x[mid] <= t { lo = mid + 1 } else { hi = mid } }
      return Double(lo) / Double(count)
    }
    for t in [-4.0, -3.6, -3, -2, -1, -0.5, 0, 0.3, 1, 2, 3, 3.6, 4] {
      let phi = 0.5 * (1 + erf(t / 2.0.squareRoot()))
      let tolerance = 4 * (phi * (1 - phi) / Double(count)).squareRoot() + 1e-6
      XCTAssertEqual(empirical(t), phi, accuracy: tolerance, "CDF at \(t)")
    }
  }

  func testUniformIntegersAndSubsets() {
    var rng = RandomStream(seed: 3)
    var counts = [Int](repeating: 0, count: 5)
    for _ in 0..<50_000 { counts[rng.integer(below: 5)] += 1 }
    for c in counts { XCTAssertEqual(Double(c) / 50_000, 0.2, accuracy: 0.01) }
    let subset = rng.sample(10, from: 30)
    XCTAssertEqual(Set(subset).count, 10)
    XCTAssertTrue(subset.allSatisfy { (0..<30).contains($0) })
  }
}
