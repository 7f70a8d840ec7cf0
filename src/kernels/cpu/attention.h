// Attention over the paged KV cache with rotary embedding fused in (MLC's
// attention_with_fused_qkv). For every row of the fused qkv input it:
//   1. rotates k (rotate-half or interleaved pairs, over the first rotary_dim dims) and appends k
//      and v to the row's sequence pages;
//   2. rotates q and attends to every cached position up to its own (causal), or to the whole
//      sequence (an encoder); with a sliding window W only to the last W positions (Mistral's
//      kv_idx > q_idx - W). The softmax is online, in f32, so no score buffer is needed whatever
//      the context length.
// A sequence's pages may start past its first logical page (kv->first_pages): the runtime has
// released pages that fell out of the sliding window, and no query may reach them.
// Storage layout (owned by the library): [layer][page][k|v][kv_head][slot][head_dim], dtype T.
#pragma once

#include <algorithm>
#include <vector>

#include "attention_block.h"
#include "llmcc/model_abi.h"

namespace llmcc::cpu_kernels {

// RoPE as the compiler resolved it (ir/rope.h): the rotation of the first rotary_dim dims of a
// head, with inverse frequencies computed at compile time.
struct Rope {
  enum Mode { kNone = 0, kRotateHalf = 1, kInterleaved = 2 };
  int mode = kRotateHalf;
  int64_t rotary_dim = 0;
  const float* inv_freq = nullptr;       // rotary_dim / 2 entries
  const float* long_inv_freq = nullptr;  // longrope: used while a sequence is longer than...
  int64_t long_after = -1;               // ...this many tokens in the current forward
  float attention_factor = 1.0f;         // on cos and sin (YaRN, longrope)
};

// Which keys a query sees and how its scores are bent.
struct AttentionMask {
  bool causal = true;    // false: every position of the sequence (an encoder)
  int64_t window = 0;    // > 0: only the last `window` positions up to the query's own
  float softcap = 0.0f;  // > 0: score = softcap * tanh(score / softcap)
};

// Where a head's q, k and v sit in a row of the fused qkv input: every q head, then every k head,
// then every v head (Llama's qkv_proj), or q, k, v of head 0, then of head 1 (GPT-NeoX's
// query_key_value, which needs as many KV heads as query heads).
enum class QkvOrder { kGrouped, kPerHead };

struct QkvOffsets {
  int64_t q_head, k_base, v_base, k_head;  // in elements, times a head's index where named so
  static QkvOffsets of(QkvOrder order, int64_t hq, int64_t hkv, int64_t d) {
    if (order == QkvOrder::kPerHead) return {3 * d, d, 2 * d, 3 * d};
    return {d, hq * d, (hq + hkv) * d, d};
  }
  int64_t q(int64_t h) const { return h * q_head; }
  int64_t k(int64_t h) const { return k_base + h * k_head; }
  int64_t v(int64_t h) const { return v_base + h * k_head; }
};

// The cosines and sines of the rotation at position pos, in f32 rounded through T like a
// framework that stores cos and sin in T: rotary_dim / 2 of each. Every head of a row shares them.
template <typename T>
inline void rope_angles(const Rope& rope, const float* inv, int64_t pos, float* cos_out,
                        float* sin_out) {
  const int64_t half = rope.mode == Rope::kNone ? 0 : rope.rotary_dim / 2;
  for (int64_t i = 0; i < half; ++i) {
    const float angle = static_cast<float>(pos) * inv[i];
    cos_out[i] = round_to<T>(std::cos(angle) * rope.attention_factor);
    sin_out[i] = round_to<T>(std::sin(angle) * rope.attention_factor);
  }
}

// out = rotate(x) with a row's angles, rounded through T like a framework that stores the rotated
// value in T; the dims past rotary_dim pass through.
template <typename T>
inline void rope_rotate(const float* x, float* out, int64_t d, const Rope& rope, const float* c,
                        const float* s) {
  const int64_t R = rope.mode == Rope::kNone ? 0 : rope.rotary_dim, pairs = R / 2;
  int64_t i = 0;
#if defined(__AVX512F__)
  // Rotate-half pairs (i, i + R/2), 16 at once, with the same roundings.
  if constexpr (std::is_same_v<T, half> || std::is_same_v<T, float>) {
    auto round = [](__m512 v) {
      if constexpr (std::is_same_v<T, half>)
        return _mm512_cvtph_ps(_mm512_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
      else
        return v;
    };
    if (rope.mode == Rope::kRotateHalf)
      for (; i + 16 <= pairs; i += 16) {
        const __m512 a = _mm512_loadu_ps(x + i), b = _mm512_loadu_ps(x + pairs + i);
        const __m512 ci = _mm512_loadu_ps(c + i), si = _mm512_loadu_ps(s + i);
        _mm512_storeu_ps(out + i, round(_mm512_sub_ps(round(_mm512_mul_ps(a, ci)),
                                                      round(_mm512_mul_ps(b, si)))));
        _mm512_storeu_ps(out + pairs + i, round(_mm512_add_ps(round(_mm512_mul_ps(b, ci)),
                                                              round(_mm512_mul_ps(a, si)))));
      }
  }
#endif
  for (; i < pairs; ++i) {
    const int64_t ia = rope.mode == Rope::kInterleaved ? 2 * i : i;
    const int64_t ib = rope.mode == Rope::kInterleaved ? 2 * i + 1 : i + pairs;
    const float a = x[ia], b = x[ib];
    out[ia] = round_to<T>(round_to<T>(a * c[i]) - round_to<T>(b * s[i]));
    out[ib] = round_to<T>(round_to<T>(b * c[i]) + round_to<T>(a * s[i]));
  }
  for (int64_t i = R; i < d; ++i) out[i] = x[i];
}

template <typename T>
inline T* kv_slot(const llmcc_kv_cache* kv, int64_t layer, int64_t page, int64_t which,
                  int64_t head, int64_t slot) {
  int64_t index =
      (((layer * kv->num_pages + page) * 2 + which) * kv->num_kv_heads + head) * kv->page_size +
      slot;
  return static_cast<T*>(kv->storage) + index * kv->head_dim;
}

template <typename T>
int attention(const T* qkv, T* out, llmcc_kv_cache* kv, int64_t rows, int64_t layer, int64_t hq,
              int64_t hkv, int64_t d, float sm_scale, const Rope& rope,
              const AttentionMask& mask = {}, QkvOrder order = QkvOrder::kGrouped) {
  if (kv == nullptr || kv->storage == nullptr) return fail("attention: no KV cache was given");
  if (layer >= kv->num_layers || hkv != kv->num_kv_heads || d != kv->head_dim)
    return fail("attention: the KV cache was created for another model shape");
  if (kv->num_seqs <= 0 || kv->qo_indptr == nullptr || kv->prev_lengths == nullptr ||
      kv->page_indptr == nullptr || kv->page_indices == nullptr)
    return fail("attention: the KV cache has no forward batch (begin_forward was not called)");
  if (order == QkvOrder::kPerHead && hq != hkv)
    return fail("attention: a per-head qkv layout needs as many KV heads as query heads");
  const QkvOffsets at = QkvOffsets::of(order, hq, hkv, d);
  if (kv->qo_indptr[0] != 0 || kv->qo_indptr[kv->num_seqs] != rows)
    return fail("attention: the forward batch covers %d rows but the input has %lld",
                kv->qo_indptr[kv->num_seqs], static_cast<long long>(rows));

  if (rope.mode != Rope::kNone &&
      (rope.rotary_dim <= 0 || rope.rotary_dim > d || rope.rotary_dim % 2 || !rope.inv_freq))
    return fail("attention: bad rotary_dim %lld for head_dim %lld",
                static_cast<long long>(rope.rotary_dim), static_cast<long long>(d));
  // Which sequence and position each row is, the last position it may see, and its frequencies
  // (longrope picks a set per sequence from the length the sequence reaches in this forward).
  std::vector<int32_t> row_seq(rows), row_pos(rows), row_last(rows);
  std::vector<const float*> row_inv(rows);
  for (int32_t s = 0; s < kv->num_seqs; ++s) {
    int64_t new_tokens = kv->qo_indptr[s + 1] - kv->qo_indptr[s];
    int64_t total = kv->prev_lengths[s] + new_tokens;
    const int64_t first_page = kv->first_pages ? kv->first_pages[s] : 0;
    int64_t pages = first_page + kv->page_indptr[s + 1] - kv->page_indptr[s];
    if (first_page < 0)
      return fail("attention: sequence %d starts at page %lld", s,
                  static_cast<long long>(first_page));
    if (new_tokens < 0 || pages * kv->page_size < total)
      return fail("attention: sequence %d needs %lld slots but has %lld pages of %d", s,
                  static_cast<long long>(total), static_cast<long long>(pages), kv->page_size);
    for (int64_t p = kv->page_indptr[s]; p < kv->page_indptr[s + 1]; ++p)
      if (kv->page_indices[p] < 0 || kv->page_indices[p] >= kv->num_pages)
        return fail("attention: page index %d is out of range", kv->page_indices[p]);
    const bool long_set = rope.long_inv_freq && rope.long_after >= 0 && total > rope.long_after;
    for (int64_t r = kv->qo_indptr[s]; r < kv->qo_indptr[s + 1]; ++r) {
      row_seq[r] = s;
      row_pos[r] = static_cast<int32_t>(kv->prev_lengths[s] + (r - kv->qo_indptr[s]));
      row_last[r] = mask.causal ? row_pos[r] : static_cast<int32_t>(total - 1);
      row_inv[r] = long_set ? rope.long_inv_freq : rope.inv_freq;
      const int64_t first_seen =
          mask.window > 0 ? std::max<int64_t>(0, row_pos[r] - mask.window + 1) : 0;
      if (first_seen / kv->page_size < first_page)
        return fail("attention: sequence %d's position %lld was released from the KV cache", s,
                    static_cast<long long>(first_seen));
    }
  }
  if (d > 1024)
    return fail("attention: head_dim %lld is larger than 1024", static_cast<long long>(d));
  const int64_t width = (hq + 2 * hkv) * d;
  auto page_of = [&](int64_t r, int64_t pos) {
    const int32_t s = row_seq[r];
    return kv->page_indices[kv->page_indptr[s] + pos / kv->page_size -
                            (kv->first_pages ? kv->first_pages[s] : 0)];
  };

  // 1. Each row's rotation angles, then its rotated keys and values appended.
  const int64_t half = d / 2;
  static thread_local std::vector<float> angle_buffer;  // the caller's; workers use the pointer
  angle_buffer.resize(static_cast<size_t>(rows * 2 * half));
  float* const angles = angle_buffer.data();
  auto row_cos = [=](int64_t r) { return angles + r * 2 * half; };
  auto row_sin = [=](int64_t r) { return angles + r * 2 * half + half; };
  parallel_for(rows, rows * hkv * d * 8, [&](int64_t r) {
    float x[1024], rotated[1024];
    const int64_t pos = row_pos[r], page = page_of(r, pos), slot = pos % kv->page_size;
    rope_angles<T>(rope, row_inv[r], pos, row_cos(r), row_sin(r));
    for (int64_t h = 0; h < hkv; ++h) {
      const T* k = qkv + r * width + at.k(h);
      const T* v = qkv + r * width + at.v(h);
      widen(k, x, d);
      rope_rotate<T>(x, rotated, d, rope, row_cos(r), row_sin(r));
      T* k_dst = kv_slot<T>(kv, layer, page, 0, h, slot);
      for (int64_t i = 0; i < d; ++i) k_dst[i] = from_float<T>(rotated[i]);
      std::memcpy(kv_slot<T>(kv, layer, page, 1, h, slot), v, sizeof(T) * d);
    }
  });

  // 2. Causal attention with an online softmax (attention_block.h). One task is a row and a KV
  // head: the query heads that share the KV head (GQA) walk the cache together, so each block of
  // keys and values is widened once for all of them. A block is a page, or 16 keys with AVX-512.
  const int64_t group = hq / hkv, ps = kv->page_size;
  int64_t keys_read = 0;  // over all rows: the cost is rows x heads x keys x head_dim x 2
  for (int64_t r = 0; r < rows; ++r) keys_read += row_last[r] + 1;
#if defined(__AVX512F__)
  const bool block16 = d <= kMaxBlock16HeadDim;
#else
  const bool block16 = false;
#endif
  parallel_for(rows * hkv, keys_read * hq * d * 2, [&](int64_t task) {
    const int64_t r = task / hkv, kvh = task % hkv;
    static thread_local std::vector<float> q, acc, kf, vf, scores, x, running_max, denom;
    const int64_t block = block16 ? 16 : ps;  // keys per step of the online softmax
    q.resize(group * d);
    acc.resize(group * d);
    kf.resize(block * d);
    vf.resize(block * d);
    scores.resize(block);
    x.resize(d);
    running_max.resize(group);
    denom.resize(group);
    const int64_t pos = row_pos[r], last = row_last[r];
    for (int64_t g = 0; g < group; ++g) {
      widen(qkv + r * width + at.q(kvh * group + g), x.data(), d);
      rope_rotate<T>(x.data(), q.data() + g * d, d, rope, row_cos(r), row_sin(r));
      running_max[g] = -INFINITY;
      denom[g] = 0.0f;
    }
    std::fill(acc.begin(), acc.end(), 0.0f);
    const OnlineSoftmax state{acc.data(), running_max.data(), denom.data()};
    // The first visible position; pages wholly before it are not read.
    const int64_t first = mask.window > 0 ? std::max<int64_t>(0, pos - mask.window + 1) : 0;
    for (int64_t start = first / ps * ps; start <= last; start += ps) {
      const int64_t page = page_of(r, start), page_keys = std::min(ps, last + 1 - start);
      // Blocks of the page that hold a visible key: slot b0 on, n keys, the first skip hidden.
      for (int64_t b0 = (std::max(first, start) - start) / block * block; b0 < page_keys;
           b0 += block) {
        const int64_t n = std::min(block, page_keys - b0);
        const int64_t skip = std::clamp<int64_t>(first - start - b0, 0, n);
        widen(kv_slot<T>(kv, layer, page, 0, kvh, b0), kf.data(), n * d);
        widen(kv_slot<T>(kv, layer, page, 1, kvh, b0), vf.data(), n * d);
#if defined(__AVX512F__)
        if (block16) {
          attend_block16(q.data(), group, d, kf.data(), vf.data(), skip, n, sm_scale, mask.softcap,
                         state);
          continue;
        }
#endif
        attend_block(q.data(), group, d, kf.data(), vf.data(), skip, n, sm_scale, mask.softcap,
                     scores.data(), state);
      }
    }
    for (int64_t g = 0; g < group; ++g) {
      T* o = out + r * hq * d + (kvh * group + g) * d;
      const float inv_denom = 1.0f / denom[g];
      for (int64_t i = 0; i < d; ++i) o[i] = from_float<T>(acc[g * d + i] * inv_denom);
    }
  });
  return 0;
}

}  // namespace llmcc::cpu_kernels
