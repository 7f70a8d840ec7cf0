// Attention over the paged KV cache with rotary embedding fused in (MLC's
// attention_with_fused_qkv, RopeMode.NORMAL). For every row of the fused qkv input it:
//   1. rotates k (rotate-half / NeoX pairing) and appends k and v to the row's sequence pages;
//   2. rotates q and attends causally to every cached position up to its own (or, with a sliding
//      window W, to the last W positions: Mistral's kv_idx > q_idx - W), with an online softmax
//      in f32, so no score buffer is needed whatever the context length.
// Storage layout (owned by the library): [layer][page][k|v][kv_head][slot][head_dim], dtype T.
#pragma once

#include <algorithm>
#include <vector>

#include "dot.h"
#include "llmcc/model_abi.h"

namespace llmcc::cpu_kernels {

struct RopeParams {
  double theta = 10000.0;
  bool llama3 = false;  // rope_scaling {"rope_type": "llama3"}
  double factor = 1, low_freq_factor = 1, high_freq_factor = 4, original_max_position = 8192;
};

// inv_freq[i] = 1 / theta^(2i/d) in f32, then the llama3 wavelength-dependent rescale.
inline void rope_inv_freq(const RopeParams& p, int64_t d, float* inv) {
  for (int64_t i = 0; i < d / 2; ++i) {
    float exponent = static_cast<float>(2 * i) / static_cast<float>(d);
    inv[i] = 1.0f / std::pow(static_cast<float>(p.theta), exponent);
    if (!p.llama3) continue;
    const float pi = 3.14159265358979323846f;
    float wavelen = 2.0f * pi / inv[i];
    float low_wavelen = static_cast<float>(p.original_max_position / p.low_freq_factor);
    float high_wavelen = static_cast<float>(p.original_max_position / p.high_freq_factor);
    float scaled = wavelen > low_wavelen ? inv[i] / static_cast<float>(p.factor) : inv[i];
    bool medium = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
    if (medium) {
      float smooth = (static_cast<float>(p.original_max_position) / wavelen -
                      static_cast<float>(p.low_freq_factor)) /
                     static_cast<float>(p.high_freq_factor - p.low_freq_factor);
      scaled = (1.0f - smooth) * scaled / static_cast<float>(p.factor) + smooth * scaled;
    }
    inv[i] = scaled;
  }
}

// out = rotate(x) at position pos, all in f32, rounded through T like a framework storing cos,
// sin and the rotated value in T.
template <typename T>
inline void rope_rotate(const float* x, float* out, int64_t d, const float* inv, int64_t pos) {
  const int64_t half_d = d / 2;
  for (int64_t i = 0; i < half_d; ++i) {
    float angle = static_cast<float>(pos) * inv[i];
    float c = round_to<T>(std::cos(angle)), s = round_to<T>(std::sin(angle));
    float a = x[i], b = x[i + half_d];
    out[i] = round_to<T>(round_to<T>(a * c) - round_to<T>(b * s));
    out[i + half_d] = round_to<T>(round_to<T>(b * c) + round_to<T>(a * s));
  }
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
              int64_t hkv, int64_t d, float sm_scale, const RopeParams& rope, int64_t window = 0) {
  if (kv == nullptr || kv->storage == nullptr) return fail("attention: no KV cache was given");
  if (layer >= kv->num_layers || hkv != kv->num_kv_heads || d != kv->head_dim)
    return fail("attention: the KV cache was created for another model shape");
  if (kv->num_seqs <= 0 || kv->qo_indptr == nullptr || kv->prev_lengths == nullptr ||
      kv->page_indptr == nullptr || kv->page_indices == nullptr)
    return fail("attention: the KV cache has no forward batch (begin_forward was not called)");
  if (kv->qo_indptr[0] != 0 || kv->qo_indptr[kv->num_seqs] != rows)
    return fail("attention: the forward batch covers %d rows but the input has %lld",
                kv->qo_indptr[kv->num_seqs], static_cast<long long>(rows));

  // Which sequence and position each row is.
  std::vector<int32_t> row_seq(rows), row_pos(rows);
  for (int32_t s = 0; s < kv->num_seqs; ++s) {
    int64_t new_tokens = kv->qo_indptr[s + 1] - kv->qo_indptr[s];
    int64_t total = kv->prev_lengths[s] + new_tokens;
    int64_t pages = kv->page_indptr[s + 1] - kv->page_indptr[s];
    if (new_tokens < 0 || pages * kv->page_size < total)
      return fail("attention: sequence %d needs %lld slots but has %lld pages of %d", s,
                  static_cast<long long>(total), static_cast<long long>(pages), kv->page_size);
    for (int64_t p = kv->page_indptr[s]; p < kv->page_indptr[s + 1]; ++p)
      if (kv->page_indices[p] < 0 || kv->page_indices[p] >= kv->num_pages)
        return fail("attention: page index %d is out of range", kv->page_indices[p]);
    for (int64_t r = kv->qo_indptr[s]; r < kv->qo_indptr[s + 1]; ++r) {
      row_seq[r] = s;
      row_pos[r] = static_cast<int32_t>(kv->prev_lengths[s] + (r - kv->qo_indptr[s]));
    }
  }
  if (d > 1024)
    return fail("attention: head_dim %lld is larger than 1024", static_cast<long long>(d));
  std::vector<float> inv(d / 2);
  rope_inv_freq(rope, d, inv.data());
  const int64_t width = (hq + 2 * hkv) * d;
  auto page_of = [&](int64_t r, int64_t pos) {
    return kv->page_indices[kv->page_indptr[row_seq[r]] + pos / kv->page_size];
  };

  // 1. Append rotated keys and values.
#pragma omp parallel for schedule(static) if (rows > 1)
  for (int64_t r = 0; r < rows; ++r) {
    float x[1024], rotated[1024];
    const int64_t pos = row_pos[r], page = page_of(r, pos), slot = pos % kv->page_size;
    for (int64_t h = 0; h < hkv; ++h) {
      const T* k = qkv + r * width + (hq + h) * d;
      const T* v = qkv + r * width + (hq + hkv + h) * d;
      widen(k, x, d);
      rope_rotate<T>(x, rotated, d, inv.data(), pos);
      T* k_dst = kv_slot<T>(kv, layer, page, 0, h, slot);
      for (int64_t i = 0; i < d; ++i) k_dst[i] = from_float<T>(rotated[i]);
      std::memcpy(kv_slot<T>(kv, layer, page, 1, h, slot), v, sizeof(T) * d);
    }
  }

  // 2. Causal attention with an online softmax. One task is a row and a KV head: the query heads
  // that share the KV head (GQA) walk the cache together, so each page of keys and values is
  // widened once for all of them, a page at a time.
  const int64_t group = hq / hkv, ps = kv->page_size;
#pragma omp parallel
  {
    std::vector<float> q(group * d), acc(group * d), kf(ps * d), vf(ps * d), scores(ps), x(d);
    std::vector<float> running_max(group), denom(group);
#pragma omp for schedule(dynamic, 1) collapse(2)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t kvh = 0; kvh < hkv; ++kvh) {
        const int64_t last = row_pos[r];
        for (int64_t g = 0; g < group; ++g) {
          widen(qkv + r * width + (kvh * group + g) * d, x.data(), d);
          rope_rotate<T>(x.data(), q.data() + g * d, d, inv.data(), last);
          running_max[g] = -INFINITY;
          denom[g] = 0.0f;
        }
        std::fill(acc.begin(), acc.end(), 0.0f);
        // The first visible position; pages wholly before it are not read.
        const int64_t first = window > 0 ? std::max<int64_t>(0, last - window + 1) : 0;
        for (int64_t start = first / ps * ps; start <= last; start += ps) {
          const int64_t n = std::min(ps, last + 1 - start), page = page_of(r, start);
          const int64_t skip = std::max<int64_t>(0, first - start);  // slots before the window
          widen(kv_slot<T>(kv, layer, page, 0, kvh, 0), kf.data(), n * d);
          widen(kv_slot<T>(kv, layer, page, 1, kvh, 0), vf.data(), n * d);
          for (int64_t g = 0; g < group; ++g) {
            float block_max = -INFINITY;
            for (int64_t j = 0; j < skip; ++j) scores[j] = 0.0f;  // zeroed again after exp
            for (int64_t j = skip; j < n; ++j) {
              scores[j] = dot_f32(q.data() + g * d, kf.data() + j * d, d) * sm_scale;
              block_max = std::max(block_max, scores[j]);
            }
            const float new_max = std::max(running_max[g], block_max);
            const float correction = std::exp(running_max[g] - new_max);
            for (int64_t j = 0; j < n; ++j) scores[j] -= new_max;
            exp_f32(scores.data(), scores.data(), n);
            for (int64_t j = 0; j < skip; ++j) scores[j] = 0.0f;
            float* a = acc.data() + g * d;
            scale_f32(correction, a, d);
            float sum = 0.0f;
            for (int64_t j = 0; j < n; ++j) {
              sum += scores[j];
              axpy_f32(scores[j], vf.data() + j * d, a, d);
            }
            denom[g] = denom[g] * correction + sum;
            running_max[g] = new_max;
          }
        }
        for (int64_t g = 0; g < group; ++g) {
          T* o = out + r * hq * d + (kvh * group + g) * d;
          const float inv_denom = 1.0f / denom[g];
          for (int64_t i = 0; i < d; ++i) o[i] = from_float<T>(acc[g * d + i] * inv_denom);
        }
      }
  }
  return 0;
}

}  // namespace llmcc::cpu_kernels
