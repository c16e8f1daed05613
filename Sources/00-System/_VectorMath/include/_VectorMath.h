#ifndef GGEP_VECTOR_MATH_H
#define GGEP_VECTOR_MATH_H

// Vectorised elementwise kernels for ggep's networks (Float, in place where it makes sense).
//
// Every element goes through the same 8-lane AVX2 code path, including the last n % 8
// elements, which are copied into a zero-padded local block of 8 and run through that same
// code. So an element's result depends only on its own input value(s): not on its position
// in the array, nor on the array's length (the bitwise-reproducibility trap of a vectorised
// loop with a scalar tail; docs/performance.md). The transcendental functions are glibc's libmvec
// vector variants (_ZGVdN8v_expf, _ZGVdN8v_log1pf, _ZGVdN8v_expm1f); there is no fast-math,
// so no algebraic rewriting changes the formulas below.
//
// On a machine without AVX2 the same functions are built from scalar libm calls (still
// position-independent, slower).

#ifdef __cplusplus
extern "C" {
#endif

/// x ← softplus(x) = max(x, 0) + log1p(exp(−|x|)).
void ggep_softplus_f32(float *x, long n);

/// x ← softplus(x) and d ← softplus'(x) = σ(x) (the training forward pass keeps d for the
/// backward pass, saving a transcendental call there).
void ggep_softplus_with_derivative_f32(float *x, float *d, long n);

/// x ← σ(x) = 1 / (1 + exp(−x)), computed as (x ≥ 0 ? 1 : e) / (1 + e) with e = exp(−|x|).
void ggep_sigmoid_f32(float *x, long n);

/// g ← g ⊙ softplus'(from the outputs y) = g ⊙ (−expm1(−y)).
void ggep_softplus_derivative_from_output_f32(float *g, const float *y, long n);

/// g ← g ⊙ σ'(from the outputs y) = g ⊙ y(1 − y).
void ggep_sigmoid_derivative_from_output_f32(float *g, const float *y, long n);

/// g ← g ⊙ d (one IEEE multiplication per element: the same in any lane).
void ggep_multiply_f32(float *g, const float *d, long n);

/// Bernoulli cross-entropy on logits l against targets x ∈ [0, 1]:
/// Σᵢ max(lᵢ, 0) − xᵢ lᵢ + log1p(exp(−|lᵢ|)), returned as a double (summed lane-wise in
/// double, lanes combined in a fixed order). If `grad` is not NULL it receives
/// scale · (σ(lᵢ) − xᵢ), the gradient of scale × (the loss).
double ggep_bernoulli_logits_f32(const float *l, const float *x, float *grad, float scale, long n);

/// One Adam step (Kingma & Ba) on elements [begin, end) of w, m, v, with the bias corrections
/// folded into c1 = 1/(1 − β₁ᵗ), c2 = 1/(1 − β₂ᵗ):
///   m ← β₁ m + (1 − β₁) g;  v ← β₂ v + ((1 − β₂) g) g;  w ← w − (lr (m c1)) / (sqrt(v c2) + ε),
/// with g the sum of `shards` ≥ 1
/// gradients: gᵢ = ((g[0][i] + g[1][i]) + g[2][i]) + …, always in that order (the fixed-order
/// reduction of data-parallel training). Elementwise like every kernel here, so splitting [0, n)
/// into ranges (one per thread) gives bitwise the same result as one call over all of it; with
/// one shard, g is the gradient itself.
void ggep_adam_sum_f32(float *w, const float *const *g, long shards, float *m, float *v, long begin, long end,
                       float lr, float beta1, float beta2, float epsilon, float c1, float c2);

/// im2col for square images: cols[(c·K + u)·K + v][col0 + i·S + j] = large[c][i·s − p + u][j·s − p + v]
/// (0 outside the L × L plane), for c < channels and i, j < S; `cols` has leading dimension ld.
/// A Conv2d's input to columns, or a ConvTranspose2d's output gradient to columns.
void ggep_im2col_f32(const float *image, long channels, long large, long small, long kernel, long stride, long padding,
                     float *cols, long ld, long col0);

/// col2im, the adjoint of im2col: large[c][i·s − p + u][j·s − p + v] += cols[(c·K + u)·K + v][col0 + i·S + j]
/// where inside the plane, in the order c, u, v, i, j. A ConvTranspose2d's columns to its output,
/// or a Conv2d's input gradient from columns.
void ggep_col2im_f32(const float *cols, long ld, long col0, long channels, long large, long small, long kernel, long stride,
                     long padding, float *image);

/// Whether the vector path was compiled in (1) or the scalar fallback (0).
int ggep_vector_math_is_vectorised(void);

#ifdef __cplusplus
}
#endif

#endif
