import _VectorMath

/// How a convolution's kernel windows tile a square image: `channels` planes of side `large`,
/// windows K × K at stride s with padding p, one window per point of a `small` × `small` grid,
///
///     large[c][i·s − p + u][j·s − p + v]  ↔  columns[(c·K + u)·K + v][i·small + j]
///
/// A `Conv2d` reads its input (large) into columns and multiplies them by its weights; a
/// `ConvTranspose2d` multiplies its input by its weights into columns and adds them into its
/// output (large). `im2col` and `col2im` are adjoint: ⟨im2col(a), b⟩ = ⟨a, col2im(b)⟩.
///
/// The columns of several images sit side by side in one matrix (leading dimension `ld`,
/// image r at column offset r·small²), so a layer is one GEMM for a batch. Only copies and
/// additions, in a fixed order: an image's result does not depend on the batch it is in.
public struct PatchGeometry: Sendable, Hashable {
  public let channels: Int
  public let large: Int
  public let small: Int
  public let kernel: Int
  public let stride: Int
  public let padding: Int

  public init(channels: Int, large: Int, small: Int, kernel: Int, stride: Int, padding: Int) {
    precondition(channels >= 1 && large >= 1 && small >= 1 && kernel >= 1 && stride >= 1 && padding >= 0)
    self.channels = channels
    self.large = large
    self.small = small
    self.kernel = kernel
    self.stride = stride
    self.padding = padding
  }

  /// Rows of the column matrix: channels · K².
  public var columnRows: Int { channels * kernel * kernel }
  /// Columns per image: small².
  public var columnsPerImage: Int { small * small }
  /// Entries of one image: channels · large².
  public var imageSize: Int { channels * large * large }

  /// columns[·, col0 ..< col0 + small²] ← the windows of `image` (zeros outside it).
  @inline(__always)
  public func im2col(_ image: UnsafePointer<Float>, into columns: UnsafeMutablePointer<Float>, ld: Int, col0: Int) {
    ggep_im2col_f32(image, channels, large, small, kernel, stride, padding, columns, ld, col0)
  }

  /// image += the windows of columns[·, col0 ..< col0 + small²] added back in place.
  @inline(__always)
  public func col2im(_ columns: UnsafePointer<Float>, ld: Int, col0: Int, addingInto image: UnsafeMutablePointer<Float>) {
    ggep_col2im_f32(columns, ld, col0, channels, large, small, kernel, stride, padding, image)
  }
}
