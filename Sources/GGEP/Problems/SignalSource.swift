/// The signals v* an experiment is run on (SPEC 2: "the signal is v* = x/‖x‖").
///
/// Signal i depends only on (signal seed, i) and the generator, never on m, the problem or the
/// algorithm, so every method and sample size sees the same signals ("the same images").
public struct SignalSource: Sendable {
  public let spec: SignalSpec
  public let generator: any Generator

  public init(spec: SignalSpec, generator: any Generator) {
    self.spec = spec
    self.generator = generator
  }

  /// The unit signal and the norm of the unnormalised "image" x (oracle-norm's c = ‖x‖).
  public func signal(_ index: Int) -> (unit: [Double], imageNorm: Double) {
    draw(key: "signal \(index)")
  }

  /// A second signal tied to signal `index` (the direction w of the `spike` covariance:
  /// "a second seeded test image").
  public func companion(of index: Int) -> [Double] {
    draw(key: "companion \(index)").unit
  }

  private func draw(key: String) -> (unit: [Double], imageNorm: Double) {
    var rng = RandomStream(seed: UInt64(spec.seed), key: key, purpose: "signal")
    switch spec.source {
    case .generator:
      // v* = Ĝ(z*), z* ~ N(0, I_k): in the range, as the theory assumes. A degenerate draw
      // (G(z*) = 0, possible for ReLU networks) is redrawn from the same stream.
      while true {
        let z = Matrix(rows: 1, cols: generator.latentDimension, storage: rng.normals(generator.latentDimension).map(Float.init))
        let x = generator.evaluate(z).storage.map(Double.init)
        let size = norm(x)
        if size > 0, size.isFinite { return (x.map { $0 / size }, size) }
      }
    case .sparse(let support):
      // A nonnegative "image" with `support` lit pixels of intensity U[0.5, 1.5).
      let n = generator.outputDimension
      var x = [Double](repeating: 0, count: n)
      for i in rng.sample(support, from: n) { x[i] = rng.uniform(0.5, 1.5) }
      let size = norm(x)
      return (x.map { $0 / size }, size)
    }
  }
}
