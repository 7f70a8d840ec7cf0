// RMSNorm, statistics in f32, in the two forms Hugging Face uses:
//   Llama: y = w * round(x * rsqrt(mean(x^2) + eps)), the normalised value rounded to the model
//          dtype before the weight multiply;
//   Gemma: y = round(x * rsqrt(mean(x^2) + eps) * (1 + w)), everything in f32, one rounding.
// `weight_offset` is the 1 of Gemma's (1 + w); `round_before_weight` picks Llama's rounding.
#pragma once

#include "common.h"

namespace llmcc::cpu_kernels {

// One vector of H values.
template <typename T>
inline void rms_norm_row(const T* x, const T* w, T* y, int64_t H, float eps,
                         float weight_offset = 0.0f, bool round_before_weight = true) {
  float sum = 0.0f;
  int64_t i = 0;
#if defined(__AVX512F__)
  // 16 partial sums (one chain of dependent adds cost 3% of a batched decode step).
  if constexpr (std::is_same_v<T, half>) {
    __m512 acc = _mm512_setzero_ps();
    for (; i + 16 <= H; i += 16) {
      const __m512 v = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + i)));
      acc = _mm512_fmadd_ps(v, v, acc);
    }
    sum = _mm512_reduce_add_ps(acc);
  }
#endif
  for (; i < H; ++i) {
    float v = to_float(x[i]);
    sum += v * v;
  }
  float scale = 1.0f / std::sqrt(sum / static_cast<float>(H) + eps);
  for (int64_t i = 0; i < H; ++i) {
    const float normed = to_float(x[i]) * scale;
    y[i] = from_float<T>((weight_offset + to_float(w[i])) *
                         (round_before_weight ? round_to<T>(normed) : normed));
  }
}

template <typename T>
void rms_norm(const T* x, const T* w, T* y, int64_t rows, int64_t H, float eps,
              float weight_offset = 0.0f, bool round_before_weight = true) {
  parallel_for(rows, rows * H * 4, [&](int64_t r) {
    rms_norm_row(x + r * H, w, y + r * H, H, eps, weight_offset, round_before_weight);
  });
}

// Qwen3's per-head RMSNorm of q and k inside each fused qkv row: every q head (of hq) is
// normalised with q_w, every k head (of hkv) with k_w, each over its head_dim d; v is copied.
template <typename T>
void qk_rms_norm(const T* x, const T* q_w, const T* k_w, T* y, int64_t rows, int64_t hq,
                 int64_t hkv, int64_t d, float eps, float weight_offset = 0.0f,
                 bool round_before_weight = true) {
  const int64_t width = (hq + 2 * hkv) * d;
  parallel_for(rows, rows * width * 4, [&](int64_t r) {
    const T* xr = x + r * width;
    T* yr = y + r * width;
    for (int64_t h = 0; h < hq + hkv; ++h)
      rms_norm_row(xr + h * d, h < hq ? q_w : k_w, yr + h * d, d, eps, weight_offset,
                   round_before_weight);
    for (int64_t i = (hq + hkv) * d; i < width; ++i) yr[i] = xr[i];
  });
}

}  // namespace llmcc::cpu_kernels
