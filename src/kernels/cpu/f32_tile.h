// The f32-accumulating matmul's inner pieces: a register tile of R rows x C output columns, and
// the single-output dot it must agree with. Every output is summed the same way on both paths: one
// vector accumulator fed by FMAs over K in chunks of the vector width, in order, then a fixed
// horizontal reduction, then the scalar tail. So a row's result does not depend on how many rows a
// call has or where in a tile the row falls (a sequence decodes to the same logits alone or in a
// batch), while the tile reuses each loaded x chunk C times and each weight chunk R times.
#pragma once

#include "common.h"

namespace llmcc::cpu_kernels::f32_tile {

#if defined(__AVX512F__)
using Vec = __m512;
constexpr int64_t kLanes = 16, kRows = 4, kCols = 4;
inline Vec zero() { return _mm512_setzero_ps(); }
inline Vec load(const float* p) { return _mm512_loadu_ps(p); }
inline Vec load(const half* p) {
  return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
inline Vec fma(Vec a, Vec b, Vec c) { return _mm512_fmadd_ps(a, b, c); }
inline float sum(Vec v) { return _mm512_reduce_add_ps(v); }
constexpr bool kLoadsHalf = true;
#elif defined(__AVX2__) && defined(__FMA__)
using Vec = __m256;
constexpr int64_t kLanes = 8, kRows = 4, kCols = 2;
inline Vec zero() { return _mm256_setzero_ps(); }
inline Vec load(const float* p) { return _mm256_loadu_ps(p); }
#if defined(__F16C__)
inline Vec load(const half* p) {
  return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
}
constexpr bool kLoadsHalf = true;
#else
inline Vec load(const half*) { return zero(); }  // never called: kLoadsHalf is false
constexpr bool kLoadsHalf = false;
#endif
inline Vec fma(Vec a, Vec b, Vec c) { return _mm256_fmadd_ps(a, b, c); }
inline float sum(Vec v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
#elif defined(__aarch64__) && defined(__ARM_NEON)
// Advanced SIMD, the aarch64 baseline: 4 lanes and 32 registers, so a 4 x 4 tile of accumulators
// fits beside its 8 loads.
using Vec = float32x4_t;
constexpr int64_t kLanes = 4, kRows = 4, kCols = 4;
inline Vec zero() { return vdupq_n_f32(0.0f); }
inline Vec load(const float* p) { return vld1q_f32(p); }
inline Vec load(const half* p) {
  return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(reinterpret_cast<const uint16_t*>(p))));
}
inline Vec fma(Vec a, Vec b, Vec c) { return vfmaq_f32(c, a, b); }
inline float sum(Vec v) { return vaddvq_f32(v); }
constexpr bool kLoadsHalf = true;
#else
using Vec = float;
constexpr int64_t kLanes = 1, kRows = 4, kCols = 4;
inline Vec zero() { return 0.0f; }
inline Vec load(const float* p) { return *p; }
inline Vec load(const half* p) { return to_float(*p); }
inline Vec fma(Vec a, Vec b, Vec c) { return a * b + c; }
inline float sum(Vec v) { return v; }
constexpr bool kLoadsHalf = true;
#endif

// Whether weights of type TW are read as they are (else the caller widens them to f32 first).
template <typename TW>
constexpr bool kDirect = std::is_same_v<TW, float> || (std::is_same_v<TW, half> && kLoadsHalf);

// The scalar tail k in [k0, K), shared by both paths so that it rounds the same.
template <typename TW>
inline float tail(float s, const float* x, const TW* w, int64_t k0, int64_t K) {
  for (int64_t k = k0; k < K; ++k) s += x[k] * to_float(w[k]);
  return s;
}

// sum_k x[k] * w[k].
template <typename TW>
inline float dot(const float* x, const TW* w, int64_t K) {
  Vec acc = zero();
  int64_t k = 0;
  for (; k + kLanes <= K; k += kLanes) acc = fma(load(x + k), load(w + k), acc);
  return tail(sum(acc), x, w, k, K);
}

// out[r][c] = dot(x + r * K, w + c * K) for kRows rows of x and kCols rows of w. The loops over
// the tile are unrolled so that the accumulators live in registers (at -O2 GCC would keep the
// array in memory).
template <typename TW>
inline void tile(const float* x, const TW* w, int64_t K, float out[kRows][kCols]) {
  Vec acc[kRows][kCols];
#pragma GCC unroll 4
  for (int64_t r = 0; r < kRows; ++r)
#pragma GCC unroll 4
    for (int64_t c = 0; c < kCols; ++c) acc[r][c] = zero();
  int64_t k = 0;
  for (; k + kLanes <= K; k += kLanes) {
    Vec xv[kRows];
#pragma GCC unroll 4
    for (int64_t r = 0; r < kRows; ++r) {
      xv[r] = load(x + r * K + k);
#if defined(__AVX512F__) || defined(__AVX2__)
      asm("" : "+v"(xv[r]));  // in a register, loaded once for the kCols FMAs (as wv below)
#endif
    }
#pragma GCC unroll 4
    for (int64_t c = 0; c < kCols; ++c) {
      Vec wv = load(w + c * K + k);
#if defined(__AVX512F__) || defined(__AVX2__)
      // Keep the chunk in a register: GCC would otherwise fold the load into each of the kRows
      // FMAs, and the loads, not the FMAs, would bound the tile.
      asm("" : "+v"(wv));
#endif
#pragma GCC unroll 4
      for (int64_t r = 0; r < kRows; ++r) acc[r][c] = fma(xv[r], wv, acc[r][c]);
    }
  }
#pragma GCC unroll 4
  for (int64_t r = 0; r < kRows; ++r)
#pragma GCC unroll 4
    for (int64_t c = 0; c < kCols; ++c)
      out[r][c] = tail(sum(acc[r][c]), x + r * K, w + c * K, k, K);
}

}  // namespace llmcc::cpu_kernels::f32_tile
