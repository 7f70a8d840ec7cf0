// Learned absolute position embeddings (GPT-2's wpe, BERT's position_embeddings), added to the
// token embeddings: y = x + table[position]. A decoder's positions come from the KV cache (each
// sequence's tokens continue after the ones it already holds, as MLC's get_query_positions); an
// encoder's are the column index of a padded batch.
#pragma once

#include "common.h"
#include "llmcc/model_abi.h"

namespace llmcc::cpu_kernels {

template <typename T>
inline void add_row(const T* x, const T* p, T* y, int64_t H) {
  for (int64_t i = 0; i < H; ++i) y[i] = from_float<T>(to_float(x[i]) + to_float(p[i]));
}

// x [rows, H]; the rows are the KV cache's forward batch.
template <typename T>
int add_positions_kv(const T* x, const T* table, T* y, const llmcc_kv_cache* kv, int64_t rows,
                     int64_t H, int64_t table_rows) {
  if (kv == nullptr || kv->num_seqs <= 0 || kv->qo_indptr == nullptr || kv->prev_lengths == nullptr)
    return fail("add_positions: the KV cache has no forward batch (begin_forward was not called)");
  if (kv->qo_indptr[0] != 0 || kv->qo_indptr[kv->num_seqs] != rows)
    return fail("add_positions: the forward batch covers %d rows but the input has %lld",
                kv->qo_indptr[kv->num_seqs], static_cast<long long>(rows));
  for (int32_t s = 0; s < kv->num_seqs; ++s)
    for (int64_t r = kv->qo_indptr[s]; r < kv->qo_indptr[s + 1]; ++r) {
      const int64_t pos = kv->prev_lengths[s] + (r - kv->qo_indptr[s]);
      if (pos >= table_rows)
        return fail("position %lld is past the model's %lld learned positions",
                    static_cast<long long>(pos), static_cast<long long>(table_rows));
      add_row(x + r * H, table + pos * H, y + r * H, H);
    }
  return 0;
}

// x [batch, seq, H]: row (b, s) is at position s.
template <typename T>
int add_positions_seq(const T* x, const T* table, T* y, int64_t batch, int64_t seq, int64_t H,
                      int64_t table_rows) {
  if (seq > table_rows)
    return fail("a sequence of %lld tokens is longer than the model's %lld learned positions",
                static_cast<long long>(seq), static_cast<long long>(table_rows));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t s = 0; s < seq; ++s) {
      const int64_t r = b * seq + s;
      add_row(x + r * H, table + s * H, y + r * H, H);
    }
  return 0;
}

}  // namespace llmcc::cpu_kernels
