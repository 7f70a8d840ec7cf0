// Llama RMSNorm: y = w * round(x * rsqrt(mean(x^2) + eps)), statistics in f32. The normalised value
// is rounded to the model dtype before the weight multiply, as Hugging Face does.
#pragma once

#include "common.h"

namespace llmcc::cpu_kernels {

template <typename T>
void rms_norm(const T* x, const T* w, T* y, int64_t rows, int64_t H, float eps) {
#pragma omp parallel for schedule(static) if (rows > 1)
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * H;
    float sum = 0.0f;
    for (int64_t i = 0; i < H; ++i) {
      float v = to_float(xr[i]);
      sum += v * v;
    }
    float scale = 1.0f / std::sqrt(sum / static_cast<float>(H) + eps);
    for (int64_t i = 0; i < H; ++i)
      y[r * H + i] = from_float<T>(to_float(w[i]) * round_to<T>(to_float(xr[i]) * scale));
  }
}

}  // namespace llmcc::cpu_kernels
