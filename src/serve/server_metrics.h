// The server's metrics in Prometheus' text exposition format (version 0.0.4): counters, gauges
// and histograms with cumulative buckets, each with # HELP and # TYPE. Names follow Prometheus'
// conventions (counters end in _total, durations are in seconds) so that promtool's lint passes.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace llmcc::serve {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  // The lines of `name`'s series (without HELP/TYPE).
  std::string exposition(const std::string& name) const;

 private:
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; the last is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

// Per-request figures the server records when a request ends.
struct RequestRecord {
  std::string finish_reason;  // stop, length, cancelled, error, ...
  int64_t prompt_tokens = 0, cached_tokens = 0, generation_tokens = 0;
  double queue_seconds = 0, ttft_seconds = 0, e2e_seconds = 0;
  double tpot_seconds = -1;  // (end - first token) / (tokens - 1); -1 with fewer than 2 tokens
};

// Gauges read at scrape time.
struct EngineGauges {
  int64_t running = 0, waiting = 0;
  double kv_cache_usage = 0;  // pages held by sequences / all pages
  int64_t prefix_hits = 0, prefix_misses = 0, evicted_pages = 0, preemptions = 0;
};

class ServerMetrics {
 public:
  ServerMetrics();
  void record(const RequestRecord& r);
  void observe_inter_token(double seconds);
  void count_http(int status);  // every response, by status code
  std::string exposition(const EngineGauges& gauges) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, uint64_t> requests_by_reason_;
  std::map<int, uint64_t> http_by_status_;
  uint64_t prompt_tokens_ = 0, cached_tokens_ = 0, generation_tokens_ = 0;
  Histogram ttft_, tpot_, itl_, queue_, e2e_, prompt_len_, generation_len_;
};

}  // namespace llmcc::serve
