// The sampler and the runtime's page bookkeeping, without a compiled model.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>

#include "kernels/cpu/int4_tile_layout.h"
#include "runtime/engine_mode.h"
#include "runtime/model_weights.h"
#include "runtime/paged_kv_cache.h"
#include "runtime/prefix_cache.h"
#include "runtime/sampler.h"
#include "support/error.h"
#include "support/files.h"
#include "weights/tensor_cache.h"

namespace llmcc {
namespace {

TEST(Sampler, GreedyAtZeroTemperature) {
  Sampler s({.temperature = 0.0});
  std::vector<float> logits = {0.1f, 2.0f, -1.0f, 1.9f};
  EXPECT_EQ(s.sample(logits, {}), 1);
}

TEST(Sampler, TopKOneAndTinyTopPAreGreedy) {
  for (SamplingParams p : {SamplingParams{.temperature = 1.0, .top_k = 1, .seed = 3},
                           SamplingParams{.temperature = 1.0, .top_p = 1e-6, .seed = 3}}) {
    Sampler s(p);
    for (int i = 0; i < 50; ++i) {
      std::vector<float> logits = {0.1f, 2.0f, -1.0f, 1.9f};
      EXPECT_EQ(s.sample(logits, {}), 1);
    }
  }
}

TEST(Sampler, SeededDrawsAreReproducibleAndFollowSoftmax) {
  const std::vector<float> base = {0.0f, 1.0f, 2.0f, 0.5f};
  std::vector<int32_t> a, b;
  Sampler s1({.temperature = 0.7, .seed = 42}), s2({.temperature = 0.7, .seed = 42});
  std::map<int32_t, int> counts;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    std::vector<float> l1 = base, l2 = base;
    a.push_back(s1.sample(l1, {}));
    b.push_back(s2.sample(l2, {}));
    ++counts[a.back()];
  }
  EXPECT_EQ(a, b);
  double z = 0;
  for (float l : base) z += std::exp(l / 0.7);
  for (int t = 0; t < 4; ++t) {
    double p = std::exp(base[t] / 0.7) / z;
    double sigma = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(counts[t] / double(n), p, 5 * sigma) << t;
  }
}

TEST(Sampler, TopPKeepsTheSmallestPrefixReachingTheMass) {
  // Probabilities at T=1: ~0.64, 0.24, 0.09, 0.03. top_p = 0.8 keeps the first two only.
  Sampler s({.temperature = 1.0, .top_p = 0.8, .seed = 1});
  std::map<int32_t, int> counts;
  for (int i = 0; i < 5000; ++i) {
    std::vector<float> logits = {3.0f, 2.0f, 1.0f, 0.0f};
    ++counts[s.sample(logits, {})];
  }
  EXPECT_EQ(counts[2] + counts[3], 0);
  EXPECT_GT(counts[1], 1000);
}

TEST(Sampler, CandidatesFollowHuggingFacesWarperOrder) {
  // At T=1: p = softmax(3, 2, 1, 0, -1) ~ 0.636, 0.234, 0.086, 0.032, 0.012.
  const std::vector<float> logits = {1.0f, 3.0f, 0.0f, 2.0f, -1.0f};
  auto ids = [](const std::vector<std::pair<int32_t, double>>& c) {
    std::vector<int32_t> out;
    double total = 0;
    for (const auto& [id, p] : c) {
      out.push_back(id);
      total += p;
    }
    EXPECT_NEAR(total, 1.0, 1e-12);
    return out;
  };
  EXPECT_EQ(ids(sampling_candidates(logits, {})), (std::vector<int32_t>{1, 3, 0, 2, 4}));
  EXPECT_EQ(ids(sampling_candidates(logits, {.top_k = 2})), (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(ids(sampling_candidates(logits, {.top_p = 0.95})), (std::vector<int32_t>{1, 3, 0}));
  // min_p 0.1: the floor is 0.0636, so 0.086 stays and 0.032 goes.
  EXPECT_EQ(ids(sampling_candidates(logits, {.min_p = 0.1})), (std::vector<int32_t>{1, 3, 0}));
  // min_p 0.4: floor 0.254 drops 0.234 too; a lone survivor has probability 1.
  auto lone = sampling_candidates(logits, {.min_p = 0.4});
  ASSERT_EQ(lone.size(), 1u);
  EXPECT_EQ(lone[0].first, 1);
  EXPECT_DOUBLE_EQ(lone[0].second, 1.0);
  // Temperature comes first: at T=2 the tokens are 1, 0.61, 0.37, 0.22 times as likely as the
  // best, so min_p 0.4 keeps two and min_p 0.3 three.
  EXPECT_EQ(ids(sampling_candidates(logits, {.temperature = 2.0, .min_p = 0.4})),
            (std::vector<int32_t>{1, 3}));
  EXPECT_EQ(ids(sampling_candidates(logits, {.temperature = 2.0, .min_p = 0.3})),
            (std::vector<int32_t>{1, 3, 0}));
  // Filters compose: top_k 4, then top_p 0.99 of the renormalised four (0.968 after three, so
  // all four), then min_p 0.04 (floor 0.026 < 0.032).
  auto both = sampling_candidates(logits, {.top_p = 0.99, .top_k = 4, .min_p = 0.04});
  EXPECT_EQ(ids(both), (std::vector<int32_t>{1, 3, 0, 2}));
  const double z = std::exp(3.0) + std::exp(2.0) + std::exp(1.0) + std::exp(0.0);
  EXPECT_NEAR(both[0].second, std::exp(3.0) / z, 1e-12);
  EXPECT_NEAR(both[3].second, std::exp(0.0) / z, 1e-12);
}

TEST(Sampler, MinPDrawsOnlyFromTheKeptTokensInProportion) {
  Sampler s({.temperature = 1.0, .min_p = 0.1, .seed = 7});
  std::map<int32_t, int> counts;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    std::vector<float> logits = {1.0f, 3.0f, 0.0f, 2.0f, -1.0f};
    ++counts[s.sample(logits, {})];
  }
  EXPECT_EQ(counts[2] + counts[4], 0);
  const double z = std::exp(3.0) + std::exp(2.0) + std::exp(1.0);
  for (auto [id, logit] : {std::pair{1, 3.0}, {3, 2.0}, {0, 1.0}}) {
    const double p = std::exp(logit) / z, sigma = std::sqrt(p * (1 - p) / n);
    EXPECT_NEAR(counts[id] / double(n), p, 5 * sigma) << id;
  }
}

TEST(Sampler, Penalties) {
  std::vector<float> logits = {2.0f, -2.0f, 1.0f, 1.0f};
  apply_penalties(logits, {0, 1, 1, 3}, {.repetition_penalty = 2.0});
  EXPECT_FLOAT_EQ(logits[0], 1.0f);   // positive: divided
  EXPECT_FLOAT_EQ(logits[1], -4.0f);  // negative: multiplied (once, however often it occurred)
  EXPECT_FLOAT_EQ(logits[2], 1.0f);   // unseen
  EXPECT_FLOAT_EQ(logits[3], 0.5f);
  logits = {2.0f, 2.0f, 2.0f};
  apply_penalties(logits, {0, 0, 0, 1}, {.presence_penalty = 0.5, .frequency_penalty = 0.25});
  EXPECT_FLOAT_EQ(logits[0], 2.0f - 0.5f - 0.75f);
  EXPECT_FLOAT_EQ(logits[1], 2.0f - 0.5f - 0.25f);
  EXPECT_FLOAT_EQ(logits[2], 2.0f);
}

TEST(Sampler, RejectsBadParameters) {
  EXPECT_THROW(Sampler({.temperature = -1}), UserError);
  EXPECT_THROW(Sampler({.top_p = 0}), UserError);
  EXPECT_THROW(Sampler({.top_p = 1.5}), UserError);
  EXPECT_THROW(Sampler({.repetition_penalty = 0}), UserError);
  EXPECT_THROW(Sampler({.top_k = -1}), UserError);
  EXPECT_THROW(Sampler({.min_p = -0.1}), UserError);
  EXPECT_THROW(Sampler({.min_p = 1.5}), UserError);
  EXPECT_THROW(Sampler({.temperature = std::nan("")}), UserError);
}

struct FakeCache {
  llmcc_kv_cache kv{};
  std::vector<std::pair<int64_t, int64_t>> copies;
  FakeCache(int64_t pages, int32_t page_size, int32_t max_batch) {
    kv.num_pages = pages;
    kv.page_size = page_size;
    kv.max_batch_size = max_batch;
  }
  PagedKVCache manager() {
    return PagedKVCache(&kv, [this](int64_t s, int64_t d) { copies.emplace_back(s, d); });
  }
};

TEST(PagedKVCache, AllocatesPagesAndDescribesTheBatch) {
  FakeCache f(6, 4, 2);
  PagedKVCache kv = f.manager();
  kv.add_sequence(7);
  kv.add_sequence(9);
  kv.begin_forward({7, 9}, {5, 2});
  EXPECT_EQ(f.kv.num_seqs, 2);
  EXPECT_EQ(std::vector<int32_t>(f.kv.qo_indptr, f.kv.qo_indptr + 3),
            (std::vector<int32_t>{0, 5, 7}));
  EXPECT_EQ(std::vector<int32_t>(f.kv.prev_lengths, f.kv.prev_lengths + 2),
            (std::vector<int32_t>{0, 0}));
  EXPECT_EQ(std::vector<int32_t>(f.kv.page_indptr, f.kv.page_indptr + 3),
            (std::vector<int32_t>{0, 2, 3}));
  kv.end_forward();
  EXPECT_EQ(kv.sequence_length(7), 5);
  EXPECT_EQ(kv.free_pages(), 3);
  kv.begin_forward({9}, {3});  // 2 + 3 = 5 tokens: a second page
  EXPECT_EQ(f.kv.prev_lengths[0], 2);
  kv.end_forward();
  EXPECT_EQ(kv.free_pages(), 2);
  EXPECT_THROW(kv.add_sequence(11), UserError);  // max_batch_size 2
  EXPECT_THROW(kv.add_sequence(7), UserError);   // exists
  kv.remove_sequence(7);
  EXPECT_EQ(kv.free_pages(), 4);
  EXPECT_THROW(kv.remove_sequence(7), UserError);
  EXPECT_THROW(kv.begin_forward({9}, {100}), UserError);  // more than the pages left
}

// Gemma 2/3: the sliding layers' own group (kv->local) follows every sequence operation but keeps
// only the window's pages, while the full layers' group keeps everything.
TEST(PagedKVCache, LocalGroupKeepsOnlyTheWindow) {
  FakeCache full(16, 4, 2), local(6, 4, 2);
  full.kv.local = &local.kv;
  PagedKVCache kv(
      &full.kv, [&](int64_t s, int64_t d) { full.copies.emplace_back(s, d); },
      [&](int64_t s, int64_t d) { local.copies.emplace_back(s, d); }, /*local_window=*/5);
  ASSERT_NE(kv.local(), nullptr);
  kv.add_sequence(0);
  kv.begin_forward({0}, {10});  // 3 pages in each group
  EXPECT_EQ(local.kv.num_seqs, 1);
  EXPECT_EQ(local.kv.page_indptr[1], 3);
  kv.end_forward();
  // The next query (position 10) sees positions 6..10: the local group drops page 0.
  EXPECT_EQ(kv.sequence_pages(0), 3);
  EXPECT_EQ(kv.local()->sequence_pages(0), 2);
  EXPECT_EQ(kv.local()->sequence_first_page(0), 1);
  for (int i = 0; i < 10; ++i) {
    kv.begin_forward({0}, {1});
    EXPECT_EQ(local.kv.first_pages[0], kv.local()->sequence_first_page(0));
    kv.end_forward();
  }
  EXPECT_EQ(kv.sequence_pages(0), 5);  // 20 tokens
  EXPECT_LE(kv.local()->sequence_pages(0), 3);
  // A fork copies the partly filled page in both groups; removing frees both.
  kv.begin_forward({0}, {2});
  kv.end_forward();
  kv.fork_sequence(0, 1);
  EXPECT_EQ(full.copies.size(), 1u);
  EXPECT_EQ(local.copies.size(), 1u);
  // Truncating back past what the window kept empties the sequence in both groups.
  EXPECT_EQ(kv.truncate_sequence(1, 4), 0);
  EXPECT_EQ(kv.sequence_length(1), 0);
  EXPECT_EQ(kv.local()->sequence_length(1), 0);
  kv.remove_sequence(0);
  kv.remove_sequence(1);
  EXPECT_EQ(kv.free_pages(), 16);
  EXPECT_EQ(kv.local()->free_pages(), 6);
  EXPECT_THROW(kv.add_sequence_with_prefix(2, {0}), InternalError);
}

TEST(PagedKVCache, TruncateFreesPagesPastTheNewLength) {
  FakeCache f(8, 4, 2);
  PagedKVCache kv = f.manager();
  kv.add_sequence(0);
  kv.begin_forward({0}, {10});  // 3 pages
  kv.end_forward();
  EXPECT_EQ(kv.free_pages(), 5);
  kv.truncate_sequence(0, 5);  // 2 pages
  EXPECT_EQ(kv.sequence_length(0), 5);
  EXPECT_EQ(kv.free_pages(), 6);
  kv.begin_forward({0}, {1});
  EXPECT_EQ(f.kv.prev_lengths[0], 5);
  kv.end_forward();
  kv.truncate_sequence(0, 0);
  EXPECT_EQ(kv.free_pages(), 8);
  EXPECT_THROW(kv.truncate_sequence(0, 3), InternalError);
}

// A parent truncated back into a page that its fork still shares must not write into that page:
// it gets its own copy first (copy-on-write), and the child's page stays as it was.
TEST(PagedKVCache, WritingIntoASharedPageCopiesItFirst) {
  FakeCache f(8, 4, 3);
  PagedKVCache kv = f.manager();
  kv.add_sequence(0);
  kv.begin_forward({0}, {8});  // two full pages
  const std::vector<int32_t> pages(f.kv.page_indices, f.kv.page_indices + 2);
  kv.end_forward();
  kv.fork_sequence(0, 1);  // shares both full pages, copies nothing
  EXPECT_TRUE(f.copies.empty());
  kv.truncate_sequence(0, 6);  // the parent keeps 2 tokens of the second, still shared, page
  kv.begin_forward({0}, {1});  // writes slot 2 of that page
  const int32_t written = f.kv.page_indices[1];
  kv.end_forward();
  EXPECT_NE(written, pages[1]) << "the parent wrote into the page its child holds";
  ASSERT_EQ(f.copies.size(), 1u);
  EXPECT_EQ(f.copies[0].first, pages[1]);
  EXPECT_EQ(f.copies[0].second, written);
  kv.begin_forward({1}, {1});  // the child still reads its own, untouched pages
  EXPECT_EQ(std::vector<int32_t>(f.kv.page_indices, f.kv.page_indices + 2), pages);
  kv.end_forward();
  kv.remove_sequence(0);
  kv.remove_sequence(1);
  EXPECT_EQ(kv.free_pages(), 8);
}

TEST(PagedKVCache, ForkSharesFullPagesAndCopiesThePartialOne) {
  FakeCache f(8, 4, 3);
  PagedKVCache kv = f.manager();
  kv.add_sequence(0);
  kv.begin_forward({0}, {6});  // pages: one full, one with 2 of 4 slots
  std::vector<int32_t> parent_pages(f.kv.page_indices, f.kv.page_indices + 2);
  kv.end_forward();
  kv.fork_sequence(0, 1);
  EXPECT_EQ(kv.sequence_length(1), 6);
  ASSERT_EQ(f.copies.size(), 1u);
  EXPECT_EQ(f.copies[0].first, parent_pages[1]);
  kv.begin_forward({1}, {1});
  EXPECT_EQ(f.kv.page_indices[0], parent_pages[0]);  // shared
  EXPECT_NE(f.kv.page_indices[1], parent_pages[1]);  // its own copy
  EXPECT_EQ(f.kv.page_indices[1], f.copies[0].second);
  kv.end_forward();
  int64_t free_before = kv.free_pages();
  kv.remove_sequence(0);  // the shared page stays with the child
  EXPECT_EQ(kv.free_pages(), free_before + 1);
  kv.remove_sequence(1);
  EXPECT_EQ(kv.free_pages(), 8);
  // Forking at a page boundary copies nothing.
  kv.add_sequence(2);
  kv.begin_forward({2}, {8});
  kv.end_forward();
  kv.fork_sequence(2, 3);
  EXPECT_EQ(f.copies.size(), 1u);
}

TEST(PrefixCache, SharesFullPagesAndEvictsTheLeastRecentlyUsedLeafFirst) {
  FakeCache f(12, 4, 4);
  PagedKVCache kv = f.manager();
  PrefixCache cache(kv);
  const std::vector<int32_t> a = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};  // two full pages and a bit
  kv.add_sequence(0);
  kv.begin_forward({0}, {10});
  kv.end_forward();
  const std::vector<int32_t> pages_a = kv.sequence_page_ids(0);
  cache.insert(a, {pages_a[0], pages_a[1]});
  EXPECT_EQ(cache.cached_pages(), 2);
  EXPECT_EQ(cache.evictable_pages(), 0);  // the sequence still holds them
  kv.remove_sequence(0);
  EXPECT_EQ(kv.free_pages(), 12 - 2);  // the cache keeps the full pages, the partial one is free
  EXPECT_EQ(cache.evictable_pages(), 2);

  // A prompt sharing the first page only: one page matches; at most `max_pages` are given.
  std::vector<int32_t> b = {1, 2, 3, 4, 9, 9, 9, 9, 9};
  EXPECT_EQ(cache.match(b, 8), std::vector<int32_t>{pages_a[0]});
  EXPECT_EQ(cache.match(a, 1), std::vector<int32_t>{pages_a[0]});
  EXPECT_TRUE(cache.match({4, 3, 2, 1, 0}, 8).empty());
  EXPECT_TRUE(cache.match({1, 2, 3}, 8).empty());  // not a full page
  kv.add_sequence_with_prefix(1, cache.match(b, 8));
  EXPECT_EQ(kv.sequence_length(1), 4);
  EXPECT_EQ(kv.page_refs(pages_a[0]), 2);
  kv.begin_forward({1}, {5});  // appends into a fresh page: nothing is copied
  EXPECT_EQ(f.kv.page_indices[0], pages_a[0]);
  EXPECT_EQ(f.kv.prev_lengths[0], 4);
  kv.end_forward();
  EXPECT_TRUE(f.copies.empty());
  cache.insert(b, {kv.sequence_page_ids(1)[0], kv.sequence_page_ids(1)[1]});
  EXPECT_EQ(cache.cached_pages(), 3);  // a's first page is shared, b adds its second

  // Only a's second page is unheld by a sequence, so it is all that can go.
  EXPECT_EQ(cache.evictable_pages(), 1);
  EXPECT_EQ(cache.evict(5), 1);
  EXPECT_EQ(cache.match(a, 8), std::vector<int32_t>{pages_a[0]});
  kv.remove_sequence(1);
  // Now b's pages are unheld too: its leaf goes before the shared first page.
  EXPECT_EQ(cache.evict(1), 1);
  EXPECT_EQ(cache.match(b, 8), std::vector<int32_t>{pages_a[0]});
  EXPECT_EQ(cache.evict(10), 1);
  EXPECT_EQ(cache.evicted_pages(), 3);
  EXPECT_EQ(kv.free_pages(), 12);
}

TEST(PrefixCache, ReleasesItsPagesWhenDestroyed) {
  FakeCache f(4, 2, 2);
  PagedKVCache kv = f.manager();
  {
    PrefixCache cache(kv);
    kv.add_sequence(0);
    kv.begin_forward({0}, {4});
    kv.end_forward();
    cache.insert({5, 6, 7, 8}, kv.sequence_page_ids(0));
    kv.remove_sequence(0);
    EXPECT_EQ(kv.free_pages(), 2);
  }
  EXPECT_EQ(kv.free_pages(), 4);
}

TEST(PagedKVCache, PagesNeededCountsGrowthAndCopies) {
  FakeCache f(8, 4, 3);
  PagedKVCache kv = f.manager();
  kv.add_sequence(0);
  EXPECT_EQ(kv.pages_needed({0}, {9}), 3);
  kv.begin_forward({0}, {6});
  kv.end_forward();
  EXPECT_EQ(kv.pages_needed({0}, {2}), 0);  // fits in the partial page
  EXPECT_EQ(kv.pages_needed({0}, {3}), 1);
  kv.fork_sequence(0, 1);
  kv.truncate_sequence(0, 2);               // back into the first page, which the child shares
  EXPECT_EQ(kv.pages_needed({0}, {1}), 1);  // the copy
  EXPECT_EQ(kv.pages_needed({0, 1}, {1, 3}), 2);
}

TEST(EngineMode, SizesFollowTheModeAndTheLibrary) {
  const EngineLimits limits{.library_max_batch_size = 32,
                            .context_window_size = 1024,
                            .library_prefill_chunk_size = 256,
                            .kv_bytes_per_token = 1 << 10,
                            .kv_budget_bytes = double(1 << 10) * 5000};
  EngineSizing s = size_engine(EngineMode::kInteractive, limits, 0, 0, 0);
  EXPECT_EQ(s.max_num_sequence, 1);
  EXPECT_EQ(s.max_total_sequence_length, 1024);
  s = size_engine(EngineMode::kLocal, limits, 0, 0, 0);
  EXPECT_EQ(s.max_num_sequence, 4);
  EXPECT_EQ(s.max_total_sequence_length, 1024);
  EXPECT_EQ(s.prefill_chunk_size, 256);
  s = size_engine(EngineMode::kServer, limits, 0, 0, 0);
  EXPECT_EQ(s.max_num_sequence, 32);
  EXPECT_EQ(s.max_total_sequence_length, 5000);  // what the budget holds
  s = size_engine(EngineMode::kServer,
                  {.library_max_batch_size = 2,
                   .context_window_size = 1024,
                   .library_prefill_chunk_size = 256,
                   .kv_bytes_per_token = 1,
                   .kv_budget_bytes = 1e12},
                  0, 0, 0);
  EXPECT_EQ(s.max_total_sequence_length, 2048);  // no more than a window each
  s = size_engine(EngineMode::kLocal, limits, 8, 4096, 64);
  EXPECT_EQ(s.max_num_sequence, 8);
  EXPECT_EQ(s.max_total_sequence_length, 4096);
  EXPECT_EQ(s.prefill_chunk_size, 64);
  EXPECT_THROW(size_engine(EngineMode::kLocal, limits, 33, 0, 0), UserError);
  EXPECT_THROW(size_engine(EngineMode::kLocal, limits, 0, 0, 512), UserError);
  EXPECT_THROW(size_engine(EngineMode::kServer, limits, 0, 0, 16), UserError);
  EXPECT_EQ(engine_mode_from_name("server"), EngineMode::kServer);
  EXPECT_THROW(engine_mode_from_name("batch"), UserError);
}

// A weight folder with one int4 matmul weight (16 rows, 2 groups) and its scales, bound by
// metadata that asks for `layout` with scales `scale`.
struct TiledWeights {
  TempPath dir = make_temp_dir("llmcc-layout-test");
  std::vector<uint32_t> q = std::vector<uint32_t>(16 * 8);
  std::vector<uint16_t> s = std::vector<uint16_t>(16 * 2);
  TiledWeights() {
    for (size_t i = 0; i < q.size(); ++i) q[i] = 0x9e3779b9u * static_cast<uint32_t>(i + 1);
    for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<uint16_t>(0x3c00 + i);
    TensorCacheWriter w(dir.path());
    w.add("w.q_weight", {16, 8}, "uint32", q.data(), q.size() * 4);
    w.add("w.q_scale", {16, 2}, "float16", s.data(), s.size() * 2);
    w.finish(Json::object());
  }
  Json metadata(const std::string& layout, const std::string& scale) const {
    Json weight = {{"name", "w.q_weight"}, {"shape", {16, 8}}, {"dtype", "uint32"}};
    if (!layout.empty()) weight["layout"] = layout;
    if (!scale.empty()) weight["layout_scale"] = scale;
    return {
        {"params", {weight, {{"name", "w.q_scale"}, {"shape", {16, 2}}, {"dtype", "float16"}}}}};
  }
};

TEST(ModelWeights, RepacksTheWeightsTheLibraryAsksFor) {
  TiledWeights t;
  ModelWeights plain(t.dir.path(), t.metadata("", ""), false);
  EXPECT_EQ(plain.repacked_bytes(), 0);
  EXPECT_EQ(std::memcmp(plain.pointers()[0], t.q.data(), t.q.size() * 4), 0);

  for (int64_t columns : {8, 16}) {
    ModelWeights tiled(t.dir.path(),
                       t.metadata(columns == 8 ? "int4-tile8" : "int4-tile16", "w.q_scale"), false);
    const int64_t bytes = cpu_kernels::int4_tile_bytes(16, 2, columns);
    EXPECT_EQ(tiled.repacked_bytes(), bytes);
    std::vector<uint8_t> want(bytes);
    cpu_kernels::pack_int4_tiles(t.q.data(), t.s.data(), 16, 2, columns, want.data());
    EXPECT_EQ(std::memcmp(tiled.pointers()[0], want.data(), bytes), 0) << columns;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(tiled.pointers()[0]) % 64, 0u);
    // The scales stay as they are for the kernels that read them in MLC's layout.
    EXPECT_EQ(std::memcmp(tiled.pointers()[1], t.s.data(), t.s.size() * 2), 0);
  }
}

TEST(ModelWeights, RefusesALayoutItCannotProduce) {
  TiledWeights t;
  auto error = [&](const std::string& layout, const std::string& scale) -> std::string {
    try {
      ModelWeights w(t.dir.path(), t.metadata(layout, scale), false);
    } catch (const UserError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_NE(error("int4-tile32", "w.q_scale").find("layout 'int4-tile32'"), std::string::npos);
  EXPECT_NE(error("int4-tile8", "").find("cannot take layout 'int4-tile8'"), std::string::npos);
  EXPECT_NE(error("int4-tile8", "w.q_weight").find("cannot take layout"), std::string::npos);
}

}  // namespace
}  // namespace llmcc
