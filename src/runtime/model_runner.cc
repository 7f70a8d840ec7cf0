#include "runtime/model_runner.h"

#include <cstdlib>

#include "support/error.h"

namespace llmcc {

namespace fs = std::filesystem;

ModelRunner::ModelRunner(const fs::path& model_dir, const fs::path& model_lib, bool verify_md5)
    : library_(model_lib), weights_(model_dir, library_.metadata_to_run(), verify_md5) {
  const Json& md = library_.metadata();
  if (!library_.has_kv_cache())
    user_error("model library '{}' ({}) is an encoder without a KV cache; run it with llmcc embed",
               model_lib.string(), md.value("model_type", "?"));
  const Json& config = md.at("model_config");
  vocab_size_ = config.at("vocab_size");
  // GPT-2's config (MLC's GPT2Config) names it n_embd.
  hidden_size_ = config.contains("hidden_size") ? config.at("hidden_size") : config.at("n_embd");
  context_window_ = md.at("context_window_size");
  prefill_chunk_ = md.at("prefill_chunk_size");
  max_batch_size_ = md.value("max_batch_size", int64_t{1});
  sliding_window_ = md.value("sliding_window_size", int64_t{-1});
  std::string dtype = md.value("model_dtype", "float32");
  model_dtype_ = dtype == "float32"   ? LLMCC_FLOAT32
                 : dtype == "float16" ? LLMCC_FLOAT16
                                      : LLMCC_BFLOAT16;
  dtype_bytes_ = model_dtype_ == LLMCC_FLOAT32 ? 4 : 2;
}

void* ModelRunner::workspace_for(const std::string& fn) {
  const int64_t ws = library_.get(fn).workspace_bytes;
  if (ws <= workspace_bytes_ && workspace_) return workspace_;
  std::free(workspace_);
  workspace_ = std::aligned_alloc(64, static_cast<size_t>((ws + 63) / 64 * 64 + 64));
  if (!workspace_) user_error("out of memory allocating a {} byte workspace for {}", ws, fn);
  workspace_bytes_ = ws;
  return workspace_;
}

ModelRunner::~ModelRunner() {
  kv_.reset();
  if (raw_kv_) library_.free_kv_cache(raw_kv_);
  std::free(workspace_);
}

int64_t ModelRunner::kv_bytes_per_token() const {
  // Sliding layers in their own group hold a window per sequence, not a context's worth.
  const Json& kv = metadata().at("kv_cache");
  const int64_t local = kv.contains("local_layers") ? kv["local_layers"].size() : 0;
  return 2 * (kv.at("num_hidden_layers").get<int64_t>() - local) *
         kv.at("num_key_value_heads").get<int64_t>() * kv.at("head_dim").get<int64_t>() *
         dtype_bytes_;
}

void ModelRunner::create_kv_cache(const KVCacheShape& shape) {
  if (raw_kv_) internal_error("the KV cache was already created");
  raw_kv_ = library_.create_kv_cache(shape.max_num_sequence, shape.max_total_sequence_length,
                                     prefill_chunk_, shape.page_size);
  auto copy = [this](llmcc_kv_cache* group) {
    return [this, group](int64_t src, int64_t dst) { library_.copy_kv_page(group, src, dst); };
  };
  const int64_t local_window = metadata().at("kv_cache").value("local_window", int64_t{0});
  if (raw_kv_->local)
    kv_ =
        std::make_unique<PagedKVCache>(raw_kv_, copy(raw_kv_), copy(raw_kv_->local), local_window);
  else
    kv_ = std::make_unique<PagedKVCache>(raw_kv_, copy(raw_kv_), sliding_window_);
}

void ModelRunner::embed(const std::vector<int32_t>& ids) {
  const int64_t n = static_cast<int64_t>(ids.size());
  std::vector<int32_t> copy = ids;
  embed_buffer_.resize(static_cast<size_t>(n * hidden_size_ * dtype_bytes_));
  llmcc_tensor in = abi_tensor(copy.data(), LLMCC_INT32, {n});
  llmcc_tensor hidden = abi_tensor(embed_buffer_.data(), model_dtype_, {n, hidden_size_});
  library_.call("embed", &in, 1, &hidden, 1, nullptr, weights_.pointers(), workspace_for("embed"));
}

void ModelRunner::call_forward(const std::string& fn, llmcc_tensor* inputs, int32_t num_inputs,
                               llmcc_tensor* out, const std::vector<int64_t>& seqs,
                               const std::vector<int64_t>& lengths) {
  kv_->begin_forward(seqs, lengths);
  try {
    library_.call(fn, inputs, num_inputs, out, 1, kv_->raw(), weights_.pointers(),
                  workspace_for(fn));
  } catch (...) {
    kv_->cancel_forward();
    throw;
  }
  kv_->end_forward();
}

std::vector<float> ModelRunner::forward_last(const std::vector<int64_t>& seqs,
                                             const std::vector<int64_t>& lengths,
                                             const std::vector<int32_t>& ids) {
  const int64_t n = static_cast<int64_t>(ids.size()), b = static_cast<int64_t>(seqs.size());
  std::vector<int32_t> positions;
  int64_t row = 0;
  for (int64_t len : lengths) positions.push_back(static_cast<int32_t>((row += len) - 1));
  if (row != n) internal_error("forward_last: lengths sum to {} but {} ids", row, n);
  embed(ids);
  std::vector<float> logits(static_cast<size_t>(b * vocab_size_));
  llmcc_tensor in[2] = {abi_tensor(embed_buffer_.data(), model_dtype_, {1, n, hidden_size_}),
                        abi_tensor(positions.data(), LLMCC_INT32, {b})};
  llmcc_tensor out = abi_tensor(logits.data(), LLMCC_FLOAT32, {1, b, vocab_size_});
  call_forward("batch_prefill", in, 2, &out, seqs, lengths);
  return logits;
}

std::vector<float> ModelRunner::forward_all(int64_t seq, const std::vector<int32_t>& ids) {
  const int64_t n = static_cast<int64_t>(ids.size());
  embed(ids);
  std::vector<float> logits(static_cast<size_t>(n * vocab_size_));
  llmcc_tensor x = abi_tensor(embed_buffer_.data(), model_dtype_, {1, n, hidden_size_});
  llmcc_tensor out = abi_tensor(logits.data(), LLMCC_FLOAT32, {1, n, vocab_size_});
  call_forward("batch_verify", &x, 1, &out, {seq}, {n});
  return logits;
}

}  // namespace llmcc
