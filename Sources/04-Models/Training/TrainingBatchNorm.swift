import GGEPCore
import GGEPPrior

/// Batch normalisation in training mode (docs/mathematics.md §11: the generators and discriminators a trainer
/// builds; Ioffe & Szegedy 2015), over the rows of a batch, per feature j:
///
///     μ_j = (1/N) Σ_r x_rj,   σ²_j = (1/N) Σ_r (x_rj − μ_j)²   (biased),
///     x̂_rj = (x_rj − μ_j)/√(σ²_j + ε),   y_rj = γ_j x̂_rj + β_j,
///
/// and its backward in the standard closed form, with Σ over the rows:
///
///     ∂L/∂β_j = Σ_r δ_rj,   ∂L/∂γ_j = Σ_r δ_rj x̂_rj,
///     ∂L/∂x_rj = γ_j/(N √(σ²_j + ε)) · (N δ_rj − ∂L/∂β_j − x̂_rj ∂L/∂γ_j)      (δ = ∂L/∂y).
///
/// The running statistics follow PyTorch's `BatchNorm1d` (momentum 0.1, ε = 1e-5): after a
/// training batch, μ̄ ← (1 − m) μ̄ + m μ and σ̄² ← (1 − m) σ̄² + m σ² N/(N − 1) (the unbiased
/// batch variance), starting from μ̄ = 0, σ̄² = 1. In evaluation mode the layer is the existing
/// `BatchNorm` with (γ, β, μ̄, σ̄², ε), which `DenseLayer(weights:bias:batchNorm:activation:)` folds
/// into the affine map before it.
///
/// γ and β are trained, so they live in the caller's flat parameter buffer like `DenseStack`'s
/// (γ then β from `parameterRange.lowerBound`) and one `Adam` call updates them with the rest;
/// the running statistics are state, held here. The sums run in Double over the rows in order
/// (two passes for the variance) and each result is rounded once, so a batch gives the same bits
/// on every run. Cost: about 10 N·features flops each way, nothing allocated after the
/// `Workspace`.
public struct TrainingBatchNorm: Sendable {
  public let features: Int
  /// A Double like PyTorch's (a Python float); the update is formed in Double and rounded once.
  public let momentum: Double
  public let epsilon: Float
  /// Where γ (features) and then β (features) sit in the parameter buffer.
  public let parameterRange: Range<Int>
  /// μ̄ and σ̄², the statistics evaluation mode uses.
  public var runningMean: [Float]
  public var runningVariance: [Float]

  public init(features: Int, offset: Int = 0, momentum: Double = 0.1, epsilon: Float = 1e-5) {
    precondition(features >= 1 && momentum >= 0 && momentum <= 1 && epsilon > 0)
    self.features = features
    self.momentum = momentum
    self.epsilon = epsilon
    parameterRange = offset..<(offset + 2 * features)
    runningMean = [Float](repeating: 0, count: features)
    runningVariance = [Float](repeating: 1, count: features)
  }

  public var gammaOffset: Int { parameterRange.lowerBound }
  public var betaOffset: Int { parameterRange.lowerBound + features }

  /// γ = 1, β = 0 (PyTorch's initialisation) into the parameter buffer.
  public func initializeParameters(_ parameters: UnsafeMutablePointer<Float>) {
    (parameters + gammaOffset).update(repeating: 1, count: features)
    (parameters + betaOffset).update(repeating: 0, count: features)
  }

  /// What a training forward keeps for the backward and the running statistics: x̂ (rows ×
  /// features) and, per feature, μ, the biased σ² and 1/√(σ² + ε) (in Float for the caller, in
  /// Double for the backward), plus Double accumulators.
  public final class Workspace: @unchecked Sendable {
    // @unchecked: a workspace belongs to one training step on one thread.
    public let rows: Int
    public let features: Int
    private let arena: AlignedFloats
    /// μ, σ², 1/√(σ² + ε), and two accumulators: 5 × features Doubles.
    let doubles: UnsafeMutablePointer<Double>

    public init(rows: Int, features: Int) {
      precondition(rows >= 2, "batch normalisation in training mode needs at least two rows per batch")
      precondition(features >= 1)
      self.rows = rows
      self.features = features
      arena = AlignedFloats([rows * features, features, features, features])
      doubles = .allocate(capacity: 5 * features)
      doubles.initialize(repeating: 0, count: 5 * features)
    }

    deinit { doubles.deallocate() }

    public var normalized: UnsafeMutablePointer<Float> { arena.buffers[0] }
    public var mean: UnsafeMutablePointer<Float> { arena.buffers[1] }
    public var variance: UnsafeMutablePointer<Float> { arena.buffers[2] }
    public var inverseStandardDeviation: UnsafeMutablePointer<Float> { arena.buffers[3] }
    var exactMean: UnsafeMutablePointer<Double> { doubles }
    var exactVariance: UnsafeMutablePointer<Double> { doubles + features }
    var exactInverseStandardDeviation: UnsafeMutablePointer<Double> { doubles + 2 * features }
    var firstSum: UnsafeMutablePointer<Double> { doubles + 3 * features }
    var secondSum: UnsafeMutablePointer<Double> { doubles + 4 * features }
  }

  public func makeWorkspace(rows: Int) -> Workspace { Workspace(rows: rows, features: features) }

  /// y = γ x̂ + β for the `workspace.rows` rows of x (rows × features), keeping x̂ and the batch
  /// statistics in `workspace`. y may be x (in place). Does not touch the running statistics:
  /// call `updateRunningStatistics` once per training batch (PyTorch does both in one forward).
  public func forward(
    parameters: UnsafePointer<Float>, input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>, workspace ws: Workspace
  ) {
    precondition(ws.features == features)
    let (n, f) = (ws.rows, features)
    let (mean, variance, inverse) = (ws.exactMean, ws.exactVariance, ws.exactInverseStandardDeviation)
    mean.update(repeating: 0, count: f)
    variance.update(repeating: 0, count: f)
    for r in 0..<n { for j in 0..<f { mean[j] += Double(x[r * f + j]) } }
    for j in 0..<f { mean[j] /= Double(n) }
    for r in 0..<n {
      for j in 0..<f {
        let d = Double(x[r * f + j]) - mean[j]
        variance[j] += d * d
      }
    }
    for j in 0..<f {
      variance[j] /= Double(n)
      inverse[j] = 1 / (variance[j] + Double(epsilon)).squareRoot()
      ws.mean[j] = Float(mean[j])
      ws.variance[j] = Float(variance[j])
      ws.inverseStandardDeviation[j] = Float(inverse[j])
    }
    let (gamma, beta) = (parameters + gammaOffset, parameters + betaOffset)
    for r in 0..<n {
      for j in 0..<f {
        let k = r * f + j
        let normalized = (Double(x[k]) - mean[j]) * inverse[j]
        ws.normalized[k] = Float(normalized)
        y[k] = Float(Double(gamma[j]) * normalized + Double(beta[j]))
      }
    }
  }

  /// From δ = ∂L/∂y (rows × features) at the last `forward` of `workspace`: ∂L/∂γ and ∂L/∂β into
  /// `gradient` (laid out like the parameters, overwritten), and, unless nil, ∂L/∂x into
  /// `inputGradient` (may be δ itself).
  public func backward(
    parameters: UnsafePointer<Float>, outputGradient delta: UnsafePointer<Float>, workspace ws: Workspace,
    gradient: UnsafeMutablePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?
  ) {
    precondition(ws.features == features)
    let (n, f) = (ws.rows, features)
    let (db, dg) = (ws.firstSum, ws.secondSum)
    db.update(repeating: 0, count: f)
    dg.update(repeating: 0, count: f)
    for r in 0..<n {
      for j in 0..<f {
        let k = r * f + j
        db[j] += Double(delta[k])
        dg[j] += Double(delta[k]) * Double(ws.normalized[k])
      }
    }
    for j in 0..<f {
      gradient[gammaOffset + j] = Float(dg[j])
      gradient[betaOffset + j] = Float(db[j])
    }
    guard let inputGradient else { return }
    let gamma = parameters + gammaOffset
    for r in 0..<n {
      for j in 0..<f {
        let k = r * f + j
        let scale = Double(gamma[j]) * ws.exactInverseStandardDeviation[j] / Double(n)
        inputGradient[k] = Float(scale * (Double(n) * Double(delta[k]) - db[j] - Double(ws.normalized[k]) * dg[j]))
      }
    }
  }

  /// μ̄ ← (1 − m) μ̄ + m μ, σ̄² ← (1 − m) σ̄² + m σ² N/(N − 1), from the statistics of the last
  /// `forward` of `workspace` (PyTorch's update with a fixed momentum), in Double, rounded once.
  public mutating func updateRunningStatistics(from ws: Workspace) {
    precondition(ws.features == features)
    let m = momentum
    let bessel = Double(ws.rows) / Double(ws.rows - 1)
    for j in 0..<features {
      runningMean[j] = Float((1 - m) * Double(runningMean[j]) + m * ws.exactMean[j])
      runningVariance[j] = Float((1 - m) * Double(runningVariance[j]) + m * ws.exactVariance[j] * bessel)
    }
  }

  /// The layer in evaluation mode: γ, β from the parameter buffer and the running statistics.
  public func evaluationMode(parameters: UnsafePointer<Float>) -> BatchNorm {
    BatchNorm(
      gamma: Array(UnsafeBufferPointer(start: parameters + gammaOffset, count: features)),
      beta: Array(UnsafeBufferPointer(start: parameters + betaOffset, count: features)), mean: runningMean,
      variance: runningVariance, epsilon: epsilon)
  }
}
