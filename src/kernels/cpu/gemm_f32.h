// Register-blocked f32 GEMM for dense (f16 or f32) weights, the prefill path of q0f16 and q0f32.
// linear.h's row-at-a-time dot products reduce every output horizontally and stream all of x past
// each weight row. Here weight columns are widened into f32 panels of 16 columns, and a 6 x 16
// tile of outputs lives in 12 registers while k advances: per k, two panel loads and six
// broadcasts of x feed twelve FMAs. Sums are f32 as in linear.h; only their order differs.
#pragma once

#include <vector>

#include "common.h"

namespace llmcc::cpu_kernels {

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)

constexpr int64_t kGemmPanelColumns = 16;
constexpr int64_t kGemmTileRows = 6;
constexpr int64_t kGemmBlockPanels = 8;  // 128 columns share each pass over x
constexpr int64_t kGemmDepth = 256;      // k per packed chunk: 8 panels x 16 KB stay in L2

// panel[k * 16 + c] = w[n0 + c, k0 + k] in f32 for k < depth, zero for columns past N.
template <typename TW>
void pack_gemm_panel(const TW* w, int64_t n0, int64_t N, int64_t K, int64_t k0, int64_t depth,
                     float* panel) {
  const int64_t columns = std::min(kGemmPanelColumns, N - n0);
  for (int64_t c = 0; c < kGemmPanelColumns; ++c) {
    const TW* row = w + (n0 + c) * K + k0;
    for (int64_t k = 0; k < depth; ++k)
      panel[k * kGemmPanelColumns + c] = c < columns ? to_float(row[k]) : 0.0f;
  }
}

// c[r * ldc + j] += sum_k x[(r0 + r) * K + k0 + k] * panel[k * 16 + j] for R rows, j < 16.
template <int R>
inline void gemm_tile_f32(const float* x, int64_t r0, int64_t K, int64_t k0, int64_t depth,
                          const float* panel, float* c, int64_t ldc) {
  __m256 acc[R][2];
  const float* xr[R];
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    acc[r][0] = _mm256_loadu_ps(c + r * ldc);
    acc[r][1] = _mm256_loadu_ps(c + r * ldc + 8);
    xr[r] = x + (r0 + r) * K + k0;
  }
  for (int64_t k = 0; k < depth; ++k) {
    const __m256 w0 = _mm256_loadu_ps(panel + k * kGemmPanelColumns);
    const __m256 w1 = _mm256_loadu_ps(panel + k * kGemmPanelColumns + 8);
#pragma GCC unroll 6
    for (int r = 0; r < R; ++r) {
      const __m256 xb = _mm256_broadcast_ss(xr[r] + k);
      acc[r][0] = _mm256_fmadd_ps(xb, w0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(xb, w1, acc[r][1]);
    }
  }
#pragma GCC unroll 6
  for (int r = 0; r < R; ++r) {
    _mm256_storeu_ps(c + r * ldc, acc[r][0]);
    _mm256_storeu_ps(c + r * ldc + 8, acc[r][1]);
  }
}

// y = x W^T (+ bias) (+ residual) for x [rows, K] in f32 and W [N, K]. A task is a block of 128
// columns: for each chunk of 256 k, its 8 panels are packed once, and each 6-row slice of x
// (6 KB, in L1) meets all 8 before the next slice, so x crosses the cache once per block rather
// than once per panel. Sums collect in an f32 block [rows, 128] until the last chunk.
template <typename TW, typename TO>
void gemm_f32(const float* x, const TW* w, const TO* residual, TO* y, int64_t rows, int64_t N,
              int64_t K, const TO* bias) {
  constexpr int64_t kBlockColumns = kGemmBlockPanels * kGemmPanelColumns;
  const int64_t blocks = (N + kBlockColumns - 1) / kBlockColumns;
  parallel_for(blocks, rows * N * K, [&](int64_t b) {
    static thread_local std::vector<float> panels, sums;
    panels.resize(static_cast<size_t>(kGemmBlockPanels * kGemmDepth * kGemmPanelColumns));
    sums.assign(static_cast<size_t>(rows * kBlockColumns), 0.0f);
    const int64_t n_begin = b * kBlockColumns;
    const int64_t n_panels = std::min(kGemmBlockPanels, (N - n_begin + 15) / kGemmPanelColumns);
    for (int64_t k0 = 0; k0 < K; k0 += kGemmDepth) {
      const int64_t depth = std::min(kGemmDepth, K - k0);
      for (int64_t p = 0; p < n_panels; ++p)
        pack_gemm_panel(w, n_begin + p * kGemmPanelColumns, N, K, k0, depth,
                        panels.data() + p * kGemmDepth * kGemmPanelColumns);
      for (int64_t r0 = 0; r0 < rows; r0 += kGemmTileRows) {
        const int64_t R = std::min(kGemmTileRows, rows - r0);
        for (int64_t p = 0; p < n_panels; ++p) {
          const float* panel = panels.data() + p * kGemmDepth * kGemmPanelColumns;
          float* c = sums.data() + r0 * kBlockColumns + p * kGemmPanelColumns;
          switch (R) {
            case 6:
              gemm_tile_f32<6>(x, r0, K, k0, depth, panel, c, kBlockColumns);
              break;
            case 5:
              gemm_tile_f32<5>(x, r0, K, k0, depth, panel, c, kBlockColumns);
              break;
            case 4:
              gemm_tile_f32<4>(x, r0, K, k0, depth, panel, c, kBlockColumns);
              break;
            case 3:
              gemm_tile_f32<3>(x, r0, K, k0, depth, panel, c, kBlockColumns);
              break;
            case 2:
              gemm_tile_f32<2>(x, r0, K, k0, depth, panel, c, kBlockColumns);
              break;
            default:
              gemm_tile_f32<1>(x, r0, K, k0, depth, panel, c, kBlockColumns);
              break;
          }
        }
      }
    }
    const int64_t columns = std::min(kBlockColumns, N - n_begin);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < columns; ++j)
        y[r * N + n_begin + j] =
            linear_epilogue(sums[r * kBlockColumns + j], bias, residual, r, n_begin + j, N);
  });
}

#endif  // AVX2 && FMA && F16C

}  // namespace llmcc::cpu_kernels
