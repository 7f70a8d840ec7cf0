// Runs a compiled model on converted weights: loads both, owns the KV cache and workspace, and
// generates tokens for a prompt with chunked prefill and step-by-step decode.
#pragma once

#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "runtime/model_library.h"
#include "runtime/model_weights.h"
#include "runtime/paged_kv_cache.h"
#include "runtime/sampler.h"

namespace llmcc {

struct EngineOptions {
  bool verify_md5 = true;
  int64_t page_size = 16;
};

struct GenerationConfig {
  int64_t max_tokens = 32;
  SamplingParams sampling;
  std::vector<int32_t> stop_token_ids;
};

struct GenerationResult {
  std::vector<int32_t> tokens;
  std::string finish_reason;  // "stop", "length" (max_tokens) or "context" (window full)
  int64_t prefill_tokens = 0;
  double prefill_seconds = 0;
  double decode_seconds = 0;
};

class Engine {
 public:
  // Throws UserError for a library or weight folder that cannot be used together.
  Engine(const std::filesystem::path& model_dir, const std::filesystem::path& model_lib,
         const EngineOptions& options = {});
  ~Engine();

  const Json& metadata() const { return library_.metadata(); }
  int64_t vocab_size() const { return vocab_size_; }
  int64_t context_window_size() const { return context_window_; }
  // KV cache pages that sequences hold now (a sliding-window model releases what falls out).
  int64_t kv_pages_in_use() const;

  // `on_step(step, logits, token)` sees the logits each token was sampled from; returning false
  // ends generation after that token (finish reason "stop").
  using StepCallback =
      std::function<bool(int64_t step, const std::vector<float>& logits, int32_t token)>;
  GenerationResult generate(const std::vector<int32_t>& prompt, const GenerationConfig& config,
                            const StepCallback& on_step = nullptr);

  // As generate, on a sequence kept between calls (a chat): the part of `prompt` that matches
  // what the session already holds is not run again. end_session() forgets it.
  GenerationResult generate_in_session(const std::vector<int32_t>& prompt,
                                       const GenerationConfig& config,
                                       const StepCallback& on_step = nullptr);
  void end_session();

  // Teacher-forced scoring: the logits after each token of `tokens` (row i predicts token i+1),
  // computed chunk by chunk with batch_verify on a fresh sequence.
  std::vector<std::vector<float>> score(const std::vector<int32_t>& tokens);

 private:
  // Embeds `ids` and runs `fn` on them as the next tokens of `seq`; returns `logit_rows` rows.
  std::vector<float> forward(const std::string& fn, const std::vector<int32_t>& ids, int64_t seq,
                             int64_t logit_rows = 1);
  void check_tokens(const std::vector<int32_t>& tokens, const char* what) const;
  // Prefills prompt[cached:] on `seq` and decodes; appends every token run to `fed` if given.
  GenerationResult run(int64_t seq, const std::vector<int32_t>& prompt, size_t cached,
                       const GenerationConfig& config, const StepCallback& on_step,
                       std::vector<int32_t>* fed);

  static constexpr int64_t kSessionSequence = 1;
  bool session_open_ = false;
  std::vector<int32_t> session_tokens_;  // what the session sequence's KV cache holds

  ModelLibrary library_;
  ModelWeights weights_;
  int64_t vocab_size_ = 0, hidden_size_ = 0, context_window_ = 0, prefill_chunk_ = 0;
  int32_t model_dtype_ = LLMCC_FLOAT32;
  int64_t dtype_bytes_ = 4;
  llmcc_kv_cache* raw_kv_ = nullptr;
  std::unique_ptr<PagedKVCache> kv_;
  void* workspace_ = nullptr;
  std::vector<uint8_t> embed_buffer_;
};

}  // namespace llmcc
