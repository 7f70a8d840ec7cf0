// y[r, n] = sum_k x[r, k] * w[n, k] (+ bias[n]) (+ residual[r, n]), accumulated in f32.
// The weight is [N, K] as in torch.nn.Linear. Work is split over blocks of output columns, so
// each weight row is read from memory once whatever the number of rows; inside a block, register
// tiles of rows x columns (f32_tile.h) reuse every load, and every output is summed in one order.
#pragma once

#include <algorithm>
#include <vector>

#include "dot.h"
#include "f32_tile.h"

namespace llmcc::cpu_kernels {

template <typename TX, typename TW, typename TO>
void linear(const TX* x, const TW* w, const TO* residual, TO* y, int64_t rows, int64_t N, int64_t K,
            const TO* bias = nullptr) {
  namespace t = f32_tile;
  std::vector<float> x_f32;
  const float* xs;
  if constexpr (std::is_same_v<TX, float>) {
    xs = x;
  } else {
    x_f32.resize(static_cast<size_t>(rows * K));
    widen(x, x_f32.data(), rows * K);
    xs = x_f32.data();
  }
  constexpr int64_t kBlock = 4 * t::kCols;  // output columns per task
  const int64_t blocks = (N + kBlock - 1) / kBlock;
  parallel_for(blocks, rows * N * K, [&](int64_t b) {
    const int64_t n0 = b * kBlock, n1 = std::min(N, n0 + kBlock);
    // The block's weight rows, widened to f32 where the tile cannot read TW itself (bf16).
    static thread_local std::vector<float> w_f32;
    auto run = [&](const auto* wb) {  // wb: the block's rows, wb[(n - n0) * K + k]
      for (int64_t r0 = 0; r0 < rows; r0 += t::kRows) {
        const bool full_rows = r0 + t::kRows <= rows;
        for (int64_t c0 = n0; c0 < n1; c0 += t::kCols) {
          if (full_rows && c0 + t::kCols <= n1) {
            float out[t::kRows][t::kCols];
            t::tile(xs + r0 * K, wb + (c0 - n0) * K, K, out);
            for (int64_t r = 0; r < t::kRows; ++r)
              for (int64_t c = 0; c < t::kCols; ++c)
                y[(r0 + r) * N + c0 + c] =
                    linear_epilogue(out[r][c], bias, residual, r0 + r, c0 + c, N);
            continue;
          }
          for (int64_t r = r0; r < std::min(rows, r0 + t::kRows); ++r)
            for (int64_t c = c0; c < std::min(n1, c0 + t::kCols); ++c)
              y[r * N + c] = linear_epilogue(t::dot(xs + r * K, wb + (c - n0) * K, K), bias,
                                             residual, r, c, N);
        }
      }
    };
    if constexpr (t::kDirect<TW>) {
      run(w + n0 * K);
    } else {
      w_f32.resize(static_cast<size_t>(kBlock * K));
      widen(w + n0 * K, w_f32.data(), (n1 - n0) * K);
      run(static_cast<const float*>(w_f32.data()));
    }
  });
}

}  // namespace llmcc::cpu_kernels
