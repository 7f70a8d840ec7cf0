#include "runtime/engine.h"

#include <chrono>
#include <cstdlib>

#include "support/error.h"
#include "support/logging.h"

namespace llmcc {

namespace fs = std::filesystem;

namespace {

llmcc_tensor make_tensor(void* data, int32_t dtype, std::initializer_list<int64_t> shape) {
  llmcc_tensor t{};
  t.data = data;
  t.dtype = dtype;
  t.ndim = static_cast<int32_t>(shape.size());
  int i = 0;
  for (int64_t d : shape) t.shape[i++] = d;
  return t;
}

// A KV-cache sequence for the length of one request.
class ScopedSequence {
 public:
  ScopedSequence(PagedKVCache& kv, int64_t id) : kv_(kv), id_(id) { kv_.add_sequence(id_); }
  ~ScopedSequence() { kv_.remove_sequence(id_); }
  ScopedSequence(const ScopedSequence&) = delete;
  ScopedSequence& operator=(const ScopedSequence&) = delete;

 private:
  PagedKVCache& kv_;
  int64_t id_;
};

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

Engine::Engine(const fs::path& model_dir, const fs::path& model_lib, const EngineOptions& options)
    : library_(model_lib), weights_(model_dir, library_.metadata(), options.verify_md5) {
  const Json& md = library_.metadata();
  const Json& config = md.at("model_config");
  vocab_size_ = config.at("vocab_size");
  hidden_size_ = config.at("hidden_size");
  context_window_ = md.at("context_window_size");
  prefill_chunk_ = md.at("prefill_chunk_size");
  std::string dtype = md.value("model_dtype", "float32");
  model_dtype_ = dtype == "float32"   ? LLMCC_FLOAT32
                 : dtype == "float16" ? LLMCC_FLOAT16
                                      : LLMCC_BFLOAT16;
  dtype_bytes_ = model_dtype_ == LLMCC_FLOAT32 ? 4 : 2;
  int64_t ws = 0;
  for (const auto& [name, f] : library_.functions()) ws = std::max(ws, f->workspace_bytes);
  workspace_ = std::aligned_alloc(64, static_cast<size_t>((ws + 63) / 64 * 64 + 64));
  if (!workspace_) user_error("out of memory allocating a {} byte workspace", ws);
  // Two sequences: a chat session can stay cached while a one-shot request runs.
  raw_kv_ = library_.create_kv_cache(2, context_window_, prefill_chunk_, options.page_size);
  kv_ = std::make_unique<PagedKVCache>(
      raw_kv_, [this](int64_t src, int64_t dst) { library_.copy_kv_page(raw_kv_, src, dst); },
      md.value("sliding_window_size", int64_t{-1}));
}

Engine::~Engine() {
  end_session();
  kv_.reset();
  if (raw_kv_) library_.free_kv_cache(raw_kv_);
  std::free(workspace_);
}

std::vector<float> Engine::forward(const std::string& fn, const std::vector<int32_t>& ids,
                                   int64_t seq, int64_t logit_rows) {
  const int64_t n = static_cast<int64_t>(ids.size());
  std::vector<int32_t> copy = ids;
  embed_buffer_.resize(static_cast<size_t>(n * hidden_size_ * dtype_bytes_));
  llmcc_tensor in = make_tensor(copy.data(), LLMCC_INT32, {n});
  llmcc_tensor hidden = make_tensor(embed_buffer_.data(), model_dtype_, {n, hidden_size_});
  library_.call("embed", &in, 1, &hidden, 1, nullptr, weights_.pointers(), workspace_);
  std::vector<float> logits(static_cast<size_t>(logit_rows * vocab_size_));
  llmcc_tensor x = make_tensor(embed_buffer_.data(), model_dtype_, {1, n, hidden_size_});
  llmcc_tensor out = make_tensor(logits.data(), LLMCC_FLOAT32, {1, logit_rows, vocab_size_});
  kv_->begin_forward({seq}, {n});
  library_.call(fn, &x, 1, &out, 1, kv_->raw(), weights_.pointers(), workspace_);
  kv_->end_forward();
  return logits;
}

int64_t Engine::kv_pages_in_use() const { return raw_kv_->num_pages - kv_->free_pages(); }

void Engine::check_tokens(const std::vector<int32_t>& tokens, const char* what) const {
  if (tokens.empty()) user_error("the {} is empty", what);
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab_size_)
      user_error("{} token {} at position {} is outside the vocabulary [0, {})", what, tokens[i], i,
                 vocab_size_);
  if (static_cast<int64_t>(tokens.size()) > context_window_)
    user_error("the {} has {} tokens but the context window is {}", what, tokens.size(),
               context_window_);
}

std::vector<std::vector<float>> Engine::score(const std::vector<int32_t>& tokens) {
  check_tokens(tokens, "scored text");
  const int64_t seq = 0;
  ScopedSequence scoped(*kv_, seq);
  std::vector<std::vector<float>> rows;
  for (size_t begin = 0; begin < tokens.size(); begin += prefill_chunk_) {
    size_t end = std::min(tokens.size(), begin + static_cast<size_t>(prefill_chunk_));
    const int64_t n = static_cast<int64_t>(end - begin);
    std::vector<float> logits = forward(
        "batch_verify", std::vector<int32_t>(tokens.begin() + begin, tokens.begin() + end), seq, n);
    for (int64_t r = 0; r < n; ++r)
      rows.emplace_back(logits.begin() + r * vocab_size_, logits.begin() + (r + 1) * vocab_size_);
  }
  return rows;
}

GenerationResult Engine::generate(const std::vector<int32_t>& prompt,
                                  const GenerationConfig& config, const StepCallback& on_step) {
  check_tokens(prompt, "prompt");
  const int64_t seq = 0;
  ScopedSequence scoped(*kv_, seq);
  return run(seq, prompt, 0, config, on_step, nullptr);
}

GenerationResult Engine::generate_in_session(const std::vector<int32_t>& prompt,
                                             const GenerationConfig& config,
                                             const StepCallback& on_step) {
  check_tokens(prompt, "prompt");
  if (!session_open_) {
    kv_->add_sequence(kSessionSequence);
    session_open_ = true;
    session_tokens_.clear();
  }
  // Reuse the cached prefix the new prompt shares with what the session has seen; at least the
  // last prompt token is run again, for its logits.
  size_t keep = 0;
  while (keep < session_tokens_.size() && keep + 1 < prompt.size() &&
         session_tokens_[keep] == prompt[keep])
    ++keep;
  // A sliding window may have released what the prefix needs: then the whole prompt runs again.
  keep = static_cast<size_t>(kv_->truncate_sequence(kSessionSequence, static_cast<int64_t>(keep)));
  session_tokens_.resize(keep);
  return run(kSessionSequence, prompt, keep, config, on_step, &session_tokens_);
}

void Engine::end_session() {
  if (!session_open_) return;
  kv_->remove_sequence(kSessionSequence);
  session_open_ = false;
  session_tokens_.clear();
}

GenerationResult Engine::run(int64_t seq, const std::vector<int32_t>& prompt, size_t cached,
                             const GenerationConfig& config, const StepCallback& on_step,
                             std::vector<int32_t>* fed) {
  if (config.max_tokens < 1) user_error("max_tokens must be at least 1");
  GenerationResult result;
  auto start = std::chrono::steady_clock::now();
  std::vector<float> logits;
  for (size_t begin = cached; begin < prompt.size(); begin += prefill_chunk_) {
    size_t end = std::min(prompt.size(), begin + static_cast<size_t>(prefill_chunk_));
    std::vector<int32_t> chunk(prompt.begin() + begin, prompt.begin() + end);
    logits = forward("prefill", chunk, seq);
    if (fed) fed->insert(fed->end(), chunk.begin(), chunk.end());
  }
  result.prefill_tokens = static_cast<int64_t>(prompt.size() - cached);
  result.prefill_seconds = seconds_since(start);

  Sampler sampler(config.sampling);
  std::vector<int32_t> history = prompt;
  start = std::chrono::steady_clock::now();
  for (int64_t step = 0;; ++step) {
    std::vector<float> sampled_from = logits;
    int32_t token = sampler.sample(logits, history);
    const bool go_on = on_step ? on_step(step, sampled_from, token) : true;
    result.tokens.push_back(token);
    history.push_back(token);
    if (!go_on) {
      result.finish_reason = "stop";
      break;
    }
    if (std::find(config.stop_token_ids.begin(), config.stop_token_ids.end(), token) !=
        config.stop_token_ids.end()) {
      result.finish_reason = "stop";
      break;
    }
    if (static_cast<int64_t>(result.tokens.size()) >= config.max_tokens) {
      result.finish_reason = "length";
      break;
    }
    if (static_cast<int64_t>(history.size()) >= context_window_) {
      log_warning("generation stopped: the context window of {} tokens is full", context_window_);
      result.finish_reason = "context";
      break;
    }
    logits = forward("decode", {token}, seq);
    if (fed) fed->push_back(token);
  }
  result.decode_seconds = seconds_since(start);
  return result;
}

}  // namespace llmcc
