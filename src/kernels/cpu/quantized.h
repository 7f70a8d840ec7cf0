// Consumers of group-quantized weights (MLC's q_weight/q_scale, see src/quant/group_quantize.h).
// Each dequantizes what it needs on the fly; no dequantized copy of a weight is ever made.
#pragma once

#include <vector>

#include "dot.h"
#include "int8_dot.h"

namespace llmcc::cpu_kernels {

// Dequantizes row n of NK-layout data into out[0, K).
template <int BITS, int G, typename TS>
inline void dequantize_row_nk(const uint32_t* q_row, const TS* scale_row, float* out, int64_t K) {
  constexpr int E = 32 / BITS, MAX = (1 << (BITS - 1)) - 1;
  constexpr uint32_t MASK = (1u << BITS) - 1;
  for (int64_t k = 0; k < K; k += G) {
    const float s = to_float(scale_row[k / G]);
    const int64_t end = k + G < K ? k + G : K;
    for (int64_t i = k; i < end; ++i) {
      const uint32_t code = (q_row[i / E] >> ((i % E) * BITS)) & MASK;
      out[i] = static_cast<float>(static_cast<int>(code) - MAX) * s;
    }
  }
}

// y[r, n] = sum_k x[r, k] * W[n, k] (+ bias[n]) (+ residual), W group-quantized. `transposed` is
// MLC's KN layout: q_weight [words, N], q_scale [groups, N].
template <int BITS, int G, typename TX, typename TS, typename TO>
void linear_q(const TX* x, const uint32_t* qw, const TS* qs, const TO* residual, TO* y,
              int64_t rows, int64_t N, int64_t K, bool transposed, const TO* bias = nullptr) {
#if defined(LLMCC_HAVE_INT8_DOT)
  if constexpr ((BITS == 4 || BITS == 8) && G == 32 && std::is_same_v<TS, half>) {
    if (!transposed) {
      linear_int8_dot<BITS>(x, qw, qs, residual, y, rows, N, K, bias);
      return;
    }
  }
#endif
  constexpr int E = 32 / BITS;
  const int64_t groups = (K + G - 1) / G, words = groups * G / E;
  std::vector<float> x_f32(static_cast<size_t>(rows * K));
  widen(x, x_f32.data(), rows * K);
  parallel_for(N, rows * N * K, [&](int64_t n) {
    static thread_local std::vector<float> w;
    static thread_local std::vector<uint32_t> q_row;
    static thread_local std::vector<TS> s_row;
    w.resize(static_cast<size_t>(K));
    q_row.resize(transposed ? static_cast<size_t>(words) : 0);
    s_row.resize(transposed ? static_cast<size_t>(groups) : 0);
    if (transposed) {
      for (int64_t j = 0; j < words; ++j) q_row[j] = qw[j * N + n];
      for (int64_t g = 0; g < groups; ++g) s_row[g] = qs[g * N + n];
      dequantize_row_nk<BITS, G>(q_row.data(), s_row.data(), w.data(), K);
    } else {
      dequantize_row_nk<BITS, G>(qw + n * words, qs + n * groups, w.data(), K);
    }
    for (int64_t r = 0; r < rows; ++r) {
      const float acc = dot_f32(x_f32.data() + r * K, w.data(), K);
      y[r * N + n] = linear_epilogue(acc, bias, residual, r, n, N);
    }
  });
}

// out[i, :] = dequantized row ids[i] of an NK-layout embedding.
template <int BITS, int G, typename TS>
int take_q(const uint32_t* qw, const TS* qs, const int32_t* ids, TS* out, int64_t n, int64_t K,
           int64_t vocab) {
  constexpr int E = 32 / BITS;
  const int64_t groups = (K + G - 1) / G, words = groups * G / E;
  std::vector<float> row(static_cast<size_t>(K));
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= vocab)
      return fail("token id %d at position %lld is outside the vocabulary [0, %lld)", ids[i],
                  static_cast<long long>(i), static_cast<long long>(vocab));
    dequantize_row_nk<BITS, G>(qw + ids[i] * words, qs + ids[i] * groups, row.data(), K);
    for (int64_t k = 0; k < K; ++k) out[i * K + k] = from_float<TS>(row[k]);
  }
  return 0;
}

}  // namespace llmcc::cpu_kernels
