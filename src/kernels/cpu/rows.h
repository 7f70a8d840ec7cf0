// Row movement: embedding lookup and row selection.
#pragma once

#include "common.h"

namespace llmcc::cpu_kernels {

// out[i, :] = table[ids[i], :]
template <typename T>
int take(const T* table, const int32_t* ids, T* out, int64_t n, int64_t H, int64_t vocab) {
  for (int64_t i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= vocab)
      return fail("token id %d at position %lld is outside the vocabulary [0, %lld)", ids[i],
                  static_cast<long long>(i), static_cast<long long>(vocab));
    std::memcpy(out + i * H, table + static_cast<int64_t>(ids[i]) * H, sizeof(T) * H);
  }
  return 0;
}

// For each of `outer` blocks of n rows: out[b, :] = x[idx[b], :].
template <typename T>
int gather_rows(const T* x, const int32_t* idx, T* out, int64_t outer, int64_t n, int64_t count,
                int64_t H) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t b = 0; b < count; ++b) {
      if (idx[b] < 0 || idx[b] >= n)
        return fail("row index %d is outside [0, %lld)", idx[b], static_cast<long long>(n));
      std::memcpy(out + (o * count + b) * H, x + (o * n + idx[b]) * H, sizeof(T) * H);
    }
  return 0;
}

}  // namespace llmcc::cpu_kernels
