// One step of attention's online softmax (attention.h): the queries that share a KV head meet a
// block of keys and values, and their running maxima, denominators and accumulators move on.
// Two forms: a dot product and an axpy per key (any ISA), and, with AVX-512, blocks of up to 16
// keys whose scores come out as one 16-lane vector and whose accumulator stays in registers.
#pragma once

#include <algorithm>
#include <cmath>

#include "dot.h"

namespace llmcc::cpu_kernels {

// What `group` queries have gathered from the keys before this block.
struct OnlineSoftmax {
  float* acc;          // [group][d]: sum of e^(score - running_max) * value
  float* running_max;  // [group]
  float* denom;        // [group]: sum of e^(score - running_max)
};

// Keys [skip, n) of a block whose keys and values are rows of d f32 (kf, vf), for the queries q
// ([group][d], rotated). `scores` holds n floats.
inline void attend_block(const float* q, int64_t group, int64_t d, const float* kf, const float* vf,
                         int64_t skip, int64_t n, float sm_scale, float softcap, float* scores,
                         const OnlineSoftmax& st) {
  for (int64_t g = 0; g < group; ++g) {
    float block_max = -INFINITY;
    for (int64_t j = 0; j < skip; ++j) scores[j] = 0.0f;  // zeroed again after exp
    for (int64_t j = skip; j < n; ++j) {
      scores[j] = dot_f32(q + g * d, kf + j * d, d) * sm_scale;
      if (softcap > 0) scores[j] = softcap * std::tanh(scores[j] / softcap);
      block_max = std::max(block_max, scores[j]);
    }
    const float new_max = std::max(st.running_max[g], block_max);
    const float correction = std::exp(st.running_max[g] - new_max);
    for (int64_t j = 0; j < n; ++j) scores[j] -= new_max;
    exp_f32(scores, scores, n);
    for (int64_t j = 0; j < skip; ++j) scores[j] = 0.0f;
    float* a = st.acc + g * d;
    scale_f32(correction, a, d);
    float sum = 0.0f;
    for (int64_t j = 0; j < n; ++j) {
      sum += scores[j];
      axpy_f32(scores[j], vf + j * d, a, d);
    }
    st.denom[g] = st.denom[g] * correction + sum;
    st.running_max[g] = new_max;
  }
}

#if defined(__AVX512F__)

// Lane j = the sum of the 16 lanes of v[j], for 16 vectors: pairwise unpacks within 128-bit
// lanes, then across them (45 shuffles and adds instead of 16 full reductions).
inline __m512 transpose_sum16(const __m512 v[16]) {
  __m512 t[8], u[4];
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k)  // [a0+a2, b0+b2, a1+a3, b1+b3] per 128-bit lane
    t[k] = _mm512_add_ps(_mm512_unpacklo_ps(v[2 * k], v[2 * k + 1]),
                         _mm512_unpackhi_ps(v[2 * k], v[2 * k + 1]));
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {  // keys 4k..4k+3, each summed within every 128-bit lane
    const __m512d a = _mm512_castps_pd(t[2 * k]), b = _mm512_castps_pd(t[2 * k + 1]);
    u[k] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(a, b)),
                         _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)));
  }
  const __m512 y01 =
      _mm512_add_ps(_mm512_shuffle_f32x4(u[0], u[1], 0x44), _mm512_shuffle_f32x4(u[0], u[1], 0xEE));
  const __m512 y23 =
      _mm512_add_ps(_mm512_shuffle_f32x4(u[2], u[3], 0x44), _mm512_shuffle_f32x4(u[2], u[3], 0xEE));
  return _mm512_add_ps(_mm512_shuffle_f32x4(y01, y23, 0x88), _mm512_shuffle_f32x4(y01, y23, 0xDD));
}

// attend_block for keys [skip, n) of a block of n <= 16 keys, with C = ceil(d / 16) registers
// per query for its accumulator and its rotated values. A query's 16 scores are 16 lane-wise
// products summed across at once (transpose_sum16), so they come out as one vector.
template <int C>
inline void attend_block16(const float* q, int64_t group, int64_t d, const float* kf,
                           const float* vf, int64_t skip, int64_t n, float sm_scale, float softcap,
                           const OnlineSoftmax& st) {
  const __mmask16 valid = static_cast<__mmask16>(((1u << n) - 1) & ~((1u << skip) - 1));
  __mmask16 dims[C];
#pragma GCC unroll 8
  for (int c = 0; c < C; ++c) {
    const int64_t left = d - 16 * c;
    dims[c] = left >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << left) - 1);
  }
  alignas(64) float p[16];
  for (int64_t g = 0; g < group; ++g) {
    __m512 qc[C];
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) qc[c] = _mm512_maskz_loadu_ps(dims[c], q + g * d + 16 * c);
    __m512 partial[16];
#pragma GCC unroll 16
    for (int64_t j = 0; j < 16; ++j) {
      partial[j] = _mm512_setzero_ps();
      if (j < n)
#pragma GCC unroll 8
        for (int c = 0; c < C; ++c)
          partial[j] = _mm512_fmadd_ps(qc[c], _mm512_maskz_loadu_ps(dims[c], kf + j * d + 16 * c),
                                       partial[j]);
    }
    __m512 s = _mm512_mul_ps(transpose_sum16(partial), _mm512_set1_ps(sm_scale));
    if (softcap > 0) {
      _mm512_store_ps(p, s);
      for (int j = 0; j < 16; ++j) p[j] = softcap * std::tanh(p[j] / softcap);
      s = _mm512_load_ps(p);
    }
    const float block_max = _mm512_mask_reduce_max_ps(valid, s);
    const float new_max = std::max(st.running_max[g], block_max);
    const float correction = std::exp(st.running_max[g] - new_max);
    const __m512 m = _mm512_set1_ps(new_max);
    const __m512 e =
        _mm512_maskz_mov_ps(valid, exp16(_mm512_sub_ps(_mm512_mask_blend_ps(valid, m, s), m)));
    _mm512_store_ps(p, e);
    // Even and odd keys accumulate apart (2C chains), then meet.
    float* a = st.acc + g * d;
    __m512 even[C], odd[C];
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) {
      even[c] =
          _mm512_mul_ps(_mm512_maskz_loadu_ps(dims[c], a + 16 * c), _mm512_set1_ps(correction));
      odd[c] = _mm512_setzero_ps();
    }
    int64_t j = skip;
    for (; j + 2 <= n; j += 2) {
      const __m512 p0 = _mm512_set1_ps(p[j]), p1 = _mm512_set1_ps(p[j + 1]);
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) {
        even[c] = _mm512_fmadd_ps(p0, _mm512_maskz_loadu_ps(dims[c], vf + j * d + 16 * c), even[c]);
        odd[c] =
            _mm512_fmadd_ps(p1, _mm512_maskz_loadu_ps(dims[c], vf + (j + 1) * d + 16 * c), odd[c]);
      }
    }
    if (j < n) {
      const __m512 p0 = _mm512_set1_ps(p[j]);
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c)
        even[c] = _mm512_fmadd_ps(p0, _mm512_maskz_loadu_ps(dims[c], vf + j * d + 16 * c), even[c]);
    }
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c)
      _mm512_mask_storeu_ps(a + 16 * c, dims[c], _mm512_add_ps(even[c], odd[c]));
    st.denom[g] = st.denom[g] * correction + _mm512_reduce_add_ps(e);
    st.running_max[g] = new_max;
  }
}

// The longest head attend_block16 takes: 8 accumulator registers, twice over.
constexpr int64_t kMaxBlock16HeadDim = 128;

inline void attend_block16(const float* q, int64_t group, int64_t d, const float* kf,
                           const float* vf, int64_t skip, int64_t n, float sm_scale, float softcap,
                           const OnlineSoftmax& st) {
  using Fn = void (*)(const float*, int64_t, int64_t, const float*, const float*, int64_t, int64_t,
                      float, float, const OnlineSoftmax&);
  static constexpr Fn kByChunks[8] = {attend_block16<1>, attend_block16<2>, attend_block16<3>,
                                      attend_block16<4>, attend_block16<5>, attend_block16<6>,
                                      attend_block16<7>, attend_block16<8>};
  kByChunks[(d + 15) / 16 - 1](q, group, d, kf, vf, skip, n, sm_scale, softcap, st);
}

#endif  // AVX-512

}  // namespace llmcc::cpu_kernels
