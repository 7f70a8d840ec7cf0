// y[r, n] = sum_k x[r, k] * w[n, k] (+ bias[n]) (+ residual[r, n]), accumulated in f32.
// The weight is [N, K] as in torch.nn.Linear. Work is split over output columns so each weight row
// is read from memory once, whatever the number of rows.
#pragma once

#include <vector>

#include "dot.h"

namespace llmcc::cpu_kernels {

template <typename TX, typename TW, typename TO>
void linear(const TX* x, const TW* w, const TO* residual, TO* y, int64_t rows, int64_t N, int64_t K,
            const TO* bias = nullptr) {
  std::vector<float> x_f32;
  const float* xs;
  if constexpr (std::is_same_v<TX, float>) {
    xs = x;
  } else {
    x_f32.resize(static_cast<size_t>(rows * K));
    widen(x, x_f32.data(), rows * K);
    xs = x_f32.data();
  }
  parallel_for(N, rows * N * K, [&](int64_t n) {
    static thread_local std::vector<float> w_f32;
    if (!std::is_same_v<TW, float>) w_f32.resize(static_cast<size_t>(K));
    // A single row (decode) reads f16 weights directly; several rows share one widened copy.
    const bool direct = std::is_same_v<TW, half> && rows < 4;
    const float* wr = nullptr;
    if constexpr (std::is_same_v<TW, float>) {
      wr = w + n * K;
    } else if (!direct) {
      widen(w + n * K, w_f32.data(), K);
      wr = w_f32.data();
    }
    for (int64_t r = 0; r < rows; ++r) {
      float acc;
      if constexpr (std::is_same_v<TW, half>) {
        acc = direct ? dot_f32_f16(xs + r * K, w + n * K, K) : dot_f32(xs + r * K, wr, K);
      } else {
        acc = dot_f32(xs + r * K, wr, K);
      }
      y[r * N + n] = linear_epilogue(acc, bias, residual, r, n, N);
    }
  });
}

}  // namespace llmcc::cpu_kernels
