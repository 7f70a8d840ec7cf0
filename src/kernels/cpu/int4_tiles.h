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

constexpr int64_t kTileColumns = 8;
constexpr int64_t kTile8BlockBytes = int4_tile_block_bytes(kTileColumns);

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)

// R activation rows (from r0) against T adjacent tiles (T = 1 or 2) from `tile`:
// out[(r * T + u) * 8 + c] = column 8(t + u) + c of row r0 + r. Per step of 8 inputs, each
// broadcast of 4 activation bytes feeds T vpmaddubsw: a memory broadcast costs about as much as
// the multiply itself, so two tiles per broadcast nearly double the multiply rate. A row's int16
// sums for the group stay in registers (2T + TR + 3 live); the accumulators live in `out`, touched
// once per group. Left alone, GCC reassociates the int16 adds, hoists every product of a group and
// spills them; the empty asm statements pin each sum to its step. Every column sees the same
// operations in the same order whatever R and T are, so a row's result does not depend on the
// batch it is in.
template <int T, int R>
inline void dot_int4_tiles(const uint8_t* tile, const Int8Activations& a, int64_t r0, float* out) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const int64_t groups = a.groups, sgroups = a.groups + 16;
  const int64_t tile_bytes = groups * kTile8BlockBytes;
  const int8_t* x0 = a.q.data() + r0 * a.stride;
  const float* s0 = a.scale.data() + r0 * sgroups;
  const float* d0 = a.dsum.data() + r0 * sgroups;
#pragma GCC unroll 8
  for (int i = 0; i < R * T; ++i) _mm256_storeu_ps(out + 8 * i, _mm256_setzero_ps());
  for (int64_t g = 0; g < groups; ++g) {
    const uint8_t* block = tile + g * kTile8BlockBytes;
    const int8_t* xg = x0 + (g / 4) * 128 + (g % 4) * 16;
    __m256i sums[R * T];
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      __m256i lo[T], hi[T];
#pragma GCC unroll 2
      for (int u = 0; u < T; ++u) {
        const __m256i w =
            _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + u * tile_bytes + 32 * j));
        lo[u] = _mm256_and_si256(w, low4);
        hi[u] = _mm256_and_si256(_mm256_srli_epi16(w, 4), low4);
      }
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        // Even inputs 8j, 8j+2, .. meet the low nibbles, odd ones (64 bytes on) the high.
        const int8_t* xq = xg + r * a.stride + 4 * j;
        int32_t even_bytes, odd_bytes;
        std::memcpy(&even_bytes, xq, 4);
        std::memcpy(&odd_bytes, xq + 64, 4);
        const __m256i even = _mm256_set1_epi32(even_bytes), odd = _mm256_set1_epi32(odd_bytes);
#pragma GCC unroll 2
        for (int u = 0; u < T; ++u) {
          // Four codes of at most 15 times |q| <= 127 per pair, eight pairs: fits in int16.
          const __m256i p =
              _mm256_add_epi16(_mm256_maddubs_epi16(lo[u], even), _mm256_maddubs_epi16(hi[u], odd));
          __m256i& sum = sums[r * T + u];
          sum = j == 0 ? p : _mm256_add_epi16(sum, p);
          asm("" : "+x"(sum));
        }
      }
    }
#pragma GCC unroll 2
    for (int u = 0; u < T; ++u) {
      const __m256 scales = _mm256_cvtph_ps(
          _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + u * tile_bytes + 128)));
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) {
        const __m256 dot =
            _mm256_cvtepi32_ps(_mm256_madd_epi16(sums[r * T + u], _mm256_set1_epi16(1)));
        // d_x * dot - 7 * d_x * sum(q_x): the codes' offset of 7 comes off per group.
        const __m256 v = _mm256_fmsub_ps(dot, _mm256_set1_ps(s0[r * sgroups + g]),
                                         _mm256_set1_ps(7.0f * d0[r * sgroups + g]));
        float* acc = out + 8 * (r * T + u);
        _mm256_storeu_ps(acc, _mm256_fmadd_ps(scales, v, _mm256_loadu_ps(acc)));
      }
    }
  }
}

// y = x W^T (+ bias) (+ residual) with W in tiles of 8 columns. Tiles are split over threads in
// blocks that stay in L2 while every activation row passes over them, four rows and two tiles at
// a time.
template <typename TX, typename TO>
void linear_int4_tile8(const TX* x, const uint8_t* tiles, const TO* residual, TO* y, int64_t rows,
                       int64_t N, int64_t K, const TO* bias = nullptr) {
  static thread_local Int8Activations a;
  quantize_activations(x, rows, K, true, a);
  const Int8Activations& act = a;
  const int64_t groups = a.groups, n_tiles = (N + kTileColumns - 1) / kTileColumns;
  constexpr int64_t kBlockTiles = 8;
  const int64_t blocks = (n_tiles + kBlockTiles - 1) / kBlockTiles;
  using Dot = void (*)(const uint8_t*, const Int8Activations&, int64_t, float*);
  static constexpr Dot kDots[2][4] = {
      {dot_int4_tiles<1, 1>, dot_int4_tiles<1, 2>, dot_int4_tiles<1, 3>, dot_int4_tiles<1, 4>},
      {dot_int4_tiles<2, 1>, dot_int4_tiles<2, 2>, dot_int4_tiles<2, 3>, dot_int4_tiles<2, 4>}};
  parallel_for(blocks, rows * N * K, [&](int64_t b) {
    const int64_t t_end = std::min(n_tiles, (b + 1) * kBlockTiles);
    float out[4 * 2 * kTileColumns];
    for (int64_t r0 = 0; r0 < rows; r0 += 4) {
      const int64_t R = std::min<int64_t>(4, rows - r0);
      for (int64_t t = b * kBlockTiles; t < t_end; t += 2) {
        const int64_t T = std::min<int64_t>(2, t_end - t);
        kDots[T - 1][R - 1](tiles + t * groups * kTile8BlockBytes, act, r0, out);
        const int64_t columns = std::min(T * kTileColumns, N - t * kTileColumns);
        for (int64_t r = 0; r < R; ++r)
          for (int64_t c = 0; c < columns; ++c) {
            const int64_t n = t * kTileColumns + c;
            y[(r0 + r) * N + n] =
                linear_epilogue(out[r * T * kTileColumns + c], bias, residual, r0 + r, n, N);
          }
      }
    }
  });
}

#endif  // AVX2 && FMA && F16C

}  // namespace llmcc::cpu_kernels
