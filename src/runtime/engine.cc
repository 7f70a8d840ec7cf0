#include "runtime/engine.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <future>
#include <optional>

#include "support/error.h"
#include "support/logging.h"

namespace llmcc {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

// One request's life: its tokens, its own sampler, and how much of it the KV cache holds.
struct RequestState {
  RequestState(int64_t id, std::vector<int32_t> prompt, const GenerationConfig& config,
               Engine::StepCallback on_step)
      : id(id),
        tokens(std::move(prompt)),
        prompt_len(tokens.size()),
        config(config),
        on_step(std::move(on_step)),
        sampler(config.sampling),
        future(promise.get_future().share()) {
    if (config.json) json.emplace(*config.json->schema);
  }

  const int64_t id;
  std::vector<int32_t> tokens;  // the prompt, then what was generated
  const size_t prompt_len;
  const GenerationConfig config;
  const Engine::StepCallback on_step;
  Sampler sampler;  // survives a preemption, so a recompute draws the same tokens
  std::optional<JsonSchemaMatcher> json;  // where the output is in its schema, if constrained
  std::promise<GenerationResult> promise;
  std::shared_future<GenerationResult> future;
  std::atomic<bool> cancel_requested{false}, done{false};

  GenerationResult result;
  int64_t seq = -1;            // KV sequence while admitted
  int64_t kv_len = 0;          // tokens the KV cache holds
  int64_t cached_pages = 0;    // leading full pages already in the prefix cache
  int64_t prefill_target = 0;  // tokens known at admission: those below it count as prefill
  bool admitted_before = false;
  Clock::time_point submitted = Clock::now(), admitted, first_token;

  int64_t remaining() const { return static_cast<int64_t>(tokens.size()) - kv_len; }
};

int64_t RequestHandle::id() const { return state_->id; }

void RequestHandle::cancel() {
  state_->cancel_requested = true;
  engine_->wake_.notify_all();
}

bool RequestHandle::done() const { return state_->done; }

GenerationResult RequestHandle::get() {
  if (!engine_->options_.background_thread)
    while (!state_->done) engine_->step();
  return state_->future.get();
}

Engine::Engine(const fs::path& model_dir, const fs::path& model_lib, const EngineOptions& options)
    : runner_(model_dir, model_lib, options.verify_md5), options_(options) {
  EngineLimits limits{.library_max_batch_size = runner_.max_batch_size(),
                      .context_window_size = runner_.context_window_size(),
                      .library_prefill_chunk_size = runner_.prefill_chunk_size(),
                      .kv_bytes_per_token = runner_.kv_bytes_per_token(),
                      .kv_budget_bytes = options.kv_cache_memory_gib > 0
                                             ? options.kv_cache_memory_gib * (1 << 30)
                                             : default_kv_budget_bytes()};
  sizing_ = size_engine(options.mode, limits, options.max_num_sequence,
                        options.max_total_sequence_length, options.prefill_chunk_size);
  if (options.page_size < 1) user_error("page_size must be at least 1, got {}", options.page_size);
  // One sequence more than requests use, for score().
  runner_.create_kv_cache({.max_num_sequence = sizing_.max_num_sequence + 1,
                           .max_total_sequence_length = sizing_.max_total_sequence_length,
                           .page_size = options.page_size});
  score_sequence_ = sizing_.max_num_sequence;
  for (int64_t s = sizing_.max_num_sequence; s-- > 0;) free_sequence_ids_.push_back(s);
  // A sliding window releases pages from a sequence's front, so its prefixes do not stay whole
  // (also where only the sliding layers' group releases them).
  if (options.prefix_cache && runner_.sliding_window_size() <= 0 && !runner_.kv().local())
    prefix_cache_ = std::make_unique<PrefixCache>(runner_.kv());
  if (options.background_thread) thread_ = std::thread([this] { loop(); });
}

Engine::~Engine() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(step_mutex_);
  take_submissions();
  for (auto& r : std::vector<std::shared_ptr<Request>>(running_)) finish(r, "cancelled");
  for (auto& r : std::vector<std::shared_ptr<Request>>(waiting_.begin(), waiting_.end()))
    finish(r, "cancelled");
}

void Engine::check_tokens(const std::vector<int32_t>& tokens, const char* what) const {
  if (tokens.empty()) user_error("the {} is empty", what);
  for (size_t i = 0; i < tokens.size(); ++i)
    if (tokens[i] < 0 || tokens[i] >= vocab_size())
      user_error("{} token {} at position {} is outside the vocabulary [0, {})", what, tokens[i], i,
                 vocab_size());
  if (static_cast<int64_t>(tokens.size()) > context_window_size())
    user_error("the {} has {} tokens but the context window is {}", what, tokens.size(),
               context_window_size());
}

RequestHandle Engine::submit(std::vector<int32_t> prompt, const GenerationConfig& config,
                             StepCallback on_step) {
  check_tokens(prompt, "prompt");
  if (config.max_tokens < 1) user_error("max_tokens must be at least 1");
  if (config.top_logprobs < 0 || config.top_logprobs > 20)
    user_error("top_logprobs must be in [0, 20], got {}", config.top_logprobs);
  validate_sampling(config.sampling);
  if (config.json && config.stop_token_ids.empty())
    user_error("constrained decoding needs a stop token to end the JSON output on");
  for (const auto& [token, bias] : config.logit_bias)
    if (token < 0 || token >= vocab_size() || !std::isfinite(bias))
      user_error("logit_bias: token {} with bias {} (tokens are in [0, {}), biases finite)", token,
                 bias, vocab_size());
  std::shared_ptr<Request> r;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    r = std::make_shared<Request>(next_id_++, std::move(prompt), config, std::move(on_step));
    submitted_.push_back(r);
  }
  wake_.notify_all();
  return RequestHandle(r, this);
}

EngineStats Engine::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

Engine::PageCounts Engine::kv_page_counts() {
  std::lock_guard<std::mutex> lock(step_mutex_);
  const PagedKVCache& kv = runner_.kv();
  PageCounts c{.total = kv.num_pages(), .free = kv.free_pages()};
  c.prefix_cached = prefix_cache_ ? prefix_cache_->cached_pages() : 0;
  c.in_use = pages_held_by_sequences();
  return c;
}

void Engine::loop() {
  for (;;) {
    bool busy;
    {
      std::lock_guard<std::mutex> lock(step_mutex_);
      busy = step_locked();
      update_page_gauges();  // requests that ended in the step are off the gauges at once
    }
    std::unique_lock<std::mutex> lock(mutex_);
    if (stopping_) return;
    if (!busy) wake_.wait(lock, [&] { return stopping_ || !submitted_.empty(); });
    if (stopping_) return;
  }
}

bool Engine::step() {
  if (options_.background_thread) internal_error("step() is for an engine without its thread");
  std::lock_guard<std::mutex> lock(step_mutex_);
  const bool busy = step_locked();
  update_page_gauges();
  return busy;
}

void Engine::take_submissions() {
  std::lock_guard<std::mutex> lock(mutex_);
  while (!submitted_.empty()) {
    waiting_.push_back(std::move(submitted_.front()));
    submitted_.pop_front();
  }
}

void Engine::drop_cancelled() {
  std::vector<std::shared_ptr<Request>> gone;
  for (auto& r : running_)
    if (r->cancel_requested) gone.push_back(r);
  for (auto& r : waiting_)
    if (r->cancel_requested) gone.push_back(r);
  for (auto& r : gone) finish(r, "cancelled");
}

bool Engine::make_free_pages(int64_t pages) {
  PagedKVCache& kv = runner_.kv();
  if (kv.free_pages() < pages && prefix_cache_) {
    const int64_t evicted = prefix_cache_->evict(pages - kv.free_pages());
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.evicted_pages += evicted;
  }
  return kv.free_pages() >= pages;
}

void Engine::admit() {
  PagedKVCache& kv = runner_.kv();
  const int64_t ps = kv.page_size();
  while (!waiting_.empty() && static_cast<int64_t>(running_.size()) < sizing_.max_num_sequence) {
    std::shared_ptr<Request> r = waiting_.front();
    const int64_t length = static_cast<int64_t>(r->tokens.size());
    int64_t total = length;
    for (const auto& other : running_) total += static_cast<int64_t>(other->tokens.size());
    if (!running_.empty() && total > sizing_.max_total_sequence_length) return;
    // At least the last token runs again, for the logits the next token is drawn from.
    std::vector<int32_t> prefix;
    if (prefix_cache_) prefix = prefix_cache_->match(r->tokens, (length - 1) / ps);
    const int64_t seq = free_sequence_ids_.back();
    kv.add_sequence_with_prefix(seq, prefix);
    // Pages for the rest of the prompt, and one for the next token of each running request.
    const int64_t need = (length + ps - 1) / ps - static_cast<int64_t>(prefix.size()) +
                         static_cast<int64_t>(running_.size());
    const int64_t available =
        kv.free_pages() + (prefix_cache_ ? prefix_cache_->evictable_pages() : 0);
    if (!running_.empty() && need > available) {
      kv.remove_sequence(seq);
      return;
    }
    free_sequence_ids_.pop_back();
    waiting_.pop_front();
    r->seq = seq;
    r->kv_len = static_cast<int64_t>(prefix.size()) * ps;
    r->cached_pages = static_cast<int64_t>(prefix.size());
    r->admitted = Clock::now();
    r->prefill_target = length;
    if (!r->admitted_before) {
      r->admitted_before = true;
      r->result.prompt_tokens = static_cast<int64_t>(r->prompt_len);
      r->result.cached_tokens = r->kv_len;
      r->result.queue_seconds = seconds_between(r->submitted, r->admitted);
      std::lock_guard<std::mutex> lock(mutex_);
      stats_.prompt_tokens += r->result.prompt_tokens;
      stats_.cached_tokens += r->kv_len;
      if (prefix_cache_) ++(prefix.empty() ? stats_.prefix_misses : stats_.prefix_hits);
    }
    running_.push_back(r);
  }
}

void Engine::release_sequence(Request& r) {
  if (r.seq < 0) return;
  runner_.kv().remove_sequence(r.seq);
  free_sequence_ids_.push_back(r.seq);
  r.seq = -1;
}

void Engine::cache_full_pages(Request& r) {
  if (!prefix_cache_ || r.seq < 0) return;
  const int64_t full = r.kv_len / runner_.kv().page_size();
  if (full <= r.cached_pages) return;
  const std::vector<int32_t>& pages = runner_.kv().sequence_page_ids(r.seq);
  prefix_cache_->insert(r.tokens, std::vector<int32_t>(pages.begin(), pages.begin() + full));
  r.cached_pages = full;
}

void Engine::preempt(const std::shared_ptr<Request>& r) {
  // Its pages stay in the prefix cache while nothing needs them, so the recompute may be short.
  cache_full_pages(*r);
  release_sequence(*r);
  r->kv_len = 0;
  r->cached_pages = 0;
  ++r->result.preemptions;
  running_.erase(std::find(running_.begin(), running_.end(), r));
  waiting_.push_front(r);
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.preemptions;
}

void Engine::detach(const std::shared_ptr<Request>& r) {
  release_sequence(*r);
  running_.erase(std::remove(running_.begin(), running_.end(), r), running_.end());
  waiting_.erase(std::remove(waiting_.begin(), waiting_.end(), r), waiting_.end());
}

void Engine::finish(const std::shared_ptr<Request>& r, const std::string& reason) {
  cache_full_pages(*r);
  detach(r);
  r->result.finish_reason = reason;
  if (!r->result.tokens.empty())
    r->result.decode_seconds = seconds_between(r->first_token, Clock::now());
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++(reason == "cancelled" ? stats_.cancelled : stats_.finished);
  }
  r->done = true;
  r->promise.set_value(std::move(r->result));
}

void Engine::fail(const std::shared_ptr<Request>& r, std::exception_ptr error) {
  detach(r);
  r->done = true;
  r->promise.set_exception(error);
}

bool Engine::sample_next(const std::shared_ptr<Request>& r, const float* row) {
  const int64_t vocab = vocab_size();
  std::vector<float> logits(row, row + vocab), raw;
  if (r->on_step || r->config.logprobs) raw = logits;
  for (const auto& [token, bias] : r->config.logit_bias) logits[token] += bias;
  const std::vector<int32_t>& stops = r->config.stop_token_ids;
  if (r->json) constrain_to_json(*r, logits);
  const int32_t token = r->sampler.sample(logits, r->tokens);
  if (r->json && std::find(stops.begin(), stops.end(), token) == stops.end() &&
      !r->json->feed(r->config.json->trie->bytes(token)))
    internal_error("constrained decoding sampled token {}, which its mask excluded", token);
  if (r->config.logprobs)
    r->result.logprobs.push_back(token_logprob(raw, token, r->config.top_logprobs));
  const int64_t step = static_cast<int64_t>(r->result.tokens.size());
  if (step == 0) {
    r->first_token = Clock::now();
    r->result.ttft_seconds = seconds_between(r->submitted, r->first_token);
    r->result.prefill_seconds = seconds_between(r->admitted, r->first_token);
  }
  r->tokens.push_back(token);
  r->result.tokens.push_back(token);
  std::string reason;
  if (r->on_step && !r->on_step(step, raw, token))
    reason = "stop";
  else if (std::find(stops.begin(), stops.end(), token) != stops.end())
    reason = "stop";
  else if (step + 1 >= r->config.max_tokens)
    reason = "length";
  else if (static_cast<int64_t>(r->tokens.size()) >= context_window_size())
    reason = "context";
  if (reason.empty()) return false;
  finish(r, reason);
  return true;
}

void Engine::constrain_to_json(Request& r, std::vector<float>& logits) const {
  static thread_local std::vector<bool> allowed;
  r.config.json->trie->allowed(*r.json, allowed);
  // The end of sequence only once the value is complete; then the stop tokens are allowed.
  const bool complete = r.json->complete();
  for (int32_t stop : r.config.stop_token_ids)
    if (stop >= 0 && stop < static_cast<int32_t>(allowed.size())) allowed[stop] = complete;
  bool any = false;
  for (size_t i = 0; i < logits.size(); ++i) {  // the model's vocabulary may be padded
    const bool ok = i < allowed.size() && allowed[i];
    if (!ok) logits[i] = -INFINITY;
    any = any || ok;
  }
  if (!any)
    user_error(
        "constrained decoding: no token of the vocabulary continues the JSON output here (the "
        "schema needs a character the tokenizer cannot produce, or the request has no stop "
        "token to end on)");
}

void Engine::update_page_gauges() {
  pages_in_use_ = pages_held_by_sequences();
  running_count_ = static_cast<int64_t>(running_.size());
  waiting_count_ = static_cast<int64_t>(waiting_.size());
  const PagedKVCache* local = runner_.kv().local();
  local_pages_in_use_ = local ? local->num_pages() - local->free_pages() : 0;
}

int64_t Engine::pages_held_by_sequences() const {
  const PagedKVCache& kv = runner_.kv();
  return kv.num_pages() - kv.free_pages() - (prefix_cache_ ? prefix_cache_->evictable_pages() : 0);
}

bool Engine::step_locked() {
  take_submissions();
  drop_cancelled();
  admit();
  if (running_.empty()) return false;

  // The batch: a decode row for every request that has one, then prompt chunks in admission
  // order while the budget lasts.
  std::vector<std::shared_ptr<Request>> batch;
  std::vector<int64_t> lengths;
  int64_t budget = sizing_.prefill_chunk_size;
  for (const auto& r : running_)
    if (r->remaining() == 1 && budget > 0) {
      batch.push_back(r);
      lengths.push_back(1);
      --budget;
    }
  for (const auto& r : running_)
    if (r->remaining() > 1 && budget > 0) {
      const int64_t n = std::min(r->remaining(), budget);
      batch.push_back(r);
      lengths.push_back(n);
      budget -= n;
    }

  // Pages for it: evict from the prefix cache, then preempt the newest requests.
  PagedKVCache& kv = runner_.kv();
  for (;;) {
    std::vector<int64_t> seqs;
    for (const auto& r : batch) seqs.push_back(r->seq);
    if (make_free_pages(kv.pages_needed(seqs, lengths))) break;
    if (running_.size() == 1) {
      fail(running_.front(),
           std::make_exception_ptr(UserError(
               fmt::format("the KV cache ({} pages of {}) cannot hold one request of {} tokens",
                           kv.num_pages(), kv.page_size(), running_.front()->tokens.size()))));
      return true;
    }
    std::shared_ptr<Request> victim = running_.back();
    preempt(victim);
    for (size_t i = 0; i < batch.size(); ++i)
      if (batch[i] == victim) {
        batch.erase(batch.begin() + static_cast<std::ptrdiff_t>(i));
        lengths.erase(lengths.begin() + static_cast<std::ptrdiff_t>(i));
        break;
      }
    if (batch.empty()) return true;
  }

  std::vector<int64_t> seqs;
  std::vector<int32_t> ids;
  for (size_t i = 0; i < batch.size(); ++i) {
    seqs.push_back(batch[i]->seq);
    const auto begin = batch[i]->tokens.begin() + batch[i]->kv_len;
    ids.insert(ids.end(), begin, begin + lengths[i]);
  }
  std::vector<float> logits;
  try {
    logits = runner_.forward_last(seqs, lengths, ids);
  } catch (...) {
    for (const auto& r : batch) fail(r, std::current_exception());
    update_page_gauges();
    return true;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.steps;
    stats_.batched_rows += static_cast<int64_t>(ids.size());
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    Request& r = *batch[i];
    r.result.prefill_tokens +=
        std::max<int64_t>(0, std::min(r.kv_len + lengths[i], r.prefill_target) - r.kv_len);
    r.kv_len += lengths[i];
  }
  update_page_gauges();
  for (size_t i = 0; i < batch.size(); ++i) {
    const std::shared_ptr<Request>& r = batch[i];
    if (r->remaining() == 0) {
      try {
        if (sample_next(r, logits.data() + i * vocab_size())) continue;
      } catch (...) {
        fail(r, std::current_exception());
        continue;
      }
    }
    cache_full_pages(*r);
  }
  return true;
}

std::vector<std::vector<float>> Engine::score(const std::vector<int32_t>& tokens) {
  check_tokens(tokens, "scored text");
  std::lock_guard<std::mutex> lock(step_mutex_);
  PagedKVCache& kv = runner_.kv();
  kv.add_sequence(score_sequence_);
  std::vector<std::vector<float>> rows;
  try {
    const size_t chunk = static_cast<size_t>(runner_.prefill_chunk_size());
    for (size_t begin = 0; begin < tokens.size(); begin += chunk) {
      const size_t end = std::min(tokens.size(), begin + chunk);
      const int64_t n = static_cast<int64_t>(end - begin);
      if (!make_free_pages(kv.pages_needed({score_sequence_}, {n})))
        user_error("the KV cache has no room to score {} tokens beside the running requests",
                   tokens.size());
      std::vector<float> logits = runner_.forward_all(
          score_sequence_, std::vector<int32_t>(tokens.begin() + begin, tokens.begin() + end));
      for (int64_t r = 0; r < n; ++r)
        rows.emplace_back(logits.begin() + r * vocab_size(),
                          logits.begin() + (r + 1) * vocab_size());
    }
  } catch (...) {
    kv.remove_sequence(score_sequence_);
    throw;
  }
  kv.remove_sequence(score_sequence_);
  return rows;
}

}  // namespace llmcc
