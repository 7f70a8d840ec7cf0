// llmcc bench: prefill and decode speed of a compiled model on converted weights, as the median
// of several runs, with decode measured against the machine's memory-bandwidth roofline; for an
// encoder, the speed of encoding a batch (encoder_bench.h).
#include <emmintrin.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <numeric>
#include <thread>

#include "compile/memory_report.h"
#include "runtime/engine.h"
#include "runtime/model_library.h"
#include "support/error.h"
#include "support/json.h"
#include "support/process_memory.h"
#include "tools/llmcc/commands.h"
#include "tools/llmcc/encoder_bench.h"
#include "tools/llmcc/model_lib_resolver.h"
#include "tools/llmcc/serving_bench.h"

namespace llmcc::cli {

namespace {

namespace fs = std::filesystem;

struct Options {
  std::string model_dir;
  ModelLibOptions lib;
  int64_t prompt = 512, decode = 128, runs = 3, threads = 0, batch = 0;
  double bandwidth_gbs = 0;
  bool json = false;
  // Serving mode.
  std::vector<int64_t> concurrency;
  int64_t requests = 0, shared_prefix = 0, page_size = 16;
  uint64_t seed = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 ? v[v.size() / 2] : 0.5 * (v[v.size() / 2 - 1] + v[v.size() / 2]);
}

// Reads a 1 GiB buffer with `threads` threads and returns GB/s (best of 5), the roofline for a
// decode step that must stream every weight once.
double measure_read_bandwidth(int threads) {
  const size_t n = (size_t{1} << 30) / sizeof(__m128i);
  std::vector<__m128i> data(n, _mm_set1_epi64x(1));
  double best = 0;
  for (int rep = 0; rep < 5; ++rep) {
    std::vector<int64_t> sums(threads);
    auto start = std::chrono::steady_clock::now();
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] {
        // Four independent SSE2 accumulators keep enough loads in flight to saturate memory.
        __m128i s0 = _mm_setzero_si128(), s1 = s0, s2 = s0, s3 = s0;
        for (size_t i = n * t / threads; i + 4 <= n * (t + 1) / threads; i += 4) {
          s0 = _mm_add_epi64(s0, _mm_load_si128(&data[i]));
          s1 = _mm_add_epi64(s1, _mm_load_si128(&data[i + 1]));
          s2 = _mm_add_epi64(s2, _mm_load_si128(&data[i + 2]));
          s3 = _mm_add_epi64(s3, _mm_load_si128(&data[i + 3]));
        }
        __m128i s = _mm_add_epi64(_mm_add_epi64(s0, s1), _mm_add_epi64(s2, s3));
        sums[t] = _mm_cvtsi128_si64(s) + _mm_cvtsi128_si64(_mm_unpackhi_epi64(s, s));
      });
    for (auto& p : pool) p.join();
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (std::accumulate(sums.begin(), sums.end(), int64_t{0}) != static_cast<int64_t>(2 * n))
      internal_error("bandwidth probe miscounted");
    best = std::max(best, (n * sizeof(__m128i)) / secs / 1e9);
  }
  return best;
}

// measure_read_bandwidth in a child process, so that its 1 GiB buffer never counts in this
// process's memory (its peak RSS is the engine's own, as the compile-time report says). Call it
// before any thread starts: the child of a single-threaded process may allocate freely.
double measure_read_bandwidth_apart(int threads) {
  int fds[2];
  if (::pipe(fds) != 0) return measure_read_bandwidth(threads);
  const pid_t child = ::fork();
  if (child < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return measure_read_bandwidth(threads);
  }
  if (child == 0) {
    ::close(fds[0]);
    const double gbs = measure_read_bandwidth(threads);
    const bool ok = ::write(fds[1], &gbs, sizeof gbs) == static_cast<ssize_t>(sizeof gbs);
    ::_exit(ok ? 0 : 1);
  }
  ::close(fds[1]);
  double gbs = 0;
  const bool ok = ::read(fds[0], &gbs, sizeof gbs) == static_cast<ssize_t>(sizeof gbs);
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!ok || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    internal_error("the bandwidth probe's process failed");
  return gbs;
}

double weight_bytes(const fs::path& dir) {
  Json index = read_json_file(dir / "tensor-cache.json");
  double bytes = 0;
  for (const auto& shard : index.at("records")) bytes += shard.at("nbytes").get<double>();
  return bytes;
}

int run(const Options& o) {
  if (o.threads > 0) ::setenv("OMP_NUM_THREADS", std::to_string(o.threads).c_str(), 1);
  const int threads = o.threads > 0
                          ? static_cast<int>(o.threads)
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const std::string lib = resolve_model_lib(o.model_dir, o.lib);
  if (!ModelLibrary(lib).has_kv_cache())
    return run_encoder_bench({.model_dir = o.model_dir,
                              .model_lib = lib,
                              .tokens = o.prompt,
                              .batch = o.batch,
                              .runs = o.runs,
                              .json = o.json});
  if (!o.concurrency.empty())
    return run_serving_bench({.model_dir = o.model_dir,
                              .model_lib = lib,
                              .concurrency = o.concurrency,
                              .requests = o.requests,
                              .prompt = o.prompt,
                              .decode = o.decode,
                              .shared_prefix = o.shared_prefix,
                              .page_size = o.page_size,
                              .seed = o.seed,
                              .json = o.json});
  const double bandwidth =
      o.bandwidth_gbs > 0 ? o.bandwidth_gbs : measure_read_bandwidth_apart(threads);
  // Every run repeats the prompt: without the prefix cache each one is prefilled in full.
  const auto load_start = std::chrono::steady_clock::now();
  Engine engine(o.model_dir, lib, EngineOptions{.verify_md5 = false, .prefix_cache = false});
  const double load_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - load_start).count();
  if (o.prompt < 1 || o.decode < 1 || o.runs < 1)
    user_error("--prompt, --decode and --runs must be >= 1");
  if (o.prompt + o.decode > engine.context_window_size())
    user_error("--prompt {} plus --decode {} exceed the context window of {}", o.prompt, o.decode,
               engine.context_window_size());
  std::vector<int32_t> prompt(o.prompt);
  for (int64_t i = 0; i < o.prompt; ++i)
    prompt[i] = static_cast<int32_t>((i * 7919 + 13) % engine.vocab_size());
  GenerationConfig config;
  config.max_tokens = o.decode;
  config.sampling.temperature = 0;
  engine.generate(prompt, {.max_tokens = 2});  // warm-up: page in weights, start threads
  std::vector<double> prefill, decode;
  for (int64_t r = 0; r < o.runs; ++r) {
    auto result = engine.generate(prompt, config);
    // Tokens actually computed: a prefix-cache hit would otherwise count as prefill speed.
    prefill.push_back(result.prefill_tokens / result.prefill_seconds);
    // The first token comes from the prefill's logits; every later one costs a decode step.
    decode.push_back((result.tokens.size() - 1) / result.decode_seconds);
  }
  const double bytes = weight_bytes(o.model_dir);
  const double roofline = bandwidth * 1e9 / bytes;  // tok/s if decode only streamed the weights
  // What compile reported for this mode (local: one context window of KV), to hold against.
  const double estimated = interactive_mode_bytes(estimate_memory(engine.metadata()));
  Json out = {{"model_lib", lib},
              {"quantization", engine.metadata().value("quantization", "")},
              {"threads", threads},
              {"prompt_tokens", o.prompt},
              {"decode_tokens", o.decode},
              {"runs", o.runs},
              {"prefill_tok_s", median(prefill)},
              {"decode_tok_s", median(decode)},
              {"prefill_tok_s_all", prefill},
              {"decode_tok_s_all", decode},
              {"weight_bytes", bytes},
              {"read_bandwidth_gb_s", bandwidth},
              {"bandwidth_measured", o.bandwidth_gbs <= 0},
              {"decode_roofline_tok_s", roofline},
              {"decode_roofline_fraction", median(decode) / roofline},
              {"load_seconds", load_seconds},
              {"repacked_bytes", engine.weights().repacked_bytes()},
              {"repack_seconds", engine.weights().repack_seconds()},
              {"peak_rss_bytes", peak_rss_bytes()},
              {"estimated_bytes", estimated}};
  if (o.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf(
      "prefill (pp%lld): %.1f tok/s    decode (tg%lld): %.1f tok/s    median of %lld runs, %d "
      "threads\n",
      static_cast<long long>(o.prompt), median(prefill), static_cast<long long>(o.decode),
      median(decode), static_cast<long long>(o.runs), threads);
  std::printf(
      "decode roofline: %.2f GB of weights at %.1f GB/s (%s) = %.1f tok/s; reached %.0f%%\n",
      bytes / 1e9, bandwidth, o.bandwidth_gbs > 0 ? "given" : "measured", roofline,
      100 * median(decode) / roofline);
  std::printf("memory: peak RSS %.1f MB; compile's estimate for this mode %.1f MB\n",
              peak_rss_bytes() / 1048576.0, estimated / 1048576.0);
  std::printf("load: %.2f s, of which %.2f s repacked %.0f MB of weights for the kernels\n",
              load_seconds, engine.weights().repack_seconds(),
              engine.weights().repacked_bytes() / 1e6);
  return 0;
}

}  // namespace

Action add_bench_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("model_dir", o->model_dir, "Folder of converted weights")->required();
  add_model_lib_options(app, o->lib);
  app.add_option("--prompt", o->prompt, "Prompt tokens to prefill (ppN)")->capture_default_str();
  app.add_option("--decode", o->decode, "Tokens to generate (tgN)")->capture_default_str();
  app.add_option("--runs", o->runs, "Runs; the median is reported")->capture_default_str();
  app.add_option("--threads", o->threads, "Threads (default: all cores)");
  app.add_option("--bandwidth-gbs", o->bandwidth_gbs,
                 "Memory read bandwidth for the roofline, GB/s (default: measured)");
  app.add_flag("--json", o->json, "Print the results as JSON");
  app.add_option("--batch", o->batch,
                 "Encoders (BERT): sequences of --prompt tokens per call; default: the library's "
                 "max_batch_size");
  app.add_option("--concurrency", o->concurrency,
                 "Serving benchmark: clients kept in flight, one level or several (e.g. 1,4,16); "
                 "--prompt and --decode set each request's lengths. Needs a library compiled "
                 "with max_batch_size at least the largest level")
      ->delimiter(',');
  app.add_option("--requests", o->requests,
                 "Serving: requests per level (default 4 per client, at least 8)");
  app.add_option("--shared-prefix", o->shared_prefix,
                 "Serving: leading prompt tokens every request shares (a system prompt), for "
                 "the prefix cache")
      ->capture_default_str();
  app.add_option("--page-size", o->page_size, "Serving: KV cache page size")->capture_default_str();
  app.add_option("--seed", o->seed, "Serving: seed of the random prompts")->capture_default_str();
  return [o] { return run(*o); };
}

}  // namespace llmcc::cli
