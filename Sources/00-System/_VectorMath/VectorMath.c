// Vectorised elementwise kernels; see include/_VectorMath.h for the contract.
//
// Structure of every kernel: a `*_block` function computes exactly 8 consecutive elements;
// the driver runs it on each full block in place and, for the last n % 8 elements, on a
// zero-padded copy in a local 8-element buffer, copying back only the real elements. Because
// the block code treats its 8 lanes identically and independently, an element's result does
// not depend on where it sits or on how many elements there are.

#include "_VectorMath.h"

#include <math.h>
#include <string.h>

#define BLOCK 8

#if defined(__AVX2__) && defined(__x86_64__)
#include <immintrin.h>

// glibc's libmvec, AVX2 ("d") variants, 8 floats per call (vector function ABI names).
// Declared here because glibc's <math.h> exposes them only through `#pragma omp declare simd`.
__m256 _ZGVdN8v_expf(__m256 x);
__m256 _ZGVdN8v_log1pf(__m256 x);
__m256 _ZGVdN8v_expm1f(__m256 x);

typedef __m256 v8;

static inline v8 abs8(v8 x) { return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x); }
static inline v8 neg8(v8 x) { return _mm256_xor_ps(_mm256_set1_ps(-0.0f), x); }

/// e = exp(−|x|) ∈ [0, 1]; never overflows.
static inline v8 exp_neg_abs8(v8 x) { return _ZGVdN8v_expf(neg8(abs8(x))); }

/// σ(x) from x and e = exp(−|x|): (x ≥ 0 ? 1 : e) / (1 + e).
static inline v8 sigmoid_from8(v8 x, v8 e) {
  const v8 one = _mm256_set1_ps(1.0f);
  v8 nonnegative = _mm256_cmp_ps(x, _mm256_setzero_ps(), _CMP_GE_OQ);
  v8 numerator = _mm256_blendv_ps(e, one, nonnegative);
  return _mm256_div_ps(numerator, _mm256_add_ps(one, e));
}

/// max(x, 0) + log1p(e). (_mm256_max_ps returns its second operand for a NaN x, but then
/// e and the sum are NaN too, so NaN propagates.)
static inline v8 softplus_from8(v8 x, v8 e) {
  return _mm256_add_ps(_mm256_max_ps(x, _mm256_setzero_ps()), _ZGVdN8v_log1pf(e));
}

static inline void softplus_block(float *x) {
  v8 v = _mm256_loadu_ps(x);
  _mm256_storeu_ps(x, softplus_from8(v, exp_neg_abs8(v)));
}

static inline void softplus_with_derivative_block(float *x, float *d) {
  v8 v = _mm256_loadu_ps(x);
  v8 e = exp_neg_abs8(v);
  _mm256_storeu_ps(d, sigmoid_from8(v, e));
  _mm256_storeu_ps(x, softplus_from8(v, e));
}

static inline void sigmoid_block(float *x) {
  v8 v = _mm256_loadu_ps(x);
  _mm256_storeu_ps(x, sigmoid_from8(v, exp_neg_abs8(v)));
}

static inline void softplus_derivative_block(float *g, const float *y) {
  v8 s = neg8(_ZGVdN8v_expm1f(neg8(_mm256_loadu_ps(y))));
  _mm256_storeu_ps(g, _mm256_mul_ps(_mm256_loadu_ps(g), s));
}

static inline void sigmoid_derivative_block(float *g, const float *y) {
  v8 yy = _mm256_loadu_ps(y);
  v8 s = _mm256_mul_ps(yy, _mm256_sub_ps(_mm256_set1_ps(1.0f), yy));
  _mm256_storeu_ps(g, _mm256_mul_ps(_mm256_loadu_ps(g), s));
}

/// Per-lane double sums of the Bernoulli losses.
typedef struct { __m256d low, high; } bernoulli_acc;
static inline bernoulli_acc bernoulli_start(void) { return (bernoulli_acc){_mm256_setzero_pd(), _mm256_setzero_pd()}; }

/// Adds the first `lanes` of the 8 losses to the accumulator.
static inline void bernoulli_block(const float *l, const float *x, float *grad, float scale, int lanes,
                                   bernoulli_acc *acc) {
  v8 ll = _mm256_loadu_ps(l);
  v8 xx = _mm256_loadu_ps(x);
  v8 e = exp_neg_abs8(ll);
  // max(l, 0) − x·l + log1p(e)
  v8 loss = _mm256_add_ps(_mm256_sub_ps(_mm256_max_ps(ll, _mm256_setzero_ps()), _mm256_mul_ps(xx, ll)),
                          _ZGVdN8v_log1pf(e));
  if (lanes < BLOCK) {
    const int index[BLOCK] = {0, 1, 2, 3, 4, 5, 6, 7};
    __m256i keep = _mm256_cmpgt_epi32(_mm256_set1_epi32(lanes), _mm256_loadu_si256((const __m256i *)index));
    loss = _mm256_and_ps(loss, _mm256_castsi256_ps(keep));
  }
  acc->low = _mm256_add_pd(acc->low, _mm256_cvtps_pd(_mm256_castps256_ps128(loss)));
  acc->high = _mm256_add_pd(acc->high, _mm256_cvtps_pd(_mm256_extractf128_ps(loss, 1)));
  if (grad) {
    v8 g = _mm256_sub_ps(sigmoid_from8(ll, e), xx);
    _mm256_storeu_ps(grad, _mm256_mul_ps(_mm256_set1_ps(scale), g));
  }
}

/// The Adam update of 8 parameters with gradient gg.
static inline void adam_vector(float *w, v8 gg, float *m, float *v, float lr, float beta1, float beta2, float epsilon,
                               float c1, float c2) {
  v8 mm = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(beta1), _mm256_loadu_ps(m)),
                        _mm256_mul_ps(_mm256_set1_ps(1.0f - beta1), gg));
  v8 vv = _mm256_add_ps(_mm256_mul_ps(_mm256_set1_ps(beta2), _mm256_loadu_ps(v)),
                        _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(1.0f - beta2), gg), gg));
  _mm256_storeu_ps(m, mm);
  _mm256_storeu_ps(v, vv);
  v8 step = _mm256_div_ps(_mm256_mul_ps(_mm256_set1_ps(lr), _mm256_mul_ps(mm, _mm256_set1_ps(c1))),
                          _mm256_add_ps(_mm256_sqrt_ps(_mm256_mul_ps(vv, _mm256_set1_ps(c2))), _mm256_set1_ps(epsilon)));
  _mm256_storeu_ps(w, _mm256_sub_ps(_mm256_loadu_ps(w), step));
}

static inline void adam_block(float *w, const float *g, float *m, float *v, float lr, float beta1, float beta2,
                              float epsilon, float c1, float c2) {
  adam_vector(w, _mm256_loadu_ps(g), m, v, lr, beta1, beta2, epsilon, c1, c2);
}

/// Adam on the full blocks [begin, end) (end − begin a multiple of 8) with the shard gradients
/// summed in shard order; the common shard counts get loops with their pointers hoisted.
static inline void adam_sum_blocks(float *w, const float *const *g, long shards, float *m, float *v, long begin,
                                   long end, float lr, float beta1, float beta2, float epsilon, float c1, float c2) {
  if (shards == 1) {
    const float *g0 = g[0];
    for (long i = begin; i < end; i += BLOCK)
      adam_vector(w + i, _mm256_loadu_ps(g0 + i), m + i, v + i, lr, beta1, beta2, epsilon, c1, c2);
  } else if (shards == 2) {
    const float *g0 = g[0], *g1 = g[1];
    for (long i = begin; i < end; i += BLOCK)
      adam_vector(w + i, _mm256_add_ps(_mm256_loadu_ps(g0 + i), _mm256_loadu_ps(g1 + i)), m + i, v + i, lr, beta1,
                  beta2, epsilon, c1, c2);
  } else {
    for (long i = begin; i < end; i += BLOCK) {
      v8 sum = _mm256_loadu_ps(g[0] + i);
      for (long k = 1; k < shards; k++) sum = _mm256_add_ps(sum, _mm256_loadu_ps(g[k] + i));
      adam_vector(w + i, sum, m + i, v + i, lr, beta1, beta2, epsilon, c1, c2);
    }
  }
}

/// The lanes summed in a fixed order.
static inline double bernoulli_finish(bernoulli_acc acc) {
  double lanes[8];
  _mm256_storeu_pd(lanes, acc.low);
  _mm256_storeu_pd(lanes + 4, acc.high);
  double sum = 0;
  for (int i = 0; i < 8; i++) sum += lanes[i];
  return sum;
}

int ggep_vector_math_is_vectorised(void) { return 1; }

#else  // Scalar fallback: the same formulas one element at a time (no lanes, no tails).

static inline float exp_neg_abs1(float x) { return expf(-fabsf(x)); }
static inline float sigmoid_from1(float x, float e) { return (x >= 0 ? 1.0f : e) / (1.0f + e); }
static inline float softplus_from1(float x, float e) { return fmaxf(x, 0.0f) + log1pf(e); }

static inline void softplus_block(float *x) {
  for (int i = 0; i < BLOCK; i++) x[i] = softplus_from1(x[i], exp_neg_abs1(x[i]));
}
static inline void softplus_with_derivative_block(float *x, float *d) {
  for (int i = 0; i < BLOCK; i++) {
    float e = exp_neg_abs1(x[i]);
    d[i] = sigmoid_from1(x[i], e);
    x[i] = softplus_from1(x[i], e);
  }
}
static inline void sigmoid_block(float *x) {
  for (int i = 0; i < BLOCK; i++) x[i] = sigmoid_from1(x[i], exp_neg_abs1(x[i]));
}
static inline void softplus_derivative_block(float *g, const float *y) {
  for (int i = 0; i < BLOCK; i++) g[i] *= -expm1f(-y[i]);
}
static inline void sigmoid_derivative_block(float *g, const float *y) {
  for (int i = 0; i < BLOCK; i++) g[i] *= y[i] * (1.0f - y[i]);
}
typedef struct { double lane[BLOCK]; } bernoulli_acc;
static inline bernoulli_acc bernoulli_start(void) { bernoulli_acc acc = {{0}}; return acc; }
static inline double bernoulli_finish(bernoulli_acc acc) {
  double sum = 0;
  for (int i = 0; i < BLOCK; i++) sum += acc.lane[i];
  return sum;
}
static inline void bernoulli_block(const float *l, const float *x, float *grad, float scale, int lanes,
                                   bernoulli_acc *acc) {
  for (int i = 0; i < BLOCK; i++) {
    float e = exp_neg_abs1(l[i]);
    float loss = (fmaxf(l[i], 0.0f) - x[i] * l[i]) + log1pf(e);
    if (i < lanes) acc->lane[i] += loss;
    if (grad) grad[i] = scale * (sigmoid_from1(l[i], e) - x[i]);
  }
}
static inline void adam_block(float *w, const float *g, float *m, float *v, float lr, float beta1, float beta2,
                              float epsilon, float c1, float c2) {
  for (int i = 0; i < BLOCK; i++) {
    m[i] = beta1 * m[i] + (1.0f - beta1) * g[i];
    v[i] = beta2 * v[i] + (1.0f - beta2) * g[i] * g[i];
    w[i] -= lr * (m[i] * c1) / (sqrtf(v[i] * c2) + epsilon);
  }
}
int ggep_vector_math_is_vectorised(void) { return 0; }
#endif

/// out[0..<lanes] = ((g[0] + g[1]) + g[2]) + … at `offset`, in shard order (one IEEE float
/// addition per element and shard: the same bits as the vector lanes' additions).
static inline void gradient_sum_block(float *out, const float *const *g, long shards, long offset, int lanes) {
  for (int i = 0; i < lanes; i++) {
    float s = g[0][offset + i];
    for (long k = 1; k < shards; k++) s += g[k][offset + i];
    out[i] = s;
  }
}

#if !(defined(__AVX2__) && defined(__x86_64__))
static inline void adam_sum_blocks(float *w, const float *const *g, long shards, float *m, float *v, long begin,
                                   long end, float lr, float beta1, float beta2, float epsilon, float c1, float c2) {
  float sum[BLOCK];
  for (long i = begin; i < end; i += BLOCK) {
    gradient_sum_block(sum, g, shards, i, BLOCK);
    adam_block(w + i, sum, m + i, v + i, lr, beta1, beta2, epsilon, c1, c2);
  }
}
#endif

// MARK: - Drivers (shared by both paths)

void ggep_softplus_f32(float *x, long n) {
  long full = n - n % BLOCK;
  for (long i = 0; i < full; i += BLOCK) softplus_block(x + i);
  if (full < n) {
    float bx[BLOCK] = {0};
    memcpy(bx, x + full, (size_t)(n - full) * sizeof(float));
    softplus_block(bx);
    memcpy(x + full, bx, (size_t)(n - full) * sizeof(float));
  }
}

void ggep_softplus_with_derivative_f32(float *x, float *d, long n) {
  long full = n - n % BLOCK;
  for (long i = 0; i < full; i += BLOCK) softplus_with_derivative_block(x + i, d + i);
  if (full < n) {
    float bx[BLOCK] = {0}, bd[BLOCK] = {0};
    memcpy(bx, x + full, (size_t)(n - full) * sizeof(float));
    softplus_with_derivative_block(bx, bd);
    memcpy(x + full, bx, (size_t)(n - full) * sizeof(float));
    memcpy(d + full, bd, (size_t)(n - full) * sizeof(float));
  }
}

void ggep_sigmoid_f32(float *x, long n) {
  long full = n - n % BLOCK;
  for (long i = 0; i < full; i += BLOCK) sigmoid_block(x + i);
  if (full < n) {
    float bx[BLOCK] = {0};
    memcpy(bx, x + full, (size_t)(n - full) * sizeof(float));
    sigmoid_block(bx);
    memcpy(x + full, bx, (size_t)(n - full) * sizeof(float));
  }
}

void ggep_softplus_derivative_from_output_f32(float *g, const float *y, long n) {
  long full = n - n % BLOCK;
  for (long i = 0; i < full; i += BLOCK) softplus_derivative_block(g + i, y + i);
  if (full < n) {
    float bg[BLOCK] = {0}, by[BLOCK] = {0};
    memcpy(bg, g + full, (size_t)(n - full) * sizeof(float));
    memcpy(by, y + full, (size_t)(n - full) * sizeof(float));
    softplus_derivative_block(bg, by);
    memcpy(g + full, bg, (size_t)(n - full) * sizeof(float));
  }
}

void ggep_sigmoid_derivative_from_output_f32(float *g, const float *y, long n) {
  long full = n - n % BLOCK;
  for (long i = 0; i < full; i += BLOCK) sigmoid_derivative_block(g + i, y + i);
  if (full < n) {
    float bg[BLOCK] = {0}, by[BLOCK] = {0};
    memcpy(bg, g + full, (size_t)(n - full) * sizeof(float));
    memcpy(by, y + full, (size_t)(n - full) * sizeof(float));
    sigmoid_derivative_block(bg, by);
    memcpy(g + full, bg, (size_t)(n - full) * sizeof(float));
  }
}

void ggep_multiply_f32(float *g, const float *d, long n) {
  for (long i = 0; i < n; i++) g[i] *= d[i];
}

double ggep_bernoulli_logits_f32(const float *l, const float *x, float *grad, float scale, long n) {
  bernoulli_acc acc = bernoulli_start();
  long full = n - n % BLOCK;
  for (long i = 0; i < full; i += BLOCK) bernoulli_block(l + i, x + i, grad ? grad + i : NULL, scale, BLOCK, &acc);
  if (full < n) {
    float bl[BLOCK] = {0}, bx[BLOCK] = {0}, bg[BLOCK] = {0};
    memcpy(bl, l + full, (size_t)(n - full) * sizeof(float));
    memcpy(bx, x + full, (size_t)(n - full) * sizeof(float));
    bernoulli_block(bl, bx, grad ? bg : NULL, scale, (int)(n - full), &acc);
    if (grad) memcpy(grad + full, bg, (size_t)(n - full) * sizeof(float));
  }
  return bernoulli_finish(acc);
}

void ggep_adam_sum_f32(float *w, const float *const *g, long shards, float *m, float *v, long begin, long end,
                       float lr, float beta1, float beta2, float epsilon, float c1, float c2) {
  // Per element: the shard gradients added in shard order (one IEEE float addition per shard,
  // the same bits in any lane and in the scalar tail sum), then the update of adam_block. With
  // one shard that is the gradient itself.
  if (end <= begin) return;
  long n = end - begin;
  long full = begin + (n - n % BLOCK);
  adam_sum_blocks(w, g, shards, m, v, begin, full, lr, beta1, beta2, epsilon, c1, c2);
  if (full < end) {
    float sum[BLOCK] = {0}, bw[BLOCK] = {0}, bm[BLOCK] = {0}, bv[BLOCK] = {0};
    size_t bytes = (size_t)(end - full) * sizeof(float);
    gradient_sum_block(sum, g, shards, full, (int)(end - full));
    memcpy(bw, w + full, bytes);
    memcpy(bm, m + full, bytes);
    memcpy(bv, v + full, bytes);
    adam_block(bw, sum, bm, bv, lr, beta1, beta2, epsilon, c1, c2);
    memcpy(w + full, bw, bytes);
    memcpy(m + full, bm, bytes);
    memcpy(v + full, bv, bytes);
  }
}

