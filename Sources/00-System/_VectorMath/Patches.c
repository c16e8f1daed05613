// im2col / col2im for square images (ggep's convolutional generators).
//
// One geometry serves both directions of both layer kinds: a "large" plane of side L and a
// "small" grid of side S, with kernel K, stride s and padding p, related by
//     large[c][i·s − p + u][j·s − p + v]  ↔  cols[(c·K + u)·K + v][i·S + j]
// (a Conv2d reads large = its input and writes small = its output; a ConvTranspose2d the
// other way round). Each column row is a (c, u, v); its entries sit at column offset `col0` of
// a row-major matrix with leading dimension `ld`, so several images can share one GEMM.
//
// The valid j of each (u, v) form one interval, computed once, so the inner loops have no
// branch: with s = 1 they are contiguous and the compiler vectorises them. Only additions and
// copies: no floating-point reassociation across elements, so the result of an image does not
// depend on its neighbours in the batch.

#include "_VectorMath.h"

static inline long first_valid(long offset, long stride) {
  // smallest i ≥ 0 with i·stride + offset ≥ 0
  return offset >= 0 ? 0 : (-offset + stride - 1) / stride;
}

static inline long end_valid(long offset, long stride, long large, long small) {
  // one past the largest i < small with i·stride + offset < large
  if (offset >= large) return 0;
  long e = (large - 1 - offset) / stride + 1;
  return e < small ? e : small;
}

void ggep_im2col_f32(const float *image, long channels, long large, long small, long kernel, long stride, long padding,
                     float *cols, long ld, long col0) {
  for (long c = 0; c < channels; c++) {
    const float *plane = image + c * large * large;
    for (long u = 0; u < kernel; u++) {
      const long oi = u - padding;
      const long i0 = first_valid(oi, stride), i1 = end_valid(oi, stride, large, small);
      for (long v = 0; v < kernel; v++) {
        float *row = cols + ((c * kernel + u) * kernel + v) * ld + col0;
        const long oj = v - padding;
        const long j0 = first_valid(oj, stride), j1 = end_valid(oj, stride, large, small);
        for (long i = 0; i < small; i++) {
          float *out = row + i * small;
          if (i < i0 || i >= i1 || j0 >= j1) {
            for (long j = 0; j < small; j++) out[j] = 0;
            continue;
          }
          const float *in = plane + (i * stride + oi) * large + oj;
          for (long j = 0; j < j0; j++) out[j] = 0;
          if (stride == 1) {
            for (long j = j0; j < j1; j++) out[j] = in[j];
          } else if (stride == 2) {
            for (long j = j0; j < j1; j++) out[j] = in[2 * j];
          } else {
            for (long j = j0; j < j1; j++) out[j] = in[j * stride];
          }
          for (long j = j1; j < small; j++) out[j] = 0;
        }
      }
    }
  }
}

void ggep_col2im_f32(const float *cols, long ld, long col0, long channels, long large, long small, long kernel, long stride,
                     long padding, float *image) {
  for (long c = 0; c < channels; c++) {
    float *plane = image + c * large * large;
    for (long u = 0; u < kernel; u++) {
      const long oi = u - padding;
      const long i0 = first_valid(oi, stride), i1 = end_valid(oi, stride, large, small);
      for (long v = 0; v < kernel; v++) {
        const float *row = cols + ((c * kernel + u) * kernel + v) * ld + col0;
        const long oj = v - padding;
        const long j0 = first_valid(oj, stride), j1 = end_valid(oj, stride, large, small);
        if (j0 >= j1) continue;
        for (long i = i0; i < i1; i++) {
          const float *in = row + i * small;
          float *out = plane + (i * stride + oi) * large + oj;
          if (stride == 1) {
            for (long j = j0; j < j1; j++) out[j] += in[j];
          } else if (stride == 2) {
            for (long j = j0; j < j1; j++) out[2 * j] += in[j];
          } else {
            for (long j = j0; j < j1; j++) out[j * stride] += in[j];
          }
        }
      }
    }
  }
}
