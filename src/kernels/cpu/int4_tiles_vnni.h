// int4 weights repacked into tiles of 16 output columns, for AVX-512 VNNI (int4_tile_layout.h,
// "int4-tile16"). One step of a block is 16 columns x 8 inputs in one 512-bit register, a 32-bit
// lane per column, so vpdpbusd against a broadcast of 4 activation bytes advances 16 outputs, the
// scales are applied once per group with one FMA, and nothing is reduced across lanes. Every
// matmul shape runs this one kernel: a lone decode row streams the weights (memory bound), and a
// batch of rows decodes each group's nibbles once for up to 8 rows (compute bound). A row's
// result is therefore the same whatever batch it is in, which the prefix cache and batched decode
// rely on.
#pragma once

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <vector>

#include "int4_tile_layout.h"
#include "int8_dot.h"

namespace llmcc::cpu_kernels {

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__) && defined(__F16C__)

constexpr int64_t kTile16Columns = 16;
constexpr int64_t kTile16BlockBytes = int4_tile_block_bytes(kTile16Columns);
constexpr int64_t kPrefetchBytes = 8 * kTile16BlockBytes;

// Activations quantized per group of 32 (q = round(x * 127 / amax), as quantize_activations),
// laid out for this kernel: the rows of a block sit next to each other, so the kernel reaches
// every row from one pointer per group with constant offsets, instead of holding a pointer per
// row (which spilled general registers at 8 rows).
struct Int8Panel {
  int64_t rows = 0, groups = 0;
  std::vector<int8_t> q;     // [quads of groups][rows][evens of g..g+3 | odds of g..g+3]: 128 B
  std::vector<float> scale;  // [groups][rows][d, 7 d sum(q)]: the codes' offset of 7 comes off
};

// Lanes [0, n) of 16 values of x as f32, the rest zero (none read for n <= 0).
template <typename TX>
inline __m512 load_f32x16(const TX* x, int64_t n) {
  const __mmask16 m = n >= 16  ? __mmask16(0xFFFF)
                      : n <= 0 ? __mmask16(0)
                               : static_cast<__mmask16>((1u << n) - 1);
  if constexpr (std::is_same_v<TX, float>) {
    return _mm512_maskz_loadu_ps(m, x);
  } else {
    const __m256i bits = _mm512_castsi512_si256(_mm512_maskz_loadu_epi16(m, x));
    if constexpr (std::is_same_v<TX, half>) {
      return _mm512_cvtph_ps(bits);
    } else {
      static_assert(std::is_same_v<TX, bfloat16>);
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16));
    }
  }
}

template <typename TX>
void quantize_panel(const TX* x, int64_t rows, int64_t K, Int8Panel& p) {
  p.rows = rows;
  p.groups = (K + 31) / 32;
  const int64_t quads = (p.groups + 3) / 4;
  // Every byte the kernel reads is written below, so nothing is cleared.
  p.q.resize(static_cast<size_t>(quads * rows * 128));
  p.scale.resize(static_cast<size_t>(p.groups * rows * 2));
  const __m512i evens =
      _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const __m512i odds = _mm512_add_epi32(evens, _mm512_set1_epi32(1));
  parallel_for(rows, rows * K * 4, [&](int64_t r) {
    const TX* xr = x + r * K;
    for (int64_t g = 0; g < p.groups; ++g) {
      const int64_t n = std::min<int64_t>(32, K - g * 32);
      const __m512 a = load_f32x16(xr + g * 32, n), b = load_f32x16(xr + g * 32 + 16, n - 16);
      const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(a), _mm512_abs_ps(b)));
      const float d = amax / 127.0f, inv = amax > 0 ? 127.0f / amax : 0.0f;
      // vcvtps2dq rounds to nearest even, as nearbyint does in the default mode.
      const __m512i qa = _mm512_cvtps_epi32(_mm512_mul_ps(a, _mm512_set1_ps(inv)));
      const __m512i qb = _mm512_cvtps_epi32(_mm512_mul_ps(b, _mm512_set1_ps(inv)));
      int8_t* out = p.q.data() + ((g / 4) * rows + r) * 128 + (g % 4) * 16;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out),
                       _mm512_cvtepi32_epi8(_mm512_permutex2var_epi32(qa, evens, qb)));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 64),
                       _mm512_cvtepi32_epi8(_mm512_permutex2var_epi32(qa, odds, qb)));
      const int sum = _mm512_reduce_add_epi32(_mm512_add_epi32(qa, qb));
      float* sz = p.scale.data() + (g * rows + r) * 2;
      sz[0] = d;
      sz[1] = 7.0f * (d * static_cast<float>(sum));
    }
  });
}

// R activation rows (from r0) against one tile: out[r * 16 + c] = column c of row r0 + r. The
// group's nibbles are split once into low and high codes (8 registers) and meet every row;
// each row keeps one f32 accumulator across the groups (R + 8 + a few live registers).
template <int R>
inline void dot_int4_tile16(const uint8_t* tile, const Int8Panel& a, int64_t r0, float* out) {
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  const int64_t groups = a.groups;
  __m512 acc[R];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  for (int64_t g = 0; g < groups; ++g) {
    const uint8_t* block = tile + g * kTile16BlockBytes;
    // With several rows the weights are consumed slower than memory delivers them, and the
    // hardware prefetcher alone leaves gaps: ask for them a few groups ahead (16-row matmuls
    // from memory ran 20% faster). A lone row is bandwidth bound, and there it cost 20%.
    if constexpr (R >= 4) {
#pragma GCC unroll 5
      for (int line = 0; line < 5; ++line)
        _mm_prefetch(reinterpret_cast<const char*>(block + kPrefetchBytes + 64 * line),
                     _MM_HINT_T0);
    }
    __m512i lo[4], hi[4];
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      const __m512i w = _mm512_loadu_si512(block + 64 * j);
      lo[j] = _mm512_and_si512(w, low4);
      hi[j] = _mm512_and_si512(_mm512_srli_epi16(w, 4), low4);
    }
    const __m512 scales =
        _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 256)));
    const int8_t* xg = a.q.data() + ((g / 4) * a.rows + r0) * 128 + (g % 4) * 16;
    const float* sz = a.scale.data() + (g * a.rows + r0) * 2;
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      // Even inputs 8j, 8j+2, .. meet the low nibbles, odd ones (64 bytes on) the high.
      const __m512 dot = _mm512_cvtepi32_ps(dot_q4_group16(lo, hi, xg + r * 128));
      // d_x * dot - 7 * d_x * sum(q_x), then times the columns' scales.
      const __m512 v =
          _mm512_fmsub_ps(dot, _mm512_set1_ps(sz[2 * r]), _mm512_set1_ps(sz[2 * r + 1]));
      acc[r] = _mm512_fmadd_ps(scales, v, acc[r]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) _mm512_storeu_ps(out + 16 * r, acc[r]);
}

// Row r of a tile's result (16 f32 at acc) into y[r, n0..): linear_epilogue's operations, 16
// columns at once for f16 and f32 outputs (vcvtps2ph rounds to nearest even, as from_float).
template <typename TO>
inline void store_tile16_row(const float* acc, const TO* bias, const TO* residual, TO* y, int64_t r,
                             int64_t n0, int64_t N, int64_t columns) {
  if constexpr (std::is_same_v<TO, half> || std::is_same_v<TO, float>) {
    if (columns == kTile16Columns) {
      constexpr bool f16 = std::is_same_v<TO, half>;
      auto load = [](const TO* p) {
        if constexpr (f16)
          return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
        else
          return _mm512_loadu_ps(p);
      };
      auto round = [](__m512 v) {
        if constexpr (f16)
          return _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
        else
          return v;
      };
      __m512 v = _mm512_loadu_ps(acc);
      if (bias) v = _mm512_add_ps(v, load(bias + n0));
      if (residual) v = _mm512_add_ps(round(v), load(residual + r * N + n0));
      if constexpr (f16)
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + r * N + n0),
                            _mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
      else
        _mm512_storeu_ps(y + r * N + n0, v);
      return;
    }
  }
  for (int64_t c = 0; c < columns; ++c)
    y[r * N + n0 + c] = linear_epilogue(acc[c], bias, residual, r, n0 + c, N);
}

// y = x W^T (+ bias) (+ residual) with W in tiles of 16 columns. Tiles are split over threads in
// blocks of four (64 columns); each tile meets every activation row, eight rows at a time, while
// it is in L1 or L2. Eight is the most rows whose accumulators fit in registers beside the
// decoded nibbles: 16 rows in one pass ran 15% slower.
template <typename TX, typename TO>
void linear_int4_tile16(const TX* x, const uint8_t* tiles, const TO* residual, TO* y, int64_t rows,
                        int64_t N, int64_t K, const TO* bias = nullptr) {
  static thread_local Int8Panel panel;
  quantize_panel(x, rows, K, panel);
  const Int8Panel& a = panel;
  const int64_t groups = a.groups, n_tiles = (N + kTile16Columns - 1) / kTile16Columns;
  constexpr int64_t kBlockTiles = 4, kRows = 8;
  const int64_t blocks = (n_tiles + kBlockTiles - 1) / kBlockTiles;
  using Dot = void (*)(const uint8_t*, const Int8Panel&, int64_t, float*);
  static constexpr Dot kDots[kRows] = {dot_int4_tile16<1>, dot_int4_tile16<2>, dot_int4_tile16<3>,
                                       dot_int4_tile16<4>, dot_int4_tile16<5>, dot_int4_tile16<6>,
                                       dot_int4_tile16<7>, dot_int4_tile16<8>};
  parallel_for(blocks, rows * N * K, [&](int64_t b) {
    const int64_t t_end = std::min(n_tiles, (b + 1) * kBlockTiles);
    alignas(64) float out[kRows * kTile16Columns];
    for (int64_t t = b * kBlockTiles; t < t_end; ++t) {
      for (int64_t r0 = 0; r0 < rows; r0 += kRows) {
        const int64_t R = std::min(kRows, rows - r0);
        kDots[R - 1](tiles + t * groups * kTile16BlockBytes, a, r0, out);
        const int64_t n0 = t * kTile16Columns, columns = std::min(kTile16Columns, N - n0);
        for (int64_t r = 0; r < R; ++r)
          store_tile16_row(out + r * kTile16Columns, bias, residual, y, r0 + r, n0, N, columns);
      }
    }
  });
}

#endif  // AVX-512 VNNI

}  // namespace llmcc::cpu_kernels
