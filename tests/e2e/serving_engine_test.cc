// The serving engine on compiled HF-golden models: batched and sequential greedy runs agree token
// for token, whatever steps the requests arrive at; preemption, the prefix cache and seeded
// sampling do not change what a request produces; cancellation leaks no page.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include "compile/memory_report.h"
#include "config/config_source.h"
#include "convert/convert_weight.h"
#include "llmcc/compile.h"
#include "runtime/engine.h"
#include "runtime/model_library.h"
#include "support/error.h"
#include "support/files.h"

namespace llmcc {
namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(LLMCC_SOURCE_DIR) / "tests" / "data";

// A golden checkpoint converted and compiled for 8 sequences a call and 8-token prefill chunks,
// so the goldens' prompts span several chunks. Compiled once per process.
struct CompiledModel {
  CompiledModel() : dir(make_temp_dir("llmcc-serving")) {}
  TempPath dir;
  fs::path weights, lib;
};

const CompiledModel& compiled(const std::string& name, const std::string& quantization) {
  static std::map<std::string, std::unique_ptr<CompiledModel>> models;
  auto& slot = models[name + "/" + quantization];
  if (!slot) {
    auto m = std::make_unique<CompiledModel>();
    m->weights = m->dir.path() / "weights";
    m->lib = m->dir.path() / "lib.so";
    ConfigSource source = load_config_source((kData / "models" / name).string());
    const Quantization& q = Quantization::from_name(quantization);
    const Model& model = Model::from_name(detect_model_type("auto", source));
    ConvertWeightOptions options;
    options.output = m->weights;
    convert_weight(source, q, model, options);
    compile(source.dict, q, model, Target::from_device("cpu"), OptimizationFlags::from_str("O2"),
            nullptr, "auto", m->lib,
            ModelConfigOverride::from_str("max_batch_size=8;prefill_chunk_size=8"));
    slot = std::move(m);
  }
  return *slot;
}

EngineOptions manual(EngineMode mode, int64_t page_size = 4) {
  return {.page_size = page_size, .mode = mode, .background_thread = false};
}

std::vector<int32_t> random_tokens(std::mt19937& rng, size_t n, int32_t vocab) {
  std::uniform_int_distribution<int32_t> pick(0, vocab - 1);
  std::vector<int32_t> out(n);
  for (auto& t : out) t = pick(rng);
  return out;
}

struct Job {
  std::vector<int32_t> prompt;
  GenerationConfig config;
};

GenerationConfig greedy(int64_t max_tokens) {
  GenerationConfig c;
  c.max_tokens = max_tokens;
  c.sampling.temperature = 0;
  return c;
}

// Prompts of mixed lengths (1 to 40 tokens, the chunk is 8) with mixed output lengths; the first
// is the golden's own prompt, for its whole golden continuation.
std::vector<Job> mixed_jobs(const Json& golden, int32_t vocab) {
  std::mt19937 rng(1234);
  std::vector<Job> jobs = {{golden["prompt"].get<std::vector<int32_t>>(),
                            greedy(static_cast<int64_t>(golden["tokens"].size()))}};
  for (size_t len : {1, 5, 8, 9, 17, 23, 30, 40, 3, 13, 26})
    jobs.push_back({random_tokens(rng, len, vocab), greedy(4 + static_cast<int64_t>(len % 11))});
  return jobs;
}

std::vector<GenerationResult> run_sequentially(const CompiledModel& m,
                                               const std::vector<Job>& jobs) {
  EngineOptions o = manual(EngineMode::kInteractive);
  o.prefix_cache = false;
  Engine engine(m.weights, m.lib, o);
  std::vector<GenerationResult> out;
  for (const Job& j : jobs) out.push_back(engine.generate(j.prompt, j.config));
  return out;
}

using Case = std::pair<std::string, std::string>;

class ServingEngine : public ::testing::TestWithParam<Case> {};

TEST_P(ServingEngine, BatchedGreedyEqualsSequentialAndTransformers) {
  const auto& [name, quantization] = GetParam();
  const CompiledModel& m = compiled(name, quantization);
  const Json golden = read_json_file(kData / "goldens" / (name + ".json"));
  Engine engine(m.weights, m.lib, manual(EngineMode::kServer));
  ASSERT_EQ(engine.sizing().max_num_sequence, 8);  // the library's max_batch_size
  const std::vector<Job> jobs = mixed_jobs(golden, static_cast<int32_t>(engine.vocab_size()));
  const std::vector<GenerationResult> expected = run_sequentially(m, jobs);

  // Requests arrive in three waves, between steps, so prefill chunks of new ones ride along with
  // the decode rows of running ones.
  std::vector<RequestHandle> handles;
  for (size_t i = 0; i < jobs.size(); ++i) {
    handles.push_back(engine.submit(jobs[i].prompt, jobs[i].config));
    if (i == 2 || i == 6)
      for (int s = 0; s < 3; ++s) engine.step();
  }
  for (size_t i = 0; i < jobs.size(); ++i) {
    const GenerationResult r = handles[i].get();
    EXPECT_EQ(r.tokens, expected[i].tokens)
        << "request " << i << " of " << jobs[i].prompt.size() << " prompt tokens";
    EXPECT_EQ(r.finish_reason, "length");
  }
  if (quantization == "q0f32")
    EXPECT_EQ(handles[0].get().tokens, golden["tokens"].get<std::vector<int32_t>>());
  const EngineStats stats = engine.stats();
  int64_t total = 0;
  for (const Job& j : jobs) total += static_cast<int64_t>(j.prompt.size()) + j.config.max_tokens;
  std::printf("[serving] %s %s: %zu requests in %lld steps of %.1f rows on average\n", name.c_str(),
              quantization.c_str(), jobs.size(), static_cast<long long>(stats.steps),
              double(stats.batched_rows) / double(stats.steps));
  // Batching happened: far fewer steps than one sequence at a time would need.
  EXPECT_LT(stats.steps, total / 4);
  EXPECT_EQ(engine.kv_page_counts().in_use, 0);
}

INSTANTIATE_TEST_SUITE_P(Goldens, ServingEngine,
                         ::testing::Values(Case{"llama_gqa_tied", "q0f32"},
                                           Case{"qwen2_odd_sizes", "q0f16"},
                                           Case{"qwen3_tied", "q4f16_1"},
                                           // sliding layers in their own window-sized pages
                                           Case{"gemma2_softcap_window", "q0f32"}),
                         [](const auto& info) {
                           return info.param.first + "_" + info.param.second;
                         });

TEST(ServingEngineScheduling, PreemptionRecomputesTheSameTokens) {
  const CompiledModel& m = compiled("llama_gqa_tied", "q0f32");
  std::mt19937 rng(99);
  std::vector<Job> jobs;
  for (size_t len : {14, 9, 17, 12, 15, 11})
    jobs.push_back({random_tokens(rng, len, 256), greedy(24)});
  const std::vector<GenerationResult> expected = run_sequentially(m, jobs);
  // 48 tokens in all (17 pages of 4 with the per-sequence slack): three requests fit at first,
  // then run out of pages as they grow, and the newest is pushed back to the queue.
  EngineOptions o = manual(EngineMode::kServer);
  o.max_num_sequence = 4;
  o.max_total_sequence_length = 48;
  o.prefix_cache = false;  // recompute everything
  Engine engine(m.weights, m.lib, o);
  std::vector<RequestHandle> handles;
  for (const Job& j : jobs) handles.push_back(engine.submit(j.prompt, j.config));
  int64_t preempted = 0;
  for (size_t i = 0; i < jobs.size(); ++i) {
    const GenerationResult r = handles[i].get();
    EXPECT_EQ(r.tokens, expected[i].tokens) << "request " << i;
    preempted += r.preemptions;
  }
  EXPECT_GT(preempted, 0);
  EXPECT_EQ(engine.stats().preemptions, preempted);
  EXPECT_EQ(engine.kv_page_counts().free, engine.kv_page_counts().total);
}

// Greedy tokens and the logits they came from.
struct Traced {
  GenerationResult result;
  std::vector<std::vector<float>> logits;
};

Traced traced(Engine& engine, const std::vector<int32_t>& prompt, int64_t max_tokens) {
  Traced t;
  t.result = engine.generate(prompt, greedy(max_tokens),
                             [&](int64_t, const std::vector<float>& l, int32_t) {
                               t.logits.push_back(l);
                               return true;
                             });
  return t;
}

TEST(ServingEngineScheduling, PrefixCacheHitGivesTheColdRunsTokensAndLogits) {
  const CompiledModel& m = compiled("llama_gqa_tied", "q0f32");
  std::mt19937 rng(7);
  const std::vector<int32_t> shared = random_tokens(rng, 21, 256);
  std::vector<int32_t> a = shared, b = shared;
  for (int32_t t : random_tokens(rng, 5, 256)) a.push_back(t);
  for (int32_t t : random_tokens(rng, 7, 256)) b.push_back(t);

  Engine warm(m.weights, m.lib, manual(EngineMode::kLocal));
  ASSERT_TRUE(warm.prefix_cache_enabled());
  const Traced first = traced(warm, a, 10);
  EXPECT_EQ(first.result.cached_tokens, 0);
  const Traced hit = traced(warm, b, 10);
  EXPECT_EQ(hit.result.cached_tokens, 20);  // five full pages of the shared 21 tokens
  EXPECT_EQ(hit.result.prefill_tokens, static_cast<int64_t>(b.size()) - 20);
  // A second turn: the first request's prompt and reply come back with more after them.
  std::vector<int32_t> turn = a;
  turn.insert(turn.end(), first.result.tokens.begin(), first.result.tokens.end());
  for (int32_t t : random_tokens(rng, 6, 256)) turn.push_back(t);
  const Traced second_turn = traced(warm, turn, 10);
  // Everything but the reply's last token (never fed back) is in the KV cache, in full pages.
  EXPECT_EQ(second_turn.result.cached_tokens,
            static_cast<int64_t>(a.size() + first.result.tokens.size() - 1) / 4 * 4);
  const EngineStats stats = warm.stats();
  EXPECT_EQ(stats.prefix_hits, 2);
  EXPECT_EQ(stats.prefix_misses, 1);

  for (const auto& [prompt, got] : {std::pair{b, &hit}, std::pair{turn, &second_turn}}) {
    Engine cold(m.weights, m.lib, manual(EngineMode::kLocal));
    const Traced ref = traced(cold, prompt, 10);
    EXPECT_EQ(got->result.tokens, ref.result.tokens);
    ASSERT_EQ(got->logits.size(), ref.logits.size());
    double diff = 0;
    for (size_t s = 0; s < ref.logits.size(); ++s)
      for (size_t i = 0; i < ref.logits[s].size(); ++i)
        diff = std::max(diff, double(std::abs(got->logits[s][i] - ref.logits[s][i])));
    // The shared pages hold exactly what a cold run computes, row by row.
    EXPECT_EQ(diff, 0.0);
  }
}

TEST(ServingEngineScheduling, PrefixCacheEvictsUnderPagePressure) {
  const CompiledModel& m = compiled("llama_gqa_tied", "q0f32");
  EngineOptions o = manual(EngineMode::kLocal);
  o.max_total_sequence_length = 64;  // 16 pages of 4, and 5 spare
  Engine engine(m.weights, m.lib, o);
  std::mt19937 rng(3);
  for (int i = 0; i < 6; ++i) engine.generate(random_tokens(rng, 40, 256), greedy(8));
  const Engine::PageCounts pages = engine.kv_page_counts();
  // Six requests of 12 pages each through 21 pages: the oldest prefixes made room.
  EXPECT_GT(engine.stats().evicted_pages, 0);
  EXPECT_EQ(engine.stats().evicted_pages + pages.prefix_cached, 6 * 11);
  EXPECT_EQ(pages.in_use, 0);
  EXPECT_EQ(pages.free + pages.prefix_cached, pages.total);
}

TEST(ServingEngineScheduling, CancellationAtAnyPointFreesEveryPage) {
  const CompiledModel& m = compiled("llama_gqa_tied", "q0f32");
  // The test's thread steps the engine between submissions, a random number of steps each time,
  // so every point of a request's life is reached, and the same points on every run: with the
  // engine's own thread, one cancelled "at once" could finish first on a loaded machine.
  Engine engine(m.weights, m.lib,
                {.page_size = 4,
                 .mode = EngineMode::kServer,
                 .max_total_sequence_length = 256,
                 .background_thread = false});
  std::mt19937 rng(2024);
  const std::vector<int32_t> system = random_tokens(rng, 12, 256);
  std::vector<RequestHandle> handles;
  std::vector<std::atomic<int>> seen(100);
  for (int i = 0; i < 100; ++i) {
    std::vector<int32_t> prompt = i % 3 == 0 ? system : std::vector<int32_t>{};
    for (int32_t t : random_tokens(rng, 1 + rng() % 30, 256)) prompt.push_back(t);
    // Those cancelled at once get 25 tokens or more.
    const int64_t tokens = 1 + static_cast<int64_t>(rng() % 20);
    GenerationConfig c = greedy(i % 4 == 0 ? 24 + tokens : tokens);
    if (i % 5 == 1) c.sampling = {.temperature = 0.9, .seed = static_cast<uint64_t>(i)};
    handles.push_back(engine.submit(prompt, c, [&seen, i](int64_t step, const auto&, int32_t) {
      seen[i] = static_cast<int>(step) + 1;
      return !(i % 7 == 3 && step == 1);  // some stop from their stream
    }));
    if (i % 4 == 0) handles.back().cancel();              // at once, most likely still queued
    if (i % 4 == 2 && i >= 10) handles[i - 10].cancel();  // later, wherever it has got to
    for (int steps = static_cast<int>(rng() % 4); steps > 0; --steps) engine.step();
  }
  int cancelled = 0;
  for (int i = 0; i < 100; ++i) {
    const GenerationResult r = handles[i].get();
    EXPECT_TRUE(r.finish_reason == "cancelled" || r.finish_reason == "length" ||
                r.finish_reason == "stop")
        << r.finish_reason;
    EXPECT_EQ(static_cast<int>(r.tokens.size()), seen[i].load()) << "request " << i;
    cancelled += r.finish_reason == "cancelled";
  }
  EXPECT_GE(cancelled, 25);  // every fourth at least
  EXPECT_EQ(engine.stats().cancelled, cancelled);
  const Engine::PageCounts pages = engine.kv_page_counts();
  EXPECT_EQ(pages.in_use, 0) << "pages leaked";
  EXPECT_EQ(pages.free + pages.prefix_cached, pages.total);
}

// The runtime holds workspace for the functions it calls, not for the largest the library has,
// and the output buffers only of what it computes: batch_verify's logits for a whole chunk only
// while it scores (eval_ppl), never to generate.
TEST(ServingEngineScheduling, WorkspaceIsSizedByTheFunctionsCalled) {
  // A chunk of 128 makes batch_verify's logits (128 rows) outweigh batch_prefill's (8 rows).
  const CompiledModel& m = compiled("llama_gqa_tied", "q0f32");
  TempPath dir = make_temp_dir("llmcc-workspace");
  const fs::path lib = dir.path() / "lib.so";
  ConfigSource source = load_config_source((kData / "models" / "llama_gqa_tied").string());
  compile(source.dict, Quantization::from_name("q0f32"), Model::from_name("llama"),
          Target::from_device("cpu"), OptimizationFlags::from_str("O2"), nullptr, "auto", lib,
          ModelConfigOverride::from_str("max_batch_size=8;prefill_chunk_size=128"));
  ModelLibrary library(lib);
  auto workspace = [&](const char* fn) { return library.get(fn).workspace_bytes; };
  const int64_t generation = std::max(workspace("embed"), workspace("batch_prefill"));
  const int64_t scoring = std::max(generation, workspace("batch_verify"));
  // The report counts the same functions (compile/memory_report.h), outputs included.
  const MemoryEstimate e = estimate_memory(library.metadata());
  const Json& usage = library.metadata().at("memory_usage");
  EXPECT_EQ(e.temp_bytes,
            std::max(usage["embed"].get<double>(), usage["batch_prefill"].get<double>()));
  EXPECT_EQ(e.scoring_temp_bytes, usage["batch_verify"].get<double>());
  EXPECT_GT(e.scoring_temp_bytes, e.temp_bytes);

  Engine engine(m.weights, lib, {.background_thread = false});
  EXPECT_EQ(engine.workspace_bytes(), 0) << "nothing is called yet";
  engine.generate({1, 2, 3, 4, 5}, greedy(4));
  EXPECT_EQ(engine.workspace_bytes(), generation);
  engine.score({1, 2, 3, 4, 5, 6});
  EXPECT_EQ(engine.workspace_bytes(), scoring);
}

TEST(ServingEngineScheduling, SeededSamplingIsReproduciblePerRequest) {
  const CompiledModel& m = compiled("qwen2_gqa_tied", "q0f32");
  std::mt19937 rng(5);
  const std::vector<int32_t> prompt = random_tokens(rng, 10, 256);
  GenerationConfig sampled;
  sampled.max_tokens = 20;
  sampled.sampling = {.temperature = 0.8, .top_p = 0.95, .seed = 42};
  std::vector<int32_t> alone;
  {
    Engine engine(m.weights, m.lib, manual(EngineMode::kInteractive));
    alone = engine.generate(prompt, sampled).tokens;
  }
  Engine engine(m.weights, m.lib, manual(EngineMode::kServer));
  std::vector<RequestHandle> others;
  for (uint64_t s = 0; s < 3; ++s) {
    GenerationConfig c = sampled;
    c.sampling.seed = 100 + s;
    others.push_back(engine.submit(random_tokens(rng, 5 + 7 * s, 256), c));
  }
  engine.step();
  RequestHandle mine = engine.submit(prompt, sampled);
  for (uint64_t s = 3; s < 6; ++s) {
    GenerationConfig c = sampled;
    c.sampling.seed = 100 + s;
    others.push_back(engine.submit(random_tokens(rng, 5 + 7 * s, 256), c));
  }
  EXPECT_EQ(mine.get().tokens, alone);
  GenerationConfig other_seed = sampled;
  other_seed.sampling.seed = 43;
  EXPECT_NE(engine.generate(prompt, other_seed).tokens, alone);
}

TEST(ServingEngineScheduling, ConcurrentCallersOnTheEnginesThread) {
  const CompiledModel& m = compiled("llama_gqa_tied", "q0f32");
  const Json golden = read_json_file(kData / "goldens" / "llama_gqa_tied.json");
  const std::vector<Job> jobs = mixed_jobs(golden, 256);
  const std::vector<GenerationResult> expected = run_sequentially(m, jobs);
  Engine engine(m.weights, m.lib, {.page_size = 4, .mode = EngineMode::kServer});
  std::vector<std::vector<int32_t>> streamed(jobs.size()), got(jobs.size());
  std::vector<std::thread> callers;
  for (size_t t = 0; t < 3; ++t)
    callers.emplace_back([&, t] {
      for (size_t i = t; i < jobs.size(); i += 3)
        got[i] = engine
                     .generate(jobs[i].prompt, jobs[i].config,
                               [&, i](int64_t, const auto&, int32_t token) {
                                 streamed[i].push_back(token);
                                 return true;
                               })
                     .tokens;
    });
  for (auto& c : callers) c.join();
  for (size_t i = 0; i < jobs.size(); ++i) {
    EXPECT_EQ(got[i], expected[i].tokens) << "request " << i;
    EXPECT_EQ(streamed[i], got[i]);
  }
  // A long request cancelled from another thread once it has streamed a token. Its first token
  // holds the engine's thread until the cancel has been sent, so the request cannot finish its
  // 100 tokens first (it did once under ctest -j2, while this thread waited for a core).
  std::atomic<int> tokens{0};
  std::atomic<bool> cancel_sent{false};
  RequestHandle h = engine.submit(jobs[0].prompt, greedy(100), [&](int64_t, const auto&, int32_t) {
    if (tokens++ == 0) {
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
      while (!cancel_sent && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
    }
    return true;
  });
  while (tokens == 0) std::this_thread::yield();
  h.cancel();
  cancel_sent = true;
  const GenerationResult r = h.get();
  EXPECT_EQ(r.finish_reason, "cancelled");
  EXPECT_LT(r.tokens.size(), 100u);
}

TEST(ServingEngineScheduling, LogprobsAreTheLogSoftmaxOfTheLogits) {
  const CompiledModel& m = compiled("llama_gqa_tied", "q0f32");
  Engine engine(m.weights, m.lib, manual(EngineMode::kLocal));
  GenerationConfig c = greedy(5);
  c.logprobs = true;
  c.top_logprobs = 3;
  std::vector<std::vector<float>> logits;
  const GenerationResult r =
      engine.generate({1, 2, 3, 4, 5}, c, [&](int64_t, const auto& l, int32_t) {
        logits.push_back(l);
        return true;
      });
  ASSERT_EQ(r.logprobs.size(), r.tokens.size());
  for (size_t s = 0; s < r.tokens.size(); ++s) {
    double z = 0;
    for (float l : logits[s]) z += std::exp(double(l));
    EXPECT_NEAR(r.logprobs[s].logprob, logits[s][r.tokens[s]] - std::log(z), 1e-4);
    ASSERT_EQ(r.logprobs[s].top.size(), 3u);
    EXPECT_EQ(r.logprobs[s].top[0].first, r.tokens[s]);  // greedy takes the most likely
    EXPECT_GE(r.logprobs[s].top[0].second, r.logprobs[s].top[1].second);
  }
}

TEST(ServingEngineScheduling, RefusesWhatCouldNeverRun) {
  const CompiledModel& m = compiled("llama_gqa_tied", "q0f32");
  EXPECT_THROW(Engine(m.weights, m.lib, {.max_num_sequence = 9}), UserError);
  EXPECT_THROW(Engine(m.weights, m.lib, {.prefill_chunk_size = 9}), UserError);
  Engine engine(m.weights, m.lib, manual(EngineMode::kLocal));
  EXPECT_EQ(engine.sizing().max_num_sequence, 4);
  EXPECT_THROW(engine.submit({}, greedy(1)), UserError);
  EXPECT_THROW(engine.submit({1, 256}, greedy(1)), UserError);
  EXPECT_THROW(engine.submit(std::vector<int32_t>(129, 1), greedy(1)), UserError);
  EXPECT_THROW(engine.submit({1}, greedy(0)), UserError);
  GenerationConfig c = greedy(1);
  c.top_logprobs = 21;
  EXPECT_THROW(engine.submit({1}, c), UserError);
}

}  // namespace
}  // namespace llmcc
