// Coherence of sampled replies, not only of the greedy answer. Replies are drawn from SmolLM2 in
// `llmcc chat`'s way (the folder's mlc-chat-config.json defaults, its template and stops), a few
// prompts times fixed seeds, and each is scored by the mean negative log-likelihood per token that
// the q0f32 import of the same GGUF (its weights dequantized exactly) gives it after the prompt.
// Text the model itself finds likely scores low; a reply that drifts into noise scores high.
//
// The shipped default (the demo's q8f16_1 at the GGUF defaults) must score within kBound of the
// q0f32 model's own replies at the same settings and seeds. The bound comes from measurement
// (DISABLED_Table below; docs/quantization.md): over four disjoint seed sets the set means of
// q0f32's own replies span 0.897-0.973 and those of q8f16_1 0.855-1.007, and on the same seeds
// q8f16_1 - q0f32 was -0.051, -0.042, +0.057 and +0.001. kBound is 0.2 nats, three and a half
// times the widest of those gaps, so a change of kernel path or CPU does not trip it, while
// q4f16_1 at the same defaults (+0.68) does. The second test shows the bound failing where issue
// 21 saw noise: q4f16_1 at MLC's fallback settings (temperature 1, top_p 1) scores +1.86 above
// q0f32 at those settings.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_config.h"
#include "chat/chat_session.h"
#include "runtime/quality.h"
#include "tests/e2e/smollm2_model.h"

namespace llmcc {
namespace {

namespace fs = std::filesystem;

constexpr double kBound = 0.2;  // nats per token, on the mean of the replies' scores
constexpr int64_t kReplyTokens = 64;
const char* const kPrompts[] = {
    "Give me three tips for learning C++.",
    "Why is the sky blue?",
    "What are the benefits of regular exercise?",
    "Write a short story about a lighthouse keeper.",
};
const std::vector<uint64_t> kSeeds = {1, 2, 3, 4, 5};

struct Reply {
  std::string prompt, text;
  uint64_t seed = 0;
  std::vector<int32_t> prompt_ids, reply_ids;
  double nll = 0;  // mean per reply token, under q0f32
};

// Replies of the model in `dir` at its chat defaults, optionally with other sampling settings.
std::vector<Reply> sample_replies(const std::string& dir,
                                  const std::optional<SamplingParams>& settings = std::nullopt,
                                  const std::vector<uint64_t>& seeds = kSeeds) {
  ChatConfig config = ChatConfig::load(dir);
  auto tokenizer = Tokenizer::from_dir(dir);
  Engine engine(dir, fs::path(dir) / "lib.so");
  std::vector<Reply> replies;
  for (const char* prompt : kPrompts)
    for (uint64_t seed : seeds) {
      SamplingParams sampling = settings.value_or(config.sampling);
      sampling.seed = seed;
      ChatSession session(engine, *tokenizer, config.conversation, sampling, kReplyTokens,
                          config.eos_token_ids);
      Reply r;
      r.prompt = prompt;
      r.seed = seed;
      r.text = session.chat(prompt, [](const std::string&) {});
      r.prompt_ids = session.last_prompt_tokens();
      r.reply_ids = session.last_reply_tokens();
      session.reset();
      replies.push_back(std::move(r));
    }
  return replies;
}

// Scores each reply under `judge`; returns the mean over the replies that have tokens.
double score(Engine& judge, std::vector<Reply>& replies, const std::string& label,
             bool show_replies = true) {
  double total = 0;
  int scored = 0;
  for (Reply& r : replies) {
    if (r.reply_ids.empty()) continue;
    std::vector<int32_t> all = r.prompt_ids;
    all.insert(all.end(), r.reply_ids.begin(), r.reply_ids.end());
    auto rows = judge.score(all);
    double nll = 0;
    for (size_t t = 0; t < r.reply_ids.size(); ++t)
      nll -= log_softmax(rows[r.prompt_ids.size() - 1 + t])[r.reply_ids[t]];
    r.nll = nll / r.reply_ids.size();
    total += r.nll;
    ++scored;
  }
  EXPECT_GE(scored, static_cast<int>(replies.size() * 3 / 4))
      << label << ": too many empty replies";
  const double mean = scored ? total / scored : 0;
  std::printf("[coherence] %s: mean NLL %.3f nats/token over %d replies\n", label.c_str(), mean,
              scored);
  for (const Reply& r : replies) {
    if (!show_replies) break;
    std::string shown = r.text.substr(0, 90);
    for (char& c : shown)
      if (c == '\n') c = ' ';
    std::printf("  %.2f  seed %llu  %-45.45s | %s\n", r.nll,
                static_cast<unsigned long long>(r.seed), r.prompt.c_str(), shown.c_str());
  }
  return mean;
}

// No reply may show the text of a special token (the fault issue 21 saw: `<|im_start|>user`).
void expect_no_special_token_text(const std::vector<Reply>& replies, const Tokenizer& tokenizer) {
  std::vector<std::string> specials;
  for (int32_t id = 0; id < tokenizer.vocab_size(); ++id)
    if (tokenizer.is_special(id)) specials.push_back(tokenizer.id_to_token(id));
  ASSERT_FALSE(specials.empty());
  for (const Reply& r : replies)
    for (const std::string& s : specials)
      EXPECT_EQ(r.text.find(s), std::string::npos) << "seed " << r.seed << ": " << r.text;
}

class Coherence : public testing::SmolLM2Test {
 protected:
  void SetUp() override {
    testing::SmolLM2Test::SetUp();
    if (IsSkipped()) return;
    judge_dir_ = model("q0f32");
    judge_ = std::make_unique<Engine>(judge_dir_, fs::path(judge_dir_) / "lib.so");
  }

  std::string judge_dir_;
  std::unique_ptr<Engine> judge_;
};

TEST_F(Coherence, ShippedDefaultScoresLikeTheUnquantizedModel) {
  const std::string shipped = model("q8f16_1");  // scripts/demo.sh's scheme
  const SamplingParams defaults = ChatConfig::load(shipped).sampling;
  EXPECT_GT(defaults.temperature, 0.0) << "the test is about sampled replies";
  auto base = sample_replies(judge_dir_);
  auto replies = sample_replies(shipped);
  const double base_nll = score(*judge_, base, "q0f32 at the defaults");
  const double nll = score(*judge_, replies, "q8f16_1 at the defaults (shipped)");
  EXPECT_LE(nll - base_nll, kBound);
  auto tokenizer = Tokenizer::from_dir(shipped);
  expect_no_special_token_text(base, *tokenizer);
  expect_no_special_token_text(replies, *tokenizer);

  // `llmcc chat` itself, with no flags, says what this test sampled (its default seed is 0).
  auto ours = sample_replies(shipped, std::nullopt, {0});
  auto cli = testing::run_command("printf '/set max_tokens=" + std::to_string(kReplyTokens) +
                                  "\\n" + kPrompts[0] + "\\n' | " + LLMCC_BINARY + " chat " +
                                  shipped + " --model-lib " + shipped + "/lib.so");
  ASSERT_EQ(cli.status, 0) << cli.output;
  ASSERT_FALSE(ours[0].text.empty());
  EXPECT_NE(cli.output.find(ours[0].text), std::string::npos)
      << "chat printed:\n"
      << cli.output << "\nthe test sampled:\n"
      << ours[0].text;
}

TEST_F(Coherence, BoundCatchesDoubleRoundedQ4AtTemperatureOne) {
  // Two seeds are enough here: the gap measured on five was nine times the bound.
  const SamplingParams mlc_fallback{.temperature = 1.0, .top_p = 1.0};
  auto base = sample_replies(judge_dir_, mlc_fallback, {1, 2});
  auto replies = sample_replies(model("q4f16_1"), mlc_fallback, {1, 2});
  const double base_nll = score(*judge_, base, "q0f32 at temperature 1");
  const double nll = score(*judge_, replies, "q4f16_1 at temperature 1");
  EXPECT_GT(nll - base_nll, kBound) << "the coherence bound no longer tells noise from text";
  expect_no_special_token_text(replies, *Tokenizer::from_dir(judge_dir_));
}

// The table in docs/quantization.md, and the measurements behind kBound; run by hand:
//   build/tests/llmcc_compile_tests --gtest_also_run_disabled_tests
//       --gtest_filter=Coherence.DISABLED_Table
TEST_F(Coherence, DISABLED_Table) {
  const SamplingParams mlc_fallback{.temperature = 1.0, .top_p = 1.0};
  const std::vector<std::vector<uint64_t>> seed_sets = {
      {1, 2, 3, 4, 5}, {6, 7, 8, 9, 10}, {11, 12, 13, 14, 15}, {16, 17, 18, 19, 20}};
  std::printf("| scheme | settings | seeds | mean NLL under q0f32 |\n|---|---|---|---|\n");
  auto row = [&](const std::string& q, const std::optional<SamplingParams>& settings,
                 const std::vector<uint64_t>& seeds) {
    auto replies = sample_replies(model(q), settings, seeds);
    const std::string which = settings ? "temperature 1, top_p 1" : "defaults";
    const double nll = score(*judge_, replies, q + " " + which, /*show_replies=*/false);
    std::printf("| %s | %s | %llu-%llu | %.3f |\n", q.c_str(), which.c_str(),
                static_cast<unsigned long long>(seeds.front()),
                static_cast<unsigned long long>(seeds.back()), nll);
    std::fflush(stdout);
  };
  for (const char* q : {"q0f32", "q8f16_1"})
    for (const auto& seeds : seed_sets) row(q, std::nullopt, seeds);
  for (const char* q : {"q4f16_1", "q4f32_1", "q3f16_1"}) row(q, std::nullopt, seed_sets[0]);
  for (const char* q : {"q0f32", "q8f16_1", "q4f16_1"}) row(q, mlc_fallback, seed_sets[0]);
}

}  // namespace
}  // namespace llmcc
