import GGEPCore
/// A generative model G: Rᵏ → Rⁿ whose range is the prior (SPEC 3), evaluated on batches.
///
/// Batches are rows: `z` is rows × k, G(z) is rows × n. The projector needs G and the
/// vector-Jacobian product zᵀ ↦ (∂G/∂z)ᵀ g, both as matrix-matrix work over the whole batch
/// (targets × restarts), so a generator computes in Float (sgemm) into a reusable workspace and
/// allocates nothing per step.
public protocol Generator: Sendable {
  var latentDimension: Int { get }
  var outputDimension: Int { get }
  /// A short name for logs and results (`linear(n=400,k=10)`).
  var summary: String { get }
  func makeWorkspace(rows: Int) -> GeneratorWorkspace
  /// G(z) for every row of `z` (rows × k), into `workspace.output` (rows × n); keeps what the
  /// pullback needs.
  func forward(_ z: UnsafePointer<Float>, workspace: GeneratorWorkspace)
  /// dz = (∂G/∂z)ᵀ g for every row, with g rows × n, at the point of the last `forward`.
  func pullback(_ g: UnsafePointer<Float>, into dz: UnsafeMutablePointer<Float>, workspace: GeneratorWorkspace)
}

extension Generator {
  /// G(z) for a batch as a matrix (convenience, allocates; not for hot loops).
  public func evaluate(_ z: Matrix<Float>) -> Matrix<Float> {
    precondition(z.cols == latentDimension)
    let ws = makeWorkspace(rows: z.rows)
    z.storage.withUnsafeBufferPointer { forward($0.baseAddress!, workspace: ws) }
    return Matrix(rows: z.rows, cols: outputDimension, storage: ws.output)
  }
}

/// Per-batch buffers: the activations of each layer (kept for the pullback) and scratch for
/// the backward pass. One per (generator, batch size); reused across all steps of a projection.
public final class GeneratorWorkspace {
  public let rows: Int
  /// activations[0] is the input copy, activations.last the output G(z).
  public var activations: [[Float]]
  var gradientA: [Float]
  var gradientB: [Float]

  public init(rows: Int, widths: [Int]) {
    self.rows = rows
    activations = widths.map { [Float](repeating: 0, count: rows * $0) }
    let widest = widths.max() ?? 0
    gradientA = [Float](repeating: 0, count: rows * widest)
    gradientB = [Float](repeating: 0, count: rows * widest)
  }

  public var output: [Float] { activations[activations.count - 1] }
}
