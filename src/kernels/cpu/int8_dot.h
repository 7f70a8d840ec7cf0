// Integer-dot kernels for group-quantized weights on AVX2: activations are quantized to int8 once
// per matmul (groups of 32, one f32 scale each), and weight codes meet them in vpmaddubsw, the
// way the fastest CPU engines run 4- and 8-bit models. Only MLC's NK layout with groups of 32 is
// covered here; quantized.h's portable kernels serve everything else and remain the reference.
#pragma once

#include <cstring>
#include <vector>

#include "common.h"

namespace llmcc::cpu_kernels {

// Activations of `rows` rows of K values, quantized per group of 32: q = round(x * 127 / amax).
// int4 weights pack k = 2b and 2b+1 in the low and high nibble of byte b of a group, so `nibble`
// layout stores every four groups as [evens of g..g+3 | odds of g..g+3] (128 bytes): a 256-bit
// load then meets two groups' nibbles and a 512-bit load four. `linear` layout keeps k order
// (for int8 weights).
struct Int8Activations {
  int64_t rows = 0, K = 0, groups = 0, stride = 0;  // stride: bytes per row
  std::vector<int8_t> q;
  std::vector<float> scale;  // [rows, groups + 16] per-group d (zero past the last group)
  std::vector<float> dsum;   // [rows, groups + 16] d * sum(q), for the weights' zero point
};

template <typename TX>
void quantize_activations(const TX* x, int64_t rows, int64_t K, bool nibble_layout,
                          Int8Activations& a) {
  a.rows = rows;
  a.K = K;
  a.groups = (K + 31) / 32;
  const int64_t quads = (a.groups + 3) / 4;
  a.stride = quads * 128;                 // whole quads in both layouts: 512-bit loads may overrun
  const int64_t sgroups = a.groups + 16;  // room for 16-wide loads past the end
  a.q.assign(static_cast<size_t>(rows * a.stride), 0);
  a.scale.assign(static_cast<size_t>(rows * sgroups), 0.0f);
  a.dsum.assign(static_cast<size_t>(rows * sgroups), 0.0f);
  for (int64_t r = 0; r < rows; ++r) {
    const TX* xr = x + r * K;
    int8_t* qr = a.q.data() + r * a.stride;
    for (int64_t g = 0; g < a.groups; ++g) {
      float v[32] = {};
      float amax = 0.0f;
      for (int64_t i = 0; i < 32 && g * 32 + i < K; ++i) {
        v[i] = to_float(xr[g * 32 + i]);
        amax = std::max(amax, std::fabs(v[i]));
      }
      const float d = amax / 127.0f, inv = amax > 0 ? 127.0f / amax : 0.0f;
      int sum = 0;
      for (int i = 0; i < 32; ++i) {
        int q = static_cast<int>(std::nearbyint(v[i] * inv));
        sum += q;
        int64_t at;
        if (nibble_layout) {
          at = (g / 4) * 128 + (i % 2) * 64 + (g % 4) * 16 + i / 2;
        } else {
          at = g * 32 + i;
        }
        qr[at] = static_cast<int8_t>(q);
      }
      a.scale[r * sgroups + g] = d;
      a.dsum[r * sgroups + g] = d * static_cast<float>(sum);
    }
  }
}

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Eight f16 scales from `s` (fewer near the end of a row; the rest read as zero).
inline __m256 load_scales8(const half* s, int64_t n) {
  if (n >= 8) return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(s)));
  alignas(16) uint16_t tmp[8] = {};
  for (int64_t i = 0; i < n; ++i) tmp[i] = s[i].bits;
  return _mm256_cvtph_ps(_mm_load_si128(reinterpret_cast<const __m128i*>(tmp)));
}

// R activation rows against one int4 weight row (MLC q4 NK, groups of 32, f16 scales):
// out[r] = sum_g sw_g * d_rg * (dot(codes_g, q_rg) - 7 sum(q_rg)).
template <int R>
inline void dot_q4_rows(const uint8_t* w, const half* sw, const Int8Activations& a, int64_t r0,
                        float* out) {
  const __m256i low4 = _mm256_set1_epi8(0x0f);
  const __m256i ones = _mm256_set1_epi16(1);
  const int64_t groups = a.groups, sgroups = a.groups + 16;
  __m256 acc[R], zero_acc[R];
  for (int r = 0; r < R; ++r) acc[r] = zero_acc[r] = _mm256_setzero_ps();
  const __m256i perm[4] = {
      _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1), _mm256_setr_epi32(2, 2, 2, 2, 3, 3, 3, 3),
      _mm256_setr_epi32(4, 4, 4, 4, 5, 5, 5, 5), _mm256_setr_epi32(6, 6, 6, 6, 7, 7, 7, 7)};
  for (int64_t g = 0; g < groups; g += 8) {
    // Eight groups at a time: weight scale times activation scale, one lane per group.
    const __m256 sw8 = load_scales8(sw + g, groups - g);
    __m256 c8[R];
    for (int r = 0; r < R; ++r) {
      const int64_t at = (r0 + r) * sgroups + g;
      c8[r] = _mm256_mul_ps(sw8, _mm256_loadu_ps(a.scale.data() + at));
      zero_acc[r] = _mm256_fmadd_ps(sw8, _mm256_loadu_ps(a.dsum.data() + at), zero_acc[r]);
    }
    for (int p = 0; p < 4 && g + 2 * p < groups; ++p) {
      const int64_t gp = g + 2 * p;  // first group of the pair
      __m256i bytes;
      if (gp + 1 < groups) {
        bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + gp * 16));
      } else {  // a lone last group: do not read past the row
        bytes =
            _mm256_zextsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + gp * 16)));
      }
      const __m256i lo = _mm256_and_si256(bytes, low4);
      const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), low4);
      for (int r = 0; r < R; ++r) {
        const int8_t* xq = a.q.data() + (r0 + r) * a.stride + (gp / 4) * 128 + (gp % 4) * 16;
        const __m256i xe = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq));
        const __m256i xo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xq + 64));
        const __m256i prod =
            _mm256_add_epi16(_mm256_maddubs_epi16(lo, xe), _mm256_maddubs_epi16(hi, xo));
        const __m256 dots = _mm256_cvtepi32_ps(_mm256_madd_epi16(prod, ones));
        acc[r] = _mm256_fmadd_ps(dots, _mm256_permutevar8x32_ps(c8[r], perm[p]), acc[r]);
      }
    }
  }
  for (int r = 0; r < R; ++r) out[r] = hsum(acc[r]) - 7.0f * hsum(zero_acc[r]);
}

// R activation rows against one int8 weight row (codes 0..254, offset 127, groups of 32).
template <int R>
inline void dot_q8_rows(const uint8_t* w, const half* sw, const Int8Activations& a, int64_t r0,
                        float* out) {
  const __m256i offset = _mm256_set1_epi8(127);
  const __m256i ones = _mm256_set1_epi16(1);
  const int64_t groups = a.groups, sgroups = a.groups + 16;
  __m256 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
  for (int64_t g = 0; g < groups; ++g) {
    const __m256i ws =
        _mm256_sub_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + g * 32)), offset);
    const __m256i wabs = _mm256_abs_epi8(ws);
    const float s = to_float(sw[g]);
    for (int r = 0; r < R; ++r) {
      const __m256i xq = _mm256_loadu_si256(
          reinterpret_cast<const __m256i*>(a.q.data() + (r0 + r) * a.stride + g * 32));
      const __m256i prod = _mm256_maddubs_epi16(wabs, _mm256_sign_epi8(xq, ws));
      const __m256 dots = _mm256_cvtepi32_ps(_mm256_madd_epi16(prod, ones));
      acc[r] = _mm256_fmadd_ps(dots, _mm256_set1_ps(s * a.scale[(r0 + r) * sgroups + g]), acc[r]);
    }
  }
  for (int r = 0; r < R; ++r) out[r] = hsum(acc[r]);
}

#if defined(__AVX512F__) && defined(__AVX512BW__) && defined(__AVX512VNNI__)
#define LLMCC_HAVE_VNNI512 1

// Sixteen f16 scales from `s` (fewer near the end of a row; the rest read as zero).
inline __m512 load_scales16(const half* s, int64_t n) {
  if (n >= 16) return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(s)));
  alignas(32) uint16_t tmp[16] = {};
  for (int64_t i = 0; i < n; ++i) tmp[i] = s[i].bits;
  return _mm512_cvtph_ps(_mm256_load_si256(reinterpret_cast<const __m256i*>(tmp)));
}

// As dot_q4_rows, four groups per 512-bit step with vpdpbusd (u8 codes x s8 activations).
template <int R>
inline void dot_q4_rows_vnni(const uint8_t* w, const half* sw, const Int8Activations& a, int64_t r0,
                             float* out) {
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  const int64_t groups = a.groups, sgroups = a.groups + 16;
  __m512 acc[R], zero_acc[R];
  for (int r = 0; r < R; ++r) acc[r] = zero_acc[r] = _mm512_setzero_ps();
  static const __m512i perm[4] = {
      _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3),
      _mm512_setr_epi32(4, 4, 4, 4, 5, 5, 5, 5, 6, 6, 6, 6, 7, 7, 7, 7),
      _mm512_setr_epi32(8, 8, 8, 8, 9, 9, 9, 9, 10, 10, 10, 10, 11, 11, 11, 11),
      _mm512_setr_epi32(12, 12, 12, 12, 13, 13, 13, 13, 14, 14, 14, 14, 15, 15, 15, 15)};
  for (int64_t g = 0; g < groups; g += 16) {
    const __m512 sw16 = load_scales16(sw + g, groups - g);
    __m512 c16[R];
    for (int r = 0; r < R; ++r) {
      const int64_t at = (r0 + r) * sgroups + g;
      c16[r] = _mm512_mul_ps(sw16, _mm512_loadu_ps(a.scale.data() + at));
      zero_acc[r] = _mm512_fmadd_ps(sw16, _mm512_loadu_ps(a.dsum.data() + at), zero_acc[r]);
    }
    for (int q = 0; q < 4 && g + 4 * q < groups; ++q) {
      const int64_t gq = g + 4 * q;  // first group of the quad
      const int64_t n = std::min<int64_t>(4, groups - gq);
      const __m512i bytes =
          n == 4 ? _mm512_loadu_si512(w + gq * 16)
                 : _mm512_maskz_loadu_epi8((__mmask64(1) << (16 * n)) - 1, w + gq * 16);
      const __m512i lo = _mm512_and_si512(bytes, low4);
      const __m512i hi = _mm512_and_si512(_mm512_srli_epi16(bytes, 4), low4);
      for (int r = 0; r < R; ++r) {
        const int8_t* xq = a.q.data() + (r0 + r) * a.stride + (gq / 4) * 128;
        __m512i dot = _mm512_dpbusd_epi32(_mm512_setzero_si512(), lo, _mm512_loadu_si512(xq));
        dot = _mm512_dpbusd_epi32(dot, hi, _mm512_loadu_si512(xq + 64));
        acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_permutexvar_ps(perm[q], c16[r]),
                                 acc[r]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    out[r] = _mm512_reduce_add_ps(acc[r]) - 7.0f * _mm512_reduce_add_ps(zero_acc[r]);
}

// As dot_q8_rows: codes (u8, offset 127) meet activations in vpdpbusd; the offset comes off
// through the activation sums.
template <int R>
inline void dot_q8_rows_vnni(const uint8_t* w, const half* sw, const Int8Activations& a, int64_t r0,
                             float* out) {
  const int64_t groups = a.groups, sgroups = a.groups + 16;
  __m512 acc[R], zero_acc[R];
  for (int r = 0; r < R; ++r) acc[r] = zero_acc[r] = _mm512_setzero_ps();
  static const __m512i perm[8] = {
      _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1),
      _mm512_setr_epi32(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3),
      _mm512_setr_epi32(4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5),
      _mm512_setr_epi32(6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7),
      _mm512_setr_epi32(8, 8, 8, 8, 8, 8, 8, 8, 9, 9, 9, 9, 9, 9, 9, 9),
      _mm512_setr_epi32(10, 10, 10, 10, 10, 10, 10, 10, 11, 11, 11, 11, 11, 11, 11, 11),
      _mm512_setr_epi32(12, 12, 12, 12, 12, 12, 12, 12, 13, 13, 13, 13, 13, 13, 13, 13),
      _mm512_setr_epi32(14, 14, 14, 14, 14, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15, 15)};
  for (int64_t g = 0; g < groups; g += 16) {
    const __m512 sw16 = load_scales16(sw + g, groups - g);
    __m512 c16[R];
    for (int r = 0; r < R; ++r) {
      const int64_t at = (r0 + r) * sgroups + g;
      c16[r] = _mm512_mul_ps(sw16, _mm512_loadu_ps(a.scale.data() + at));
      zero_acc[r] = _mm512_fmadd_ps(sw16, _mm512_loadu_ps(a.dsum.data() + at), zero_acc[r]);
    }
    for (int p = 0; p < 8 && g + 2 * p < groups; ++p) {
      const int64_t gp = g + 2 * p;
      const __m512i bytes = gp + 1 < groups ? _mm512_loadu_si512(w + gp * 32)
                                            : _mm512_zextsi256_si512(_mm256_loadu_si256(
                                                  reinterpret_cast<const __m256i*>(w + gp * 32)));
      for (int r = 0; r < R; ++r) {
        const int8_t* xq = a.q.data() + (r0 + r) * a.stride + gp * 32;
        const __m512i dot =
            _mm512_dpbusd_epi32(_mm512_setzero_si512(), bytes, _mm512_loadu_si512(xq));
        acc[r] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_permutexvar_ps(perm[p], c16[r]),
                                 acc[r]);
      }
    }
  }
  for (int r = 0; r < R; ++r)
    out[r] = _mm512_reduce_add_ps(acc[r]) - 127.0f * _mm512_reduce_add_ps(zero_acc[r]);
}

// One group of 32 inputs against 16 int4 columns: the int32 sums of codes x activations, with
// lo[j] / hi[j] the low / high codes of step j (one 32-bit lane per column) and xq the row's group
// in the nibble layout (even inputs, then the odd ones 64 bytes on). Two chains, because a lone
// row is bound by vpdpbusd's latency; integer sums are exact, so the split leaves them as they are.
inline __m512i dot_q4_group16(const __m512i lo[4], const __m512i hi[4], const int8_t* xq) {
  __m512i even = _mm512_setzero_si512(), odd = _mm512_setzero_si512();
#pragma GCC unroll 4
  for (int j = 0; j < 4; ++j) {
    int32_t even_bytes, odd_bytes;
    std::memcpy(&even_bytes, xq + 4 * j, 4);
    std::memcpy(&odd_bytes, xq + 64 + 4 * j, 4);
    even = _mm512_dpbusd_epi32(even, lo[j], _mm512_set1_epi32(even_bytes));
    odd = _mm512_dpbusd_epi32(odd, hi[j], _mm512_set1_epi32(odd_bytes));
  }
  return _mm512_add_epi32(even, odd);
}

// In place: r[i] holds 16 dwords of column i; afterwards r[j] holds dword j of every column.
inline void transpose16x16_epi32(__m512i r[16]) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  // u[4i + k], 128-bit lane L: rows 4i..4i+3 of column 4L + k.
  for (int i = 0; i < 4; ++i) {
    u[4 * i] = _mm512_unpacklo_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 1] = _mm512_unpackhi_epi64(t[4 * i], t[4 * i + 2]);
    u[4 * i + 2] = _mm512_unpacklo_epi64(t[4 * i + 1], t[4 * i + 3]);
    u[4 * i + 3] = _mm512_unpackhi_epi64(t[4 * i + 1], t[4 * i + 3]);
  }
  for (int k = 0; k < 4; ++k) {
    const __m512i a = _mm512_shuffle_i32x4(u[k], u[4 + k], 0x44);
    const __m512i b = _mm512_shuffle_i32x4(u[k], u[4 + k], 0xEE);
    const __m512i c = _mm512_shuffle_i32x4(u[8 + k], u[12 + k], 0x44);
    const __m512i d = _mm512_shuffle_i32x4(u[8 + k], u[12 + k], 0xEE);
    r[k] = _mm512_shuffle_i32x4(a, c, 0x88);
    r[4 + k] = _mm512_shuffle_i32x4(a, c, 0xDD);
    r[8 + k] = _mm512_shuffle_i32x4(b, d, 0x88);
    r[12 + k] = _mm512_shuffle_i32x4(b, d, 0xDD);
  }
}

// Many activation rows against 16 int4 weight columns (MLC q4 NK, groups of 32, f16 scales),
// one lane per column: each quad of groups is transposed so that word j of all 16 columns sits
// in one register, and one vpdpbusd with a broadcast activation dword advances 16 outputs. A
// group then costs each row 8 vpdpbusd and one scale FMA, against 8 vpdpbusd and 4 scale steps
// for the lane-per-row kernel above; the transpose is paid once for all rows.
// acc: [rows, 16] f32; acc[r * 16 + c] receives column n0 + c of row r.
inline void dot_q4_columns_vnni(const uint8_t* wbytes, const half* qs, int64_t n0,
                                const Int8Activations& a, float* acc) {
  const int64_t groups = a.groups, sgroups = a.groups + 16, rows = a.rows;
  const int64_t row_bytes = groups * 16;
  const __m512i low4 = _mm512_set1_epi8(0x0f);
  for (int64_t r = 0; r < rows; ++r) _mm512_storeu_ps(acc + r * 16, _mm512_setzero_ps());
  alignas(64) uint8_t lo[16][64], hi[16][64];
  alignas(64) float sw[4][16];
  for (int64_t gq = 0; gq < groups; gq += 4) {
    const int64_t n_groups = std::min<int64_t>(4, groups - gq);
    const __mmask16 words = static_cast<__mmask16>((1u << (4 * n_groups)) - 1);
    __m512i w[16];
    for (int c = 0; c < 16; ++c)
      w[c] = _mm512_maskz_loadu_epi32(words, wbytes + (n0 + c) * row_bytes + gq * 16);
    transpose16x16_epi32(w);
    for (int j = 0; j < 4 * n_groups; ++j) {
      _mm512_store_si512(lo[j], _mm512_and_si512(w[j], low4));
      _mm512_store_si512(hi[j], _mm512_and_si512(_mm512_srli_epi16(w[j], 4), low4));
    }
    for (int g = 0; g < n_groups; ++g)
      for (int c = 0; c < 16; ++c) sw[g][c] = to_float(qs[(n0 + c) * groups + gq + g]);
    for (int g = 0; g < n_groups; ++g) {
      __m512i wl[4], wh[4];
      for (int j = 0; j < 4; ++j) {
        wl[j] = _mm512_load_si512(lo[4 * g + j]);
        wh[j] = _mm512_load_si512(hi[4 * g + j]);
      }
      const __m512 scale = _mm512_load_ps(sw[g]);
      for (int64_t r = 0; r < rows; ++r) {
        const int8_t* xq = a.q.data() + r * a.stride + (gq / 4) * 128 + 16 * g;
        const __m512i dot = dot_q4_group16(wl, wh, xq);
        const int64_t at = r * sgroups + gq + g;
        // sw * (d_x * dot - 7 * d_x * sum(q_x)): the codes' offset of 7 comes off per group.
        const __m512 v = _mm512_fmsub_ps(_mm512_cvtepi32_ps(dot), _mm512_set1_ps(a.scale[at]),
                                         _mm512_set1_ps(7.0f * a.dsum[at]));
        _mm512_storeu_ps(acc + r * 16, _mm512_fmadd_ps(scale, v, _mm512_loadu_ps(acc + r * 16)));
      }
    }
  }
}

#endif  // AVX512 VNNI

#endif  // AVX2 && FMA && F16C

#if defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD)

// aarch64's int8 dot product (SDOT, -mattr=+dotprod): four lanes of 4-byte dots per instruction,
// signed by signed, so int4 codes (0..15) and int8 codes less their offset meet the activations
// as they are. Same results as the AVX2 rows below up to the order of the float sums.

// R activation rows against one int4 weight row (MLC q4 NK, groups of 32, f16 scales):
// out[r] = sum_g sw_g * d_rg * (dot(codes_g, q_rg) - 7 sum(q_rg)).
template <int R>
inline void dot_q4_rows(const uint8_t* w, const half* sw, const Int8Activations& a, int64_t r0,
                        float* out) {
  const int64_t groups = a.groups, sgroups = a.groups + 16;
  float32x4_t acc[R];
  float zero_acc[R];
  for (int r = 0; r < R; ++r) acc[r] = vdupq_n_f32(0.0f), zero_acc[r] = 0.0f;
  for (int64_t g = 0; g < groups; ++g) {
    // Byte b of a group holds k = 2b (low nibble) and 2b + 1 (high): the activations' nibble
    // layout keeps a group's 16 even and 16 odd inputs 64 bytes apart.
    const uint8x16_t bytes = vld1q_u8(w + g * 16);
    const int8x16_t lo = vreinterpretq_s8_u8(vandq_u8(bytes, vdupq_n_u8(0x0f)));
    const int8x16_t hi = vreinterpretq_s8_u8(vshrq_n_u8(bytes, 4));
    const float s = to_float(sw[g]);
    for (int r = 0; r < R; ++r) {
      const int8_t* xq = a.q.data() + (r0 + r) * a.stride + (g / 4) * 128 + (g % 4) * 16;
      const int32x4_t dots =
          vdotq_s32(vdotq_s32(vdupq_n_s32(0), lo, vld1q_s8(xq)), hi, vld1q_s8(xq + 64));
      const int64_t at = (r0 + r) * sgroups + g;
      acc[r] = vfmaq_n_f32(acc[r], vcvtq_f32_s32(dots), s * a.scale[at]);
      zero_acc[r] += s * a.dsum[at];
    }
  }
  for (int r = 0; r < R; ++r) out[r] = vaddvq_f32(acc[r]) - 7.0f * zero_acc[r];
}

// R activation rows against one int8 weight row (codes 0..254, offset 127, groups of 32).
template <int R>
inline void dot_q8_rows(const uint8_t* w, const half* sw, const Int8Activations& a, int64_t r0,
                        float* out) {
  const int64_t groups = a.groups, sgroups = a.groups + 16;
  const uint8x16_t offset = vdupq_n_u8(127);
  float32x4_t acc[R];
  for (int r = 0; r < R; ++r) acc[r] = vdupq_n_f32(0.0f);
  for (int64_t g = 0; g < groups; ++g) {
    // code - 127 wraps into exactly the int8 it stands for (-127..127).
    const int8x16_t w0 = vreinterpretq_s8_u8(vsubq_u8(vld1q_u8(w + g * 32), offset));
    const int8x16_t w1 = vreinterpretq_s8_u8(vsubq_u8(vld1q_u8(w + g * 32 + 16), offset));
    const float s = to_float(sw[g]);
    for (int r = 0; r < R; ++r) {
      const int8_t* xq = a.q.data() + (r0 + r) * a.stride + g * 32;
      const int32x4_t dots =
          vdotq_s32(vdotq_s32(vdupq_n_s32(0), w0, vld1q_s8(xq)), w1, vld1q_s8(xq + 16));
      acc[r] = vfmaq_n_f32(acc[r], vcvtq_f32_s32(dots), s * a.scale[(r0 + r) * sgroups + g]);
    }
  }
  for (int r = 0; r < R; ++r) out[r] = vaddvq_f32(acc[r]);
}

#endif  // aarch64 dotprod

#if (defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)) || \
    (defined(__aarch64__) && defined(__ARM_FEATURE_DOTPROD))
#define LLMCC_HAVE_INT8_DOT 1

// y = x W^T (+ bias) (+ residual) for int4 (BITS 4) or int8 (BITS 8) NK weights with groups of 32
// and f16 scales. Weight rows are split over threads in blocks that stay in L2 while every
// activation row passes over them, four rows at a time.
// Rows from which the column-lane int4 kernel beats the row-lane one (batched decode, prefill).
constexpr int64_t kColumnKernelRows = 8;

template <int BITS, typename TX, typename TO>
void linear_int8_dot(const TX* x, const uint32_t* qw, const half* qs, const TO* residual, TO* y,
                     int64_t rows, int64_t N, int64_t K, const TO* bias = nullptr) {
  static thread_local Int8Activations a;
  quantize_activations(x, rows, K, BITS == 4, a);
  const int64_t groups = a.groups;
  const int64_t row_bytes = groups * 32 * BITS / 8;
  const uint8_t* wbytes = reinterpret_cast<const uint8_t*>(qw);
  const Int8Activations& act = a;
  constexpr int64_t kBlock = 64;
  const int64_t blocks = (N + kBlock - 1) / kBlock;
  parallel_for(blocks, rows * N * K, [&](int64_t b) {
    const int64_t n_end = std::min(N, (b + 1) * kBlock);
    int64_t n_begin = b * kBlock;
#if defined(LLMCC_HAVE_VNNI512)
    // Enough rows to pay for the transpose: whole tiles of 16 columns, one lane per column.
    if (BITS == 4 && rows >= kColumnKernelRows) {
      static thread_local std::vector<float> acc;
      acc.resize(static_cast<size_t>(rows * 16));
      for (; n_begin + 16 <= n_end; n_begin += 16) {
        dot_q4_columns_vnni(wbytes, qs, n_begin, act, acc.data());
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t c = 0; c < 16; ++c)
            y[r * N + n_begin + c] =
                linear_epilogue(acc[r * 16 + c], bias, residual, r, n_begin + c, N);
      }
    }
#endif
    float out[4];
    for (int64_t r0 = 0; r0 < rows; r0 += 4) {
      const int64_t R = std::min<int64_t>(4, rows - r0);
      for (int64_t n = n_begin; n < n_end; ++n) {
        const uint8_t* w = wbytes + n * row_bytes;
        const half* s = qs + n * groups;
#if defined(LLMCC_HAVE_VNNI512)
#define LLMCC_DOT_Q4 dot_q4_rows_vnni
#define LLMCC_DOT_Q8 dot_q8_rows_vnni
#else
#define LLMCC_DOT_Q4 dot_q4_rows
#define LLMCC_DOT_Q8 dot_q8_rows
#endif
        if constexpr (BITS == 4) {
          switch (R) {
            case 4:
              LLMCC_DOT_Q4<4>(w, s, act, r0, out);
              break;
            case 3:
              LLMCC_DOT_Q4<3>(w, s, act, r0, out);
              break;
            case 2:
              LLMCC_DOT_Q4<2>(w, s, act, r0, out);
              break;
            default:
              LLMCC_DOT_Q4<1>(w, s, act, r0, out);
              break;
          }
        } else {
          switch (R) {
            case 4:
              LLMCC_DOT_Q8<4>(w, s, act, r0, out);
              break;
            case 3:
              LLMCC_DOT_Q8<3>(w, s, act, r0, out);
              break;
            case 2:
              LLMCC_DOT_Q8<2>(w, s, act, r0, out);
              break;
            default:
              LLMCC_DOT_Q8<1>(w, s, act, r0, out);
              break;
          }
        }
#undef LLMCC_DOT_Q4
#undef LLMCC_DOT_Q8
        for (int64_t r = 0; r < R; ++r)
          y[(r0 + r) * N + n] = linear_epilogue(out[r], bias, residual, r0 + r, n, N);
      }
    }
  });
}

#endif  // LLMCC_HAVE_INT8_DOT

}  // namespace llmcc::cpu_kernels
