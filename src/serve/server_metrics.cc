#include "serve/server_metrics.h"

#include <fmt/format.h>

#include <algorithm>

namespace llmcc::serve {

namespace {

std::vector<double> latency_buckets() {
  return {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,  0.25, 0.5,
          0.75,  1.0,   2.5,  5.0,  7.5,  10.0, 20.0, 40.0, 80.0};
}

std::vector<double> length_buckets() {
  return {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000, 20000};
}

// Prometheus' float text: integers without a fraction, others in the shortest round-trip form.
std::string number(double v) { return fmt::format("{}", v); }

void header(std::string& out, const std::string& name, const char* type, const char* help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  const size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin();
  ++counts_[i];
  sum_ += value;
  ++count_;
}

std::string Histogram::exposition(const std::string& name) const {
  std::string out;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += fmt::format("{}_bucket{{le=\"{}\"}} {}\n", name, number(bounds_[i]), cumulative);
  }
  out += fmt::format("{}_bucket{{le=\"+Inf\"}} {}\n", name, count_);
  out += fmt::format("{}_sum {}\n{}_count {}\n", name, number(sum_), name, count_);
  return out;
}

ServerMetrics::ServerMetrics()
    : ttft_(latency_buckets()),
      tpot_(latency_buckets()),
      itl_(latency_buckets()),
      queue_(latency_buckets()),
      e2e_(latency_buckets()),
      prompt_len_(length_buckets()),
      generation_len_(length_buckets()) {}

void ServerMetrics::record(const RequestRecord& r) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++requests_by_reason_[r.finish_reason];
  prompt_tokens_ += r.prompt_tokens;
  cached_tokens_ += r.cached_tokens;
  generation_tokens_ += r.generation_tokens;
  prompt_len_.observe(static_cast<double>(r.prompt_tokens));
  generation_len_.observe(static_cast<double>(r.generation_tokens));
  queue_.observe(r.queue_seconds);
  e2e_.observe(r.e2e_seconds);
  if (r.generation_tokens > 0) ttft_.observe(r.ttft_seconds);
  if (r.tpot_seconds >= 0) tpot_.observe(r.tpot_seconds);
}

void ServerMetrics::observe_inter_token(double seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  itl_.observe(seconds);
}

void ServerMetrics::count_http(int status) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++http_by_status_[status];
}

std::string ServerMetrics::exposition(const EngineGauges& g) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  header(out, "llmcc_requests_total", "counter", "Requests that ended, by finish reason.");
  if (requests_by_reason_.empty()) out += "llmcc_requests_total{finish_reason=\"stop\"} 0\n";
  for (const auto& [reason, n] : requests_by_reason_)
    out += fmt::format("llmcc_requests_total{{finish_reason=\"{}\"}} {}\n", reason, n);
  header(out, "llmcc_http_responses_total", "counter", "HTTP responses, by status code.");
  if (http_by_status_.empty()) out += "llmcc_http_responses_total{code=\"200\"} 0\n";
  for (const auto& [status, n] : http_by_status_)
    out += fmt::format("llmcc_http_responses_total{{code=\"{}\"}} {}\n", status, n);
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    header(out, name, "counter", help);
    out += fmt::format("{} {}\n", name, v);
  };
  counter("llmcc_prompt_tokens_total", "Prompt tokens of ended requests.", prompt_tokens_);
  counter("llmcc_prompt_tokens_cached_total", "Prompt tokens served from the prefix cache.",
          cached_tokens_);
  counter("llmcc_generation_tokens_total", "Generated tokens of ended requests.",
          generation_tokens_);
  counter("llmcc_prefix_cache_hits_total", "Admissions that found a cached prefix.",
          static_cast<uint64_t>(g.prefix_hits));
  counter("llmcc_prefix_cache_misses_total", "Admissions that found no cached prefix.",
          static_cast<uint64_t>(g.prefix_misses));
  counter("llmcc_prefix_cache_evicted_pages_total", "KV pages evicted from the prefix cache.",
          static_cast<uint64_t>(g.evicted_pages));
  counter("llmcc_preemptions_total", "Requests preempted for KV pages and later recomputed.",
          static_cast<uint64_t>(g.preemptions));
  auto gauge = [&](const char* name, const char* help, double v) {
    header(out, name, "gauge", help);
    out += fmt::format("{} {}\n", name, number(v));
  };
  gauge("llmcc_num_requests_running", "Requests admitted to the engine.",
        static_cast<double>(g.running));
  gauge("llmcc_num_requests_waiting", "Requests queued, not yet admitted.",
        static_cast<double>(g.waiting));
  gauge("llmcc_kv_cache_usage_ratio", "Fraction of KV pages held by sequences.", g.kv_cache_usage);
  auto histogram = [&](const char* name, const char* help, const Histogram& h) {
    header(out, name, "histogram", help);
    out += h.exposition(name);
  };
  histogram("llmcc_time_to_first_token_seconds", "Submit to first token.", ttft_);
  histogram("llmcc_time_per_output_token_seconds",
            "(End - first token) / (tokens - 1), per request.", tpot_);
  histogram("llmcc_inter_token_latency_seconds", "Time between consecutive streamed tokens.", itl_);
  histogram("llmcc_request_queue_time_seconds", "Submit to admission.", queue_);
  histogram("llmcc_e2e_request_latency_seconds", "Submit to end.", e2e_);
  histogram("llmcc_request_prompt_tokens", "Prompt tokens per request.", prompt_len_);
  histogram("llmcc_request_generation_tokens", "Generated tokens per request.", generation_len_);
  return out;
}

}  // namespace llmcc::serve
