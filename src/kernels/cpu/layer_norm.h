// LayerNorm with a bias (GPT-2, NeoX, BERT): y = (x - mean) * rsqrt(var + eps) * w + b, with the
// statistics and the affine step in f32 and one rounding to T, as torch's layer_norm does for
// half inputs. The variance is the biased one (divided by H).
#pragma once

#include "common.h"

namespace llmcc::cpu_kernels {

template <typename T>
void layer_norm(const T* x, const T* w, const T* b, T* y, int64_t rows, int64_t H, float eps) {
  parallel_for(rows, rows * H * 6, [&](int64_t r) {
    const T* xr = x + r * H;
    T* yr = y + r * H;
    float mean = 0.0f;
    for (int64_t i = 0; i < H; ++i) mean += to_float(xr[i]);
    mean /= static_cast<float>(H);
    float var = 0.0f;
    for (int64_t i = 0; i < H; ++i) {
      const float c = to_float(xr[i]) - mean;
      var += c * c;
    }
    const float inv = 1.0f / std::sqrt(var / static_cast<float>(H) + eps);
    for (int64_t i = 0; i < H; ++i)
      yr[i] = from_float<T>((to_float(xr[i]) - mean) * inv * to_float(w[i]) + to_float(b[i]));
  });
}

}  // namespace llmcc::cpu_kernels
