// Bidirectional attention over a padded batch, without a KV cache (BERT): qkv [batch, seq,
// (hq + 2 hkv) d] in q | k | v order, mask [batch, seq] with nonzero for a real token. Every row,
// padding included, attends to the real tokens of its own sequence; the runtime ignores the
// padded rows' outputs. Scores, softmax and the weighted sum are in f32, as torch's sdpa is for
// f32 and close to it for half.
#pragma once

#include <algorithm>
#include <vector>

#include "common.h"
#include "dot.h"

namespace llmcc::cpu_kernels {

template <typename T>
int encoder_attention(const T* qkv, const int32_t* mask, T* out, int64_t batch, int64_t seq,
                      int64_t hq, int64_t hkv, int64_t d, float sm_scale) {
  if (hkv <= 0 || hq % hkv) return fail("encoder_attention: bad head counts");
  const int64_t width = (hq + 2 * hkv) * d, group = hq / hkv;
  // One task is a sequence and a KV head: its keys and values are widened once for the query
  // heads that share them.
  parallel_for(batch * hkv, batch * seq * seq * hq * d * 2, [&](int64_t task) {
    const int64_t b = task / hkv, kvh = task % hkv;
    static thread_local std::vector<float> k, v, q, scores, acc;
    k.resize(seq * d);
    v.resize(seq * d);
    q.resize(d);
    scores.resize(seq);
    acc.resize(d);
    std::vector<int64_t> visible;
    visible.reserve(seq);
    for (int64_t j = 0; j < seq; ++j)
      if (mask[b * seq + j] != 0) visible.push_back(j);
    for (int64_t j : visible) {
      const T* row = qkv + (b * seq + j) * width;
      widen(row + (hq + kvh) * d, k.data() + j * d, d);
      widen(row + (hq + hkv + kvh) * d, v.data() + j * d, d);
    }
    for (int64_t i = 0; i < seq; ++i)
      for (int64_t g = 0; g < group; ++g) {
        const int64_t h = kvh * group + g;
        T* o = out + (b * seq + i) * hq * d + h * d;
        if (visible.empty()) {  // no real token: nothing to attend to
          for (int64_t x = 0; x < d; ++x) o[x] = from_float<T>(0.0f);
          continue;
        }
        widen(qkv + (b * seq + i) * width + h * d, q.data(), d);
        float max_score = -INFINITY;
        for (size_t n = 0; n < visible.size(); ++n) {
          scores[n] = dot_f32(q.data(), k.data() + visible[n] * d, d) * sm_scale;
          max_score = std::max(max_score, scores[n]);
        }
        float denom = 0.0f;
        std::fill(acc.begin(), acc.end(), 0.0f);
        for (size_t n = 0; n < visible.size(); ++n) {
          const float p = std::exp(scores[n] - max_score);
          denom += p;
          axpy_f32(p, v.data() + visible[n] * d, acc.data(), d);
        }
        const float inv = 1.0f / denom;
        for (int64_t x = 0; x < d; ++x) o[x] = from_float<T>(acc[x] * inv);
      }
  });
  return 0;
}

}  // namespace llmcc::cpu_kernels
