// compile's memory report against what the runtime really holds: the peak RSS of `generate` and
// `bench` on SmolLM2, driven to fill what the report counts (a prompt that nearly fills the
// context window, in full prefill chunks), must match the report's total for their mode within
// 10% plus a fixed allowance for what the report does not model: the llmcc binary and its shared
// libraries (about 10 MB resident), the tokenizer, the per-step logits and the engine's
// bookkeeping.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <random>
#include <regex>

#include "tests/e2e/smollm2_model.h"

namespace llmcc {
namespace {

namespace fs = std::filesystem;

constexpr double kAllowanceMB = 16;

// Runs argv with output to `log`; returns its exit status and peak RSS in MB (wait4's rusage).
std::pair<int, double> run_measured(const std::vector<std::string>& argv, const fs::path& log) {
  const pid_t child = ::fork();
  if (child == 0) {
    const int fd = ::open(log.c_str(), O_CREAT | O_WRONLY | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage usage {};
  ::wait4(child, &status, 0, &usage);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, usage.ru_maxrss / 1024.0};
}

double mb_after(const std::string& text, const std::string& pattern) {
  std::smatch m;
  if (!std::regex_search(text, m, std::regex(pattern))) return -1;
  return std::stod(m[1]);
}

class MemoryEstimate : public testing::SmolLM2Test {};

TEST_F(MemoryEstimate, ReportMatchesThePeakRssOfGenerateAndBench) {
  const fs::path folder = this->model("q4f16_1");
  TempPath dir = make_temp_dir("llmcc-memory");
  const std::string lib = (dir.path() / "lib.so").string(), llmcc = LLMCC_BINARY;
  // A smaller window and chunk than SmolLM2's 8192 keep the test quick; the report follows them.
  auto compiled = testing::run_command(
      llmcc + " compile " + folder.string() +
      " --overrides 'context_window_size=2048;prefill_chunk_size=1024' -o " + lib);
  ASSERT_EQ(compiled.status, 0) << compiled.output;
  const double estimate =
      mb_after(compiled.output, R"(Local and interactive modes \(generate, chat\): ([0-9.]+) MB)");
  ASSERT_GT(estimate, 0) << compiled.output;
  const double bound = 0.10 * estimate + kAllowanceMB;

  // 2000 prompt tokens (two chunks) and 40 generated fill 2040 of the 2048 positions.
  std::mt19937 rng(7);
  std::string ids;
  for (int i = 0; i < 2000; ++i) ids += (i ? "," : "") + std::to_string(100 + rng() % 49000);
  const fs::path log = dir.path() / "generate.log";
  auto [status, generate_mb] = run_measured({llmcc, "generate", folder.string(), "--model-lib", lib,
                                             "--prompt-ids", ids, "--max-tokens", "40"},
                                            log);
  ASSERT_EQ(status, 0) << read_file(log);
  std::printf("[memory] estimate %.1f MB; generate's peak RSS %.1f MB\n", estimate, generate_mb);
  EXPECT_NEAR(generate_mb, estimate, bound);

  auto bench = testing::run_command(llmcc + " bench " + folder.string() + " --model-lib " + lib +
                                    " --prompt 2000 --decode 40 --runs 1 --bandwidth-gbs 20");
  ASSERT_EQ(bench.status, 0) << bench.output;
  const double bench_mb = mb_after(bench.output, R"(peak RSS ([0-9.]+) MB)");
  const double bench_estimate = mb_after(bench.output, R"(estimate for this mode ([0-9.]+) MB)");
  std::printf("[memory] bench's peak RSS %.1f MB, its estimate %.1f MB\n", bench_mb,
              bench_estimate);
  EXPECT_NEAR(bench_estimate, estimate, 0.1);
  EXPECT_NEAR(bench_mb, estimate, bound);
}

}  // namespace
}  // namespace llmcc
