import GGEPCore
/// A generative model G: Rᵏ → Rⁿ whose range is the prior (docs/mathematics.md §3), evaluated on batches.
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

/// A generator made of dense layers, which a projector may look into (layer-wise inversion,
/// docs/mathematics.md §10): each layer's weights (in × out), bias and activation, input first.
public protocol LayeredGenerator: Generator {
  var layers: [DenseLayer] { get }
}

/// Per-batch buffers: the activations of each layer (kept for the pullback) and scratch for
/// the backward pass, carved from one 64-byte-aligned allocation whose addresses never move.
/// One per (generator, batch size); reused across all steps of a projection.
public final class GeneratorWorkspace: @unchecked Sendable {
  // @unchecked: a workspace belongs to one projection call on one thread.
  public let rows: Int
  public let widths: [Int]
  private let arena: AlignedFloats

  /// `scratch`: floats in each of the two scratch buffers, when a generator needs more than
  /// rows × the widest layer (a convolution's column matrix).
  public init(rows: Int, widths: [Int], scratch: Int? = nil) {
    self.rows = rows
    self.widths = widths
    let widest = widths.max() ?? 0
    let size = max(rows * widest, scratch ?? 0)
    arena = AlignedFloats(widths.map { rows * $0 } + [size, size])
  }

  /// Layer `i`'s activations (rows × widths[i]): 0 is the input copy, the last is G(z).
  public func layer(_ i: Int) -> UnsafeMutableBufferPointer<Float> {
    UnsafeMutableBufferPointer(start: arena.buffers[i], count: rows * widths[i])
  }

  /// G(z) of the last `forward` (rows × n).
  public var outputPointer: UnsafePointer<Float> { UnsafePointer(arena.buffers[widths.count - 1]) }

  /// A copy of G(z) (not for hot loops).
  public var output: [Float] { Array(layer(widths.count - 1)) }

  /// The outputs of layers 1…L, as a stack's `forward` writes them.
  package var layerOutputs: [UnsafeMutablePointer<Float>] { Array(arena.buffers[1..<widths.count]) }

  /// The two scratch buffers of a pullback (rows × the widest layer each).
  package var scratch: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>) {
    (arena.buffers[widths.count], arena.buffers[widths.count + 1])
  }
}
