// Llama RMSNorm: y = w * round(x * rsqrt(mean(x^2) + eps)), statistics in f32. The normalised value
// is rounded to the model dtype before the weight multiply, as Hugging Face does.
#pragma once

#include "common.h"

namespace llmcc::cpu_kernels {

// One vector of H values.
template <typename T>
inline void rms_norm_row(const T* x, const T* w, T* y, int64_t H, float eps) {
  float sum = 0.0f;
  for (int64_t i = 0; i < H; ++i) {
    float v = to_float(x[i]);
    sum += v * v;
  }
  float scale = 1.0f / std::sqrt(sum / static_cast<float>(H) + eps);
  for (int64_t i = 0; i < H; ++i)
    y[i] = from_float<T>(to_float(w[i]) * round_to<T>(to_float(x[i]) * scale));
}

template <typename T>
void rms_norm(const T* x, const T* w, T* y, int64_t rows, int64_t H, float eps) {
#pragma omp parallel for schedule(static) if (rows > 1)
  for (int64_t r = 0; r < rows; ++r) rms_norm_row(x + r * H, w, y + r * H, H, eps);
}

// Qwen3's per-head RMSNorm of q and k inside each fused qkv row: every q head (of hq) is
// normalised with q_w, every k head (of hkv) with k_w, each over its head_dim d; v is copied.
template <typename T>
void qk_rms_norm(const T* x, const T* q_w, const T* k_w, T* y, int64_t rows, int64_t hq,
                 int64_t hkv, int64_t d, float eps) {
  const int64_t width = (hq + 2 * hkv) * d;
#pragma omp parallel for schedule(static) if (rows > 1)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * width;
    T* yr = y + r * width;
    for (int64_t h = 0; h < hq + hkv; ++h)
      rms_norm_row(xr + h * d, h < hq ? q_w : k_w, yr + h * d, d, eps);
    for (int64_t i = (hq + hkv) * d; i < width; ++i) yr[i] = xr[i];
  }
}

}  // namespace llmcc::cpu_kernels
