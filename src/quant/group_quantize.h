// MLC's group quantization (reference/mlc-compile.md §4.2), bit for bit:
//   E = 32 / bits values per uint32 word, max_int = 2^(bits-1) - 1, groups of G along K;
//   scale = max|w| / max_int over the group, in the model dtype;
//   q = clamp(round(w / scale + max_int), 0, 2 max_int), each op rounded to the model dtype as
//       TVM's generated code does, round-half-even;
//   packed least significant first, zero past K; q_weight [N, ceil(K/G) G/E], q_scale
//   [N, ceil(K/G)] (NK), or both transposed (KN).
// One deviation: a group that is all zeros has scale 0, where MLC divides 0 by 0; we store
// q = max_int, which dequantizes to exactly 0, as MLC's result does.
// q8f16_1 (llmcc's own) is the same algorithm with bits = 8.
#pragma once

#include <cstdint>
#include <vector>

#include "kernels/cpu/common.h"

namespace llmcc {

struct GroupQuantLayout {
  int bits = 4;
  int group_size = 32;
  int64_t rows = 0;  // N
  int64_t cols = 0;  // K

  int elems_per_word() const { return 32 / bits; }
  int max_int() const { return (1 << (bits - 1)) - 1; }
  int64_t num_groups() const { return (cols + group_size - 1) / group_size; }
  int64_t words_per_row() const { return num_groups() * group_size / elems_per_word(); }
};

// Quantizes rows [row_begin, row_end) of w [N, K] into NK-layout q_weight and q_scale.
template <typename T>
void group_quantize_rows(const T* w, const GroupQuantLayout& L, int64_t row_begin, int64_t row_end,
                         uint32_t* q_weight, T* q_scale) {
  using cpu_kernels::from_float;
  using cpu_kernels::round_to;
  using cpu_kernels::to_float;
  const int E = L.elems_per_word(), max_int = L.max_int(), bits = L.bits;
  const int64_t K = L.cols, G = L.group_size, words = L.words_per_row();
  std::vector<uint32_t> codes(static_cast<size_t>(L.num_groups() * G));
  for (int64_t n = row_begin; n < row_end; ++n) {
    const T* row = w + n * K;
    for (int64_t g = 0; g < L.num_groups(); ++g) {
      float max_abs = 0.0f;
      for (int64_t k = g * G; k < std::min(K, (g + 1) * G); ++k)
        max_abs = std::max(max_abs, std::fabs(to_float(row[k])));
      const float scale = round_to<T>(max_abs / static_cast<float>(max_int));
      q_scale[n * L.num_groups() + g] = from_float<T>(scale);
      for (int64_t k = g * G; k < (g + 1) * G; ++k) {
        uint32_t q = 0;  // padding past K packs as zero
        if (k < K) {
          if (scale == 0.0f) {
            q = static_cast<uint32_t>(max_int);
          } else {
            float t =
                round_to<T>(round_to<T>(to_float(row[k]) / scale) + static_cast<float>(max_int));
            float r = std::nearbyint(t);
            r = std::min(std::max(r, 0.0f), static_cast<float>(2 * max_int));
            q = static_cast<uint32_t>(r);
          }
        }
        codes[k] = q;
      }
    }
    for (int64_t j = 0; j < words; ++j) {
      uint32_t word = 0;
      for (int r = 0; r < E; ++r) word |= codes[j * E + r] << (r * bits);
      q_weight[n * words + j] = word;
    }
  }
}

// Value k of row n from NK-layout data: (code - max_int) * scale.
template <typename T>
float group_dequantize(const uint32_t* q_weight, const T* q_scale, const GroupQuantLayout& L,
                       int64_t n, int64_t k) {
  const int E = L.elems_per_word();
  uint32_t word = q_weight[n * L.words_per_row() + k / E];
  int code = static_cast<int>((word >> ((k % E) * L.bits)) & ((1u << L.bits) - 1));
  return static_cast<float>(code - L.max_int()) *
         cpu_kernels::to_float(q_scale[n * L.num_groups() + k / L.group_size]);
}

}  // namespace llmcc
