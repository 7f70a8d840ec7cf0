/* The C ABI between a compiled llmcc model library and the runtime that loads it.
 *
 * A model library holds no weights and links nothing of llmcc. It exports, each name prefixed with
 * the library's system_lib_prefix (empty for shared libraries):
 *   uint32_t                    llmcc_abi_version(void);
 *   const char*                 llmcc_metadata(void);          MLC's `_metadata` JSON, plus ours
 *   const llmcc_function_info*  llmcc_functions(int32_t* count);
 *   llmcc_kv_cache*             llmcc_create_tir_paged_kv_cache(int64_t max_batch_size,
 *                                   int64_t max_total_seq_len, int64_t prefill_chunk_size,
 *                                   int64_t page_size, int64_t support_sliding_window);
 *   void                        llmcc_free_kv_cache(llmcc_kv_cache*);
 *   void                        llmcc_kv_cache_copy_page(llmcc_kv_cache*, int64_t src_page,
 *                                   int64_t dst_page);     every layer's K and V of one page
 *                                   (of the cache given: kv, or kv->local)
 *   const char*                 llmcc_last_error(void);
 * An encoder (metadata kv_state_kind "none", e.g. BERT) exports no KV cache functions; its
 * `prefill` takes input_ids, attention_mask and token_type_ids, each i32 [batch, seq] (padded on
 * the right; attention_mask 1 for a real token), and returns the last hidden states [batch, seq,
 * hidden] in the model dtype.
 *
 * Bump LLMCC_ABI_VERSION whenever anything in this file changes meaning.
 */
#ifndef LLMCC_MODEL_ABI_H_
#define LLMCC_MODEL_ABI_H_

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LLMCC_ABI_VERSION 5u

typedef enum {
  LLMCC_FLOAT32 = 0,
  LLMCC_FLOAT16 = 1,
  LLMCC_BFLOAT16 = 2,
  LLMCC_INT32 = 3,
  LLMCC_UINT32 = 4,
} llmcc_dtype;

#define LLMCC_MAX_NDIM 4

/* A dense row-major tensor owned by the caller. */
typedef struct {
  void* data;
  int32_t dtype; /* llmcc_dtype */
  int32_t ndim;
  int64_t shape[LLMCC_MAX_NDIM];
} llmcc_tensor;

/* The paged KV cache. The library creates it and owns the storage layout; the runtime owns the
 * bookkeeping (which pages belong to which sequence) and describes each forward pass in the
 * `batch` fields before calling a function that attends.
 *
 * A model whose sliding-window layers mix with full-attention ones (Gemma 2, Gemma 3) keeps the
 * sliding layers in a second cache, `local`: its own storage, pages and batch fields, described by
 * the runtime as this one is, for the same sequences, but holding only the pages of the last
 * `window` positions, so those layers need memory for the window rather than the whole context.
 * The full-attention layers stay in this one. `local` is NULL for every other model. */
typedef struct llmcc_kv_cache {
  /* Set by the library at creation. */
  void* storage;
  int64_t num_pages;
  int32_t page_size;
  int32_t num_layers;
  int32_t num_kv_heads;
  int32_t head_dim;
  int32_t dtype; /* llmcc_dtype of the stored keys and values */
  int32_t max_batch_size;

  /* Set by the runtime before each forward. Tokens of the forward are grouped by sequence:
   * sequence i owns rows [qo_indptr[i], qo_indptr[i+1]) of the input, already holds
   * prev_lengths[i] tokens, and its pages are page_indices[page_indptr[i] .. page_indptr[i+1]).
   * The pages must have room for prev_lengths[i] plus the new tokens. first_pages (NULL: all 0)
   * says which logical page page_indices[page_indptr[i]] is: the pages before it were released
   * because they fell out of the model's sliding window. */
  int32_t num_seqs;
  const int32_t* qo_indptr;
  const int32_t* prev_lengths;
  const int32_t* page_indptr;
  const int32_t* page_indices;
  const int32_t* first_pages;

  /* Set by the library at creation: the sliding layers' cache, or NULL. */
  struct llmcc_kv_cache* local;
} llmcc_kv_cache;

/* Every model function has this signature. Inputs and outputs are caller-owned; the library checks
 * their dtypes and shapes. `params` are the weights in metadata.params order, each in the layout
 * its metadata entry's `layout` names (MLC's own layout when it has none; "int4-tile8" and
 * "int4-tile16" are src/kernels/cpu/int4_tile_layout.h's, packed with the scales `layout_scale`
 * names). `workspace` must hold at least `workspace_bytes` bytes, 64-byte aligned. Returns 0, or
 * nonzero with a message in llmcc_last_error(). */
typedef int32_t (*llmcc_function)(const llmcc_tensor* inputs, int32_t num_inputs,
                                  llmcc_tensor* outputs, int32_t num_outputs, llmcc_kv_cache* kv,
                                  const void* const* params, void* workspace);

typedef struct {
  const char* name;
  llmcc_function fn;
  int32_t num_inputs; /* excluding the KV cache */
  int32_t num_outputs;
  int32_t uses_kv_cache;
  int32_t uses_params;
  int64_t workspace_bytes;
} llmcc_function_info;

#ifdef __cplusplus
}
#endif

#endif /* LLMCC_MODEL_ABI_H_ */
