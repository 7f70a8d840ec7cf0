#include "tools/llmcc/serving_bench.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <thread>

#include "runtime/engine.h"
#include "support/error.h"
#include "support/json.h"

namespace llmcc::cli {

namespace {

using Clock = std::chrono::steady_clock;

// Nearest-rank percentile of an unsorted list.
double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(v.size())));
  return v[std::clamp<size_t>(rank, 1, v.size()) - 1];
}

Json summary(const std::vector<double>& v) {
  return {{"p50", percentile(v, 50)}, {"p90", percentile(v, 90)}, {"p99", percentile(v, 99)}};
}

struct Level {
  int64_t concurrency = 0, requests = 0, output_tokens = 0;
  double seconds = 0;
  std::vector<double> ttft, tpot, e2e;
  double prefix_hit_rate = 0;
  int64_t preemptions = 0;
};

}  // namespace

int run_serving_bench(const ServingBenchOptions& o) {
  if (o.concurrency.empty()) user_error("--concurrency needs at least one level");
  for (int64_t c : o.concurrency)
    if (c < 1) user_error("--concurrency levels must be >= 1, got {}", c);
  if (o.prompt < 1 || o.decode < 1) user_error("--prompt and --decode must be >= 1");
  if (o.shared_prefix < 0 || o.shared_prefix > o.prompt)
    user_error("--shared-prefix {} must be between 0 and --prompt {}", o.shared_prefix, o.prompt);
  if (o.requests < 0) user_error("--requests must be >= 0 (0: 4 per client)");
  const int64_t most = *std::max_element(o.concurrency.begin(), o.concurrency.end());
  Engine engine(o.model_dir, o.model_lib,
                {.verify_md5 = false,
                 .page_size = o.page_size,
                 .mode = EngineMode::kServer,
                 .max_num_sequence = most});
  if (o.prompt + o.decode > engine.context_window_size())
    user_error("--prompt {} plus --decode {} exceed the context window of {}", o.prompt, o.decode,
               engine.context_window_size());
  std::mt19937_64 rng(o.seed);
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(engine.vocab_size()) - 1);
  std::vector<int32_t> shared(static_cast<size_t>(o.shared_prefix));
  for (auto& t : shared) t = token(rng);
  auto make_prompt = [&] {
    std::vector<int32_t> p = shared;
    while (static_cast<int64_t>(p.size()) < o.prompt) p.push_back(token(rng));
    return p;
  };
  GenerationConfig config;
  config.max_tokens = o.decode;
  config.sampling.temperature = 0;
  engine.generate(make_prompt(), {.max_tokens = 2});  // warm-up: page in weights, start threads

  std::vector<Level> levels;
  for (int64_t n : o.concurrency) {
    Level level;
    level.concurrency = n;
    level.requests = o.requests > 0 ? o.requests : std::max<int64_t>(8, 4 * n);
    std::vector<std::vector<int32_t>> prompts;
    for (int64_t i = 0; i < level.requests; ++i) prompts.push_back(make_prompt());
    std::vector<GenerationResult> results(static_cast<size_t>(level.requests));
    std::vector<double> e2e(static_cast<size_t>(level.requests));
    const EngineStats before = engine.stats();
    std::atomic<int64_t> next{0};
    const auto start = Clock::now();
    std::vector<std::thread> clients;
    for (int64_t c = 0; c < n; ++c)
      clients.emplace_back([&] {
        for (int64_t i; (i = next++) < level.requests;) {
          const auto t0 = Clock::now();
          results[i] = engine.generate(prompts[i], config);
          e2e[i] = std::chrono::duration<double>(Clock::now() - t0).count();
        }
      });
    for (auto& c : clients) c.join();
    level.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    const EngineStats after = engine.stats();
    for (size_t i = 0; i < results.size(); ++i) {
      const GenerationResult& r = results[i];
      level.output_tokens += static_cast<int64_t>(r.tokens.size());
      level.ttft.push_back(r.ttft_seconds);
      if (r.tokens.size() > 1)
        level.tpot.push_back(r.decode_seconds / static_cast<double>(r.tokens.size() - 1));
      level.e2e.push_back(e2e[i]);
    }
    const int64_t prompt_tokens = after.prompt_tokens - before.prompt_tokens;
    level.prefix_hit_rate =
        prompt_tokens > 0
            ? static_cast<double>(after.cached_tokens - before.cached_tokens) / prompt_tokens
            : 0;
    level.preemptions = after.preemptions - before.preemptions;
    levels.push_back(std::move(level));
  }

  if (o.json) {
    Json out = {{"model_lib", o.model_lib},
                {"prompt_tokens", o.prompt},
                {"output_tokens", o.decode},
                {"shared_prefix_tokens", o.shared_prefix},
                {"levels", Json::array()}};
    for (const Level& l : levels)
      out["levels"].push_back({{"concurrency", l.concurrency},
                               {"requests", l.requests},
                               {"seconds", l.seconds},
                               {"output_tok_s", l.output_tokens / l.seconds},
                               {"ttft_s", summary(l.ttft)},
                               {"tpot_s", summary(l.tpot)},
                               {"e2e_s", summary(l.e2e)},
                               {"prefix_hit_rate", l.prefix_hit_rate},
                               {"preemptions", l.preemptions}});
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf(
      "serving: prompt %lld tokens (%lld shared), output %lld tokens, greedy, closed loop\n",
      static_cast<long long>(o.prompt), static_cast<long long>(o.shared_prefix),
      static_cast<long long>(o.decode));
  std::printf("%5s %5s %10s  %-23s %-23s %-23s %6s %5s\n", "conc", "reqs", "out tok/s",
              "TTFT ms p50/p90/p99", "TPOT ms p50/p90/p99", "E2E s p50/p90/p99", "hit", "pre");
  for (const Level& l : levels) {
    auto ms = [](const std::vector<double>& v) {
      char b[64];
      std::snprintf(b, sizeof b, "%.0f/%.0f/%.0f", 1e3 * percentile(v, 50), 1e3 * percentile(v, 90),
                    1e3 * percentile(v, 99));
      return std::string(b);
    };
    char e[64];
    std::snprintf(e, sizeof e, "%.2f/%.2f/%.2f", percentile(l.e2e, 50), percentile(l.e2e, 90),
                  percentile(l.e2e, 99));
    std::printf("%5lld %5lld %10.1f  %-23s %-23s %-23s %5.0f%% %5lld\n",
                static_cast<long long>(l.concurrency), static_cast<long long>(l.requests),
                l.output_tokens / l.seconds, ms(l.ttft).c_str(), ms(l.tpot).c_str(), e,
                100 * l.prefix_hit_rate, static_cast<long long>(l.preemptions));
  }
  return 0;
}

}  // namespace llmcc::cli
