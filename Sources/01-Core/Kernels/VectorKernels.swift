import _VectorMath

/// Swift entry points to the vectorised elementwise kernels of the `_VectorMath` C target.
///
/// Each kernel runs every element through the same 8-lane code (the tail is padded into a full
/// block), so an element's result depends only on its own inputs: a row of activations is
/// bitwise the same whether it is computed alone or anywhere inside a larger batch.
public enum VectorKernels {
  /// Whether the AVX2/libmvec path was compiled in (false: the scalar fallback of the C target).
  public static var isVectorised: Bool { ggep_vector_math_is_vectorised() != 0 }

  /// x ← softplus(x) = max(x, 0) + log1p(e^(−|x|)).
  @inline(__always)
  public static func softplus(_ x: UnsafeMutablePointer<Float>, _ count: Int) {
    ggep_softplus_f32(x, count)
  }

  /// x ← softplus(x), d ← softplus'(x) = σ(x).
  @inline(__always)
  public static func softplus(_ x: UnsafeMutablePointer<Float>, derivative d: UnsafeMutablePointer<Float>, _ count: Int) {
    ggep_softplus_with_derivative_f32(x, d, count)
  }

  /// x ← σ(x).
  @inline(__always)
  public static func sigmoid(_ x: UnsafeMutablePointer<Float>, _ count: Int) {
    ggep_sigmoid_f32(x, count)
  }

  /// g ← g ⊙ (1 − e^(−y)), softplus' expressed through its output y.
  @inline(__always)
  public static func multiplySoftplusDerivative(_ g: UnsafeMutablePointer<Float>, outputs y: UnsafePointer<Float>, _ count: Int) {
    ggep_softplus_derivative_from_output_f32(g, y, count)
  }

  /// g ← g ⊙ y(1 − y), σ' expressed through its output y.
  @inline(__always)
  public static func multiplySigmoidDerivative(_ g: UnsafeMutablePointer<Float>, outputs y: UnsafePointer<Float>, _ count: Int) {
    ggep_sigmoid_derivative_from_output_f32(g, y, count)
  }

  /// g ← g ⊙ d.
  @inline(__always)
  public static func multiply(_ g: UnsafeMutablePointer<Float>, by d: UnsafePointer<Float>, _ count: Int) {
    ggep_multiply_f32(g, d, count)
  }

  /// Σ Bernoulli cross-entropy of targets x on logits l (nats, summed in Double); writes
  /// `scale · (σ(l) − x)` into `gradient` when given.
  @inline(__always)
  public static func bernoulliCrossEntropy(
    logits l: UnsafePointer<Float>, targets x: UnsafePointer<Float>, gradient: UnsafeMutablePointer<Float>?,
    scale: Float, _ count: Int
  ) -> Double {
    ggep_bernoulli_logits_f32(l, x, gradient, scale, count)
  }

  /// One Adam step on parameters `range` with the sum of `shards` gradients, added in the order
  /// given (`gradients[0] + gradients[1] + …`, per element); `c1`, `c2` are the bias corrections
  /// 1/(1 − βᵗ). Elementwise: a sub-range gives the same bits as the same elements inside a
  /// larger call.
  @inline(__always)
  package static func adam(
    weights w: UnsafeMutablePointer<Float>, gradients g: UnsafePointer<UnsafePointer<Float>?>, shards: Int,
    m: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>, range: Range<Int>,
    learningRate: Float, beta1: Float, beta2: Float, epsilon: Float, c1: Float, c2: Float
  ) {
    ggep_adam_sum_f32(w, g, shards, m, v, range.lowerBound, range.upperBound, learningRate, beta1, beta2, epsilon, c1, c2)
  }
}
