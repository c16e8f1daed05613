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

/// Small shared fixtures: unit signals in a generator's range and nonnegative "images".
enum Fixtures {
  /// A unit vector in the range of a generator: Ĝ(z*) for z* ~ N(0, I_k).
  static func signal(in generator: any Generator, seed: UInt64) -> (signal: [Double], latent: [Float]) {
    var rng = RandomStream(seed: seed, key: "fixture", purpose: "latent")
    let z = (0..<generator.latentDimension).map { _ in Float(rng.normal()) }
    let g = generator.evaluate(Matrix(rows: 1, cols: z.count, storage: z)).storage.map(Double.init)
    return (normalized(g)!, z)
  }

  /// A nonnegative unit vector with `support` nonzero entries (an "image" with few lit pixels).
  static func sparseSignal(n: Int, support: Int, seed: UInt64) -> [Double] {
    var rng = RandomStream(seed: seed, key: "fixture", purpose: "sparse")
    var v = [Double](repeating: 0, count: n)
    for i in rng.sample(support, from: n) { v[i] = 0.5 + rng.uniform() }
    return normalized(v)!
  }

  static func cosine(_ a: [Double], _ b: [Double]) -> Double {
    Swift.abs(dot(a, b)) / (norm(a) * norm(b))
  }

  static func maxAbsDifference(_ a: Matrix<Double>, _ b: Matrix<Double>) -> Double {
    zip(a.storage, b.storage).map { Swift.abs($0 - $1) }.max() ?? 0
  }
}

/// The repository as tests see it.
enum Repository {
  /// Runs `body` with the repository root as the working directory, where committed configs
  /// name their models and data (`models/mnist-vae.h5`), and restores the previous one after.
  /// `make test` already runs there; the change is for a developer who runs the tests elsewhere.
  static func withRootAsWorkingDirectory<T>(_ body: () throws -> T) throws -> T {
    let previous = FileManager.default.currentDirectoryPath
    guard FileManager.default.changeCurrentDirectoryPath(MNISTLocation.packageRoot) else {
      throw GGEPExecutable.Missing(description: "cannot change the working directory to \(MNISTLocation.packageRoot)")
    }
    defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
    return try body()
  }
}

/// Every test case of the suite: the built-in kinds are registered before its first test, as
/// the command line registers them at start-up.
class GGEPTestCase: XCTestCase {
  override class func setUp() {
    super.setUp()
    BuiltIns.register()
  }
}
