// A compiled model on its weights: loads both, owns the workspace and the KV cache, and runs one
// forward over a batch of sequences. It knows nothing of requests; the engine schedules it.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "runtime/model_library.h"
#include "runtime/model_weights.h"
#include "runtime/paged_kv_cache.h"

namespace llmcc {

struct KVCacheShape {
  int64_t max_num_sequence = 1;
  int64_t max_total_sequence_length = 0;
  int64_t page_size = 16;
};

class ModelRunner {
 public:
  // Throws UserError for a library or weight folder that cannot be used together.
  ModelRunner(const std::filesystem::path& model_dir, const std::filesystem::path& model_lib,
              bool verify_md5);
  ~ModelRunner();
  ModelRunner(const ModelRunner&) = delete;
  ModelRunner& operator=(const ModelRunner&) = delete;

  // Makes the KV cache (once); `shape.max_num_sequence` sequences may live at a time.
  void create_kv_cache(const KVCacheShape& shape);
  PagedKVCache& kv() { return *kv_; }
  const PagedKVCache& kv() const { return *kv_; }

  const Json& metadata() const { return library_.metadata(); }
  const ModelWeights& weights() const { return weights_; }
  int64_t vocab_size() const { return vocab_size_; }
  int64_t context_window_size() const { return context_window_; }
  int64_t prefill_chunk_size() const { return prefill_chunk_; }
  // The compiled bound on sequences in one batched call.
  int64_t max_batch_size() const { return max_batch_size_; }
  int64_t sliding_window_size() const { return sliding_window_; }
  // Bytes of KV cache per token of one sequence.
  int64_t kv_bytes_per_token() const;
  // Bytes of workspace held now: the largest need of the functions called so far.
  int64_t workspace_bytes() const { return workspace_bytes_; }

  // Appends `ids` (lengths[i] tokens for seqs[i], in order) to the sequences and returns the f32
  // logits at each sequence's last new token, one row of vocab_size per sequence, through
  // batch_prefill. At most prefill_chunk_size tokens and max_batch_size sequences.
  std::vector<float> forward_last(const std::vector<int64_t>& seqs,
                                  const std::vector<int64_t>& lengths,
                                  const std::vector<int32_t>& ids);
  // Appends `ids` to one sequence and returns the logits after every one of them (batch_verify).
  std::vector<float> forward_all(int64_t seq, const std::vector<int32_t>& ids);

 private:
  void embed(const std::vector<int32_t>& ids);
  // The workspace, grown to what `fn` needs: only the functions this runner calls get room
  // (generation never calls batch_verify, whose logits for a whole chunk dwarf the rest).
  void* workspace_for(const std::string& fn);
  // Runs `fn` as a forward that appends `lengths` tokens to `seqs`; the KV cache's lengths move
  // only when it succeeds.
  void call_forward(const std::string& fn, llmcc_tensor* inputs, int32_t num_inputs,
                    llmcc_tensor* out, const std::vector<int64_t>& seqs,
                    const std::vector<int64_t>& lengths);

  ModelLibrary library_;
  ModelWeights weights_;
  int64_t vocab_size_ = 0, hidden_size_ = 0, context_window_ = 0, prefill_chunk_ = 0;
  int64_t max_batch_size_ = 1, sliding_window_ = -1;
  int32_t model_dtype_ = LLMCC_FLOAT32;
  int64_t dtype_bytes_ = 4;
  llmcc_kv_cache* raw_kv_ = nullptr;
  std::unique_ptr<PagedKVCache> kv_;
  void* workspace_ = nullptr;
  int64_t workspace_bytes_ = 0;
  std::vector<uint8_t> embed_buffer_;
};

}  // namespace llmcc
