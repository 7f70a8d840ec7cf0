// The serving engine: owns a queue of requests and runs them together on one compiled model.
// Each step mixes one decode row of every running request with chunks of the prompts being
// prefilled (MLC's hybrid prefill), under a token budget. Admission is bounded by sequences,
// total length and free pages; when pages run out, the newest request is preempted and later
// recomputed, with the same output. Prompts that start with a cached prefix share its pages
// (runtime/prefix_cache.h). A background thread steps the engine; generate, chat, bench and
// eval_ppl all run through it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "runtime/engine_mode.h"
#include "runtime/json_schema_matcher.h"
#include "runtime/model_runner.h"
#include "runtime/prefix_cache.h"
#include "runtime/sampler.h"

namespace llmcc {

struct EngineOptions {
  bool verify_md5 = true;
  int64_t page_size = 16;
  EngineMode mode = EngineMode::kLocal;
  // 0: from the mode and the library (see engine_mode.h).
  int64_t max_num_sequence = 0;
  int64_t max_total_sequence_length = 0;
  int64_t prefill_chunk_size = 0;  // the token budget of one step
  double kv_cache_memory_gib = 0;  // server mode's KV budget; 0: a quarter of the RAM
  bool prefix_cache = true;        // sliding-window models go without
  // A thread of the engine's own runs the steps. Without it, get(), generate() and step() run
  // them on the caller's thread, which makes the order of admission exact (tests).
  bool background_thread = true;
};

struct GenerationConfig {
  int64_t max_tokens = 32;
  SamplingParams sampling;
  std::vector<int32_t> stop_token_ids;
  // Log-probabilities (log-softmax of the raw logits) of each chosen token, and of the
  // `top_logprobs` most likely ones.
  bool logprobs = false;
  int64_t top_logprobs = 0;
  // Added to the logits before sampling (OpenAI's logit_bias); logprobs stay those of the model.
  std::vector<std::pair<int32_t, float>> logit_bias;
  // When set, the output is JSON of this schema (constrained decoding); stop_token_ids end it.
  std::shared_ptr<const JsonConstraint> json;
};

struct GenerationResult {
  std::vector<int32_t> tokens;
  std::vector<TokenLogprob> logprobs;  // one per token when asked for
  // "stop", "length" (max_tokens), "context" (window full) or "cancelled".
  std::string finish_reason;
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;   // prompt tokens found in the prefix cache
  int64_t prefill_tokens = 0;  // prompt tokens computed (again after a preemption)
  int64_t preemptions = 0;
  double queue_seconds = 0;    // submit to admission
  double ttft_seconds = 0;     // submit to first token
  double prefill_seconds = 0;  // admission to first token
  double decode_seconds = 0;   // first token to the end
};

struct EngineStats {
  int64_t steps = 0, batched_rows = 0, finished = 0, cancelled = 0, preemptions = 0;
  int64_t prompt_tokens = 0, cached_tokens = 0;
  int64_t prefix_hits = 0, prefix_misses = 0, evicted_pages = 0;
};

struct RequestState;
class Engine;

// A submitted request: wait for its result, or cancel it at any point.
class RequestHandle {
 public:
  int64_t id() const;
  void cancel();
  bool done() const;
  GenerationResult get();  // rethrows the error that ended the request, if one did

 private:
  friend class Engine;
  RequestHandle(std::shared_ptr<RequestState> state, Engine* engine)
      : state_(std::move(state)), engine_(engine) {}
  std::shared_ptr<RequestState> state_;
  Engine* engine_;
};

class Engine {
 public:
  // Throws UserError for a library or weight folder that cannot be used together, or options
  // outside what the library was compiled for.
  Engine(const std::filesystem::path& model_dir, const std::filesystem::path& model_lib,
         const EngineOptions& options = {});
  ~Engine();  // cancels what is still queued or running
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  const Json& metadata() const { return runner_.metadata(); }
  const ModelWeights& weights() const { return runner_.weights(); }
  int64_t vocab_size() const { return runner_.vocab_size(); }
  // The workspace the engine holds: sized by the library functions it has called.
  int64_t workspace_bytes() const { return runner_.workspace_bytes(); }
  int64_t context_window_size() const { return runner_.context_window_size(); }
  const EngineSizing& sizing() const { return sizing_; }
  bool prefix_cache_enabled() const { return prefix_cache_ != nullptr; }

  // Streams each token as it is sampled, with the logits it was sampled from, on the engine's
  // thread; returning false ends the request after that token (finish reason "stop").
  using StepCallback =
      std::function<bool(int64_t step, const std::vector<float>& logits, int32_t token)>;
  // Queues a request. UserError at once for a prompt or config that could never run.
  RequestHandle submit(std::vector<int32_t> prompt, const GenerationConfig& config,
                       StepCallback on_step = nullptr);
  GenerationResult generate(const std::vector<int32_t>& prompt, const GenerationConfig& config,
                            const StepCallback& on_step = nullptr) {
    return submit(prompt, config, on_step).get();
  }

  // Teacher-forced scoring: the logits after each token of `tokens` (row i predicts token i+1),
  // chunk by chunk with batch_verify on a sequence of its own.
  std::vector<std::vector<float>> score(const std::vector<int32_t>& tokens);

  // One scheduling step; false when there was nothing to do. Only without the background thread.
  bool step();

  // KV pages that live sequences hold (not those only the prefix cache keeps).
  int64_t kv_pages_in_use() const { return pages_in_use_.load(); }
  // Pages of the sliding layers' own group (model_abi.h's kv->local) that sequences hold; 0 for
  // models without one.
  int64_t kv_local_pages_in_use() const { return local_pages_in_use_.load(); }
  // Requests running (admitted) and waiting (queued, not yet admitted), as of the last step.
  int64_t num_running() const { return running_count_.load(); }
  int64_t num_waiting() const { return waiting_count_.load(); }
  struct PageCounts {
    int64_t total = 0, free = 0, prefix_cached = 0, in_use = 0;
  };
  // A consistent count, taken between steps.
  PageCounts kv_page_counts();
  EngineStats stats() const;

 private:
  friend class RequestHandle;
  using Request = RequestState;
  void check_tokens(const std::vector<int32_t>& tokens, const char* what) const;
  void loop();
  bool step_locked();
  void take_submissions();
  void drop_cancelled();
  void admit();
  // Frees `pages` pages by evicting from the prefix cache; true when that was enough.
  bool make_free_pages(int64_t pages);
  void preempt(const std::shared_ptr<Request>& r);
  void finish(const std::shared_ptr<Request>& r, const std::string& reason);
  void fail(const std::shared_ptr<Request>& r, std::exception_ptr error);
  // Frees its sequence and takes it off both queues.
  void detach(const std::shared_ptr<Request>& r);
  void release_sequence(Request& r);
  void cache_full_pages(Request& r);
  // Samples the next token of `r` from `logits`; true when the request is done.
  bool sample_next(const std::shared_ptr<Request>& r, const float* logits);
  // Masks the tokens that would take r's output out of its JSON schema.
  void constrain_to_json(Request& r, std::vector<float>& logits) const;
  int64_t pages_held_by_sequences() const;
  void update_page_gauges();

  ModelRunner runner_;
  EngineSizing sizing_;
  EngineOptions options_;
  std::unique_ptr<PrefixCache> prefix_cache_;
  int64_t score_sequence_ = 0;  // a sequence id that requests never use
  std::vector<int64_t> free_sequence_ids_;

  // Touched only under step_mutex_ (the stepping thread).
  std::deque<std::shared_ptr<Request>> waiting_;
  std::vector<std::shared_ptr<Request>> running_;  // in admission order
  int64_t running_length_ = 0;                     // tokens of the running requests
  std::mutex step_mutex_;

  // Submissions, cancellations and statistics cross threads under mutex_.
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<Request>> submitted_;
  bool stopping_ = false;
  int64_t next_id_ = 0;
  EngineStats stats_;
  std::atomic<int64_t> pages_in_use_{0}, local_pages_in_use_{0};
  std::atomic<int64_t> running_count_{0}, waiting_count_{0};
  std::thread thread_;
};

}  // namespace llmcc
