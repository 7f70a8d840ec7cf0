// int4 weights repacked into tiles of 8 output columns, for AVX2. MLC's q4 NK layout keeps each
// output row's nibbles in one array and its f16 scales in another, so a row-per-lane kernel must
// reduce every row horizontally and read two streams. Here each group of 32 inputs of 8 adjacent
// columns is one 144-byte block: 4 steps x 8 columns x 4 nibble bytes, then the 8 columns' f16
// scales. A 256-bit load then holds 8 inputs of each of 8 columns, one column per 32-bit lane,
// so one vpmaddubsw against a broadcast of 4 activation bytes advances 8 outputs, the scales are
// applied once per group with one FMA, and nothing is reduced across lanes. Decode reads one
// stream with the scales next to their nibbles. The layout is int4_tile_layout.h's.
#pragma once

#include <cstring>

#include "int4_tile_layout.h"
#include "int8_dot.h"

namespace llmcc::cpu_kernels {

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)

// R activation rows (from r0) against tile t: out[r * 8 + c] = column 8t + c of row r0 + r.
template <int R>
inline void dot_int4_tile8(const uint8_t* tile, const Int8Activations& a, int64_t r0, float* out) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i ones = _mm256_set1_epi16(1);
  const int64_t groups = a.groups, sgroups = a.groups + 16;
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  // Fully unrolled (the library builds at -O2, which would not), so sums and acc stay in registers.
  for (int64_t g = 0; g < groups; ++g) {
    const uint8_t* block = tile + g * kTileBlockBytes;
    __m256i sums[R];
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 32 * j));
      const __m256i lo = _mm256_and_si256(w, low4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(w, 4), low4);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) {
        // Even inputs 8j, 8j+2, .. meet the low nibbles, odd ones the high (nibble layout).
        const int8_t* xq = a.q.data() + (r0 + r) * a.stride + (g / 4) * 128 + (g % 4) * 16 + 4 * j;
        int32_t even, odd;
        std::memcpy(&even, xq, 4);
        std::memcpy(&odd, xq + 64, 4);
        // Four codes of at most 15 times |q| <= 127 per pair, eight pairs: fits in int16.
        const __m256i p = _mm256_add_epi16(_mm256_maddubs_epi16(lo, _mm256_set1_epi32(even)),
                                           _mm256_maddubs_epi16(hi, _mm256_set1_epi32(odd)));
        sums[r] = j == 0 ? p : _mm256_add_epi16(sums[r], p);
      }
    }
    const __m256 scales =
        _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 128)));
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const int64_t at = (r0 + r) * sgroups + g;
      const __m256 dot = _mm256_cvtepi32_ps(_mm256_madd_epi16(sums[r], ones));
      // d_x * dot - 7 * d_x * sum(q_x): the codes' offset of 7 comes off per group.
      const __m256 v =
          _mm256_fmsub_ps(dot, _mm256_set1_ps(a.scale[at]), _mm256_set1_ps(7.0f * a.dsum[at]));
      acc[r] = _mm256_fmadd_ps(scales, v, acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) _mm256_storeu_ps(out + 8 * r, acc[r]);
}

// y = x W^T (+ bias) (+ residual) with W in tiles of 8 columns. Tiles are split over threads in
// blocks that stay in L2 while every activation row passes over them, four rows at a time.
template <typename TX, typename TO>
void linear_int4_tile8(const TX* x, const uint8_t* tiles, const TO* residual, TO* y, int64_t rows,
                       int64_t N, int64_t K, const TO* bias = nullptr) {
  static thread_local Int8Activations a;
  quantize_activations(x, rows, K, true, a);
  const Int8Activations& act = a;
  const int64_t groups = a.groups, n_tiles = (N + kTileColumns - 1) / kTileColumns;
  constexpr int64_t kBlockTiles = 8;
  const int64_t blocks = (n_tiles + kBlockTiles - 1) / kBlockTiles;
  parallel_for(blocks, rows * N * K, [&](int64_t b) {
    const int64_t t_end = std::min(n_tiles, (b + 1) * kBlockTiles);
    float out[4 * kTileColumns];
    for (int64_t r0 = 0; r0 < rows; r0 += 4) {
      const int64_t R = std::min<int64_t>(4, rows - r0);
      for (int64_t t = b * kBlockTiles; t < t_end; ++t) {
        const uint8_t* tile = tiles + t * groups * kTileBlockBytes;
        switch (R) {
          case 4:
            dot_int4_tile8<4>(tile, act, r0, out);
            break;
          case 3:
            dot_int4_tile8<3>(tile, act, r0, out);
            break;
          case 2:
            dot_int4_tile8<2>(tile, act, r0, out);
            break;
          default:
            dot_int4_tile8<1>(tile, act, r0, out);
            break;
        }
        const int64_t columns = std::min(kTileColumns, N - t * kTileColumns);
        for (int64_t r = 0; r < R; ++r)
          for (int64_t c = 0; c < columns; ++c) {
            const int64_t n = t * kTileColumns + c;
            y[(r0 + r) * N + n] = linear_epilogue(out[r * 8 + c], bias, residual, r0 + r, n, N);
          }
      }
    }
  });
}

#endif  // AVX2 && FMA && F16C

}  // namespace llmcc::cpu_kernels
