// The runtime API (include/llmcc/runtime.h) as an application embeds it: examples/generate.cc,
// linked with libllmcc_runtime alone, runs a library that `llmcc compile` built and must give
// transformers' greedy tokens and logits. Once natively, and once for aarch64: the library is
// cross-compiled (--device "llvm -mtriple=aarch64-linux-gnu") and run with the aarch64 build of
// the runtime under qemu-aarch64.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "llmcc/runtime.h"
#include "support/files.h"
#include "support/json.h"
#include "tests/e2e/command.h"

namespace llmcc {
namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(LLMCC_SOURCE_DIR) / "tests" / "data";

struct Case {
  std::string model;  // a folder of tests/data/models with its golden
  bool aarch64;
  std::string mattr = "";  // aarch64 extensions, e.g. "+dotprod"
};

std::string name_of(const ::testing::TestParamInfo<Case>& info) {
  return info.param.model + (info.param.aarch64 ? "_aarch64" : "_native") +
         (info.param.mattr.empty() ? "" : "_" + info.param.mattr.substr(1));
}

class EmbeddedRuntime : public ::testing::TestWithParam<Case> {};

TEST_P(EmbeddedRuntime, ExampleMatchesTransformers) {
  const Case& c = GetParam();
  std::string example = LLMCC_EXAMPLE, runner;
  if (c.aarch64) {
    example = LLMCC_AARCH64_EXAMPLE;
    if (example.empty())
      GTEST_SKIP() << "no aarch64 runtime: install g++-aarch64-linux-gnu, qemu-user and "
                      "libssl-dev:arm64 (scripts/install_deps.sh) and reconfigure";
    // qemu-user 7.2 hangs here once a guest thread spins beside another (a 15-line program with
    // one std::thread shows it), so the aarch64 kernels run on the calling thread alone.
    runner = "LLMCC_NUM_THREADS=1 qemu-aarch64 -L /usr/aarch64-linux-gnu ";
  }
  const std::string model = (kData / "models" / c.model).string(), llmcc = LLMCC_BINARY;
  Json golden = read_json_file(kData / "goldens" / (c.model + ".json"));
  TempPath dir = make_temp_dir("llmcc-embedded");
  const std::string out = (dir.path() / "m").string(), lib = out + "/lib.so";
  const std::string device =
      c.aarch64 ? "\"llvm -mtriple=aarch64-linux-gnu" +
                      (c.mattr.empty() ? std::string() : " -mattr=" + c.mattr) + "\""
                : std::string("llvm");
  for (const std::string& step :
       {" gen_config " + model + " --quantization q0f32 --conv-template LM -o " + out,
        " convert_weight " + model + " --quantization q0f32 -o " + out,
        " compile " + out + " --device " + device + " --debug-dump " + out + "/dump -o " + lib}) {
    auto r = testing::run_command(llmcc + step);
    ASSERT_EQ(r.status, 0) << step << "\n" << r.output;
  }
  if (c.aarch64) {
    // The f32 matmuls and attention run NEON, not the portable loops.
    const std::string lowered = read_file(fs::path(out) / "dump" / "debug-phase3-lower.ir");
    EXPECT_NE(lowered.find("linear/f32-accumulate/neon"), std::string::npos);
    EXPECT_NE(lowered.find("attention/paged-online-softmax/neon"), std::string::npos);
    EXPECT_EQ(lowered.find("/portable"), std::string::npos);
    const std::string elf = read_file(lib).substr(0, 20);
    EXPECT_EQ(static_cast<unsigned char>(elf[18]), 183) << "e_machine is not EM_AARCH64";
    // Its metadata reads here from the file, though the library cannot load.
    auto md = testing::run_command(llmcc + " model_metadata " + lib);
    ASSERT_EQ(md.status, 0) << md.output;
    const Json metadata = Json::parse(md.output);
    EXPECT_EQ(metadata["target"]["mtriple"], "aarch64-linux-gnu");
    const Json features = metadata["cpu_features"];
    EXPECT_NE(std::find(features.begin(), features.end(), "asimd"), features.end()) << features;
    const bool dotprod = c.mattr == "+dotprod";
    EXPECT_EQ(std::find(features.begin(), features.end(), "asimddp") != features.end(), dotprod)
        << features;
    // This x86 machine refuses it by name rather than failing in dlopen.
    auto r = testing::run_command(llmcc + " generate " + out + " --model-lib " + lib +
                                  " --prompt-ids 1,2 --max-tokens 1");
    EXPECT_NE(r.status, 0);
    EXPECT_NE(r.output.find("is built for aarch64"), std::string::npos) << r.output;
  }

  std::string prompt;
  for (const Json& t : golden["prompt"]) prompt += (prompt.empty() ? "" : ",") + t.dump();
  const size_t steps = golden["tokens"].size();
  const std::string steps_file = (dir.path() / "steps.json").string();
  auto r = testing::run_command(runner + example + " " + lib + " " + out + " " + prompt + " " +
                                std::to_string(steps) + " " + steps_file);
  ASSERT_EQ(r.status, 0) << r.output;
  Json got = read_json_file(steps_file)["steps"];
  ASSERT_EQ(got.size(), steps);
  double diff = 0, scale = 0;
  for (size_t s = 0; s < steps; ++s) {
    EXPECT_EQ(got[s]["token"], golden["tokens"][s]) << "step " << s;
    const Json& ref = golden["logits"][s];
    ASSERT_EQ(got[s]["logits"].size(), ref.size());
    for (size_t i = 0; i < ref.size(); ++i) {
      diff = std::max(diff, std::abs(got[s]["logits"][i].get<double>() - ref[i].get<double>()));
      scale = std::max(scale, std::abs(ref[i].get<double>()));
    }
  }
  // q0f32's bound in hf_parity_test.cc: 1e-4 of the largest logit.
  EXPECT_LT(diff / scale, 1e-4) << "max |logit - golden| " << diff << " of " << scale;
  if (!c.aarch64) {
    // The API in this process: the logits after the prompt are the golden's first row.
    auto m = Model::load(lib, out);
    const std::vector<float> next =
        m->next_token_logits(golden["prompt"].get<std::vector<int32_t>>());
    const Json& ref = golden["logits"][0];
    ASSERT_EQ(next.size(), ref.size());
    double worst = 0;
    for (size_t i = 0; i < ref.size(); ++i)
      worst = std::max(worst, std::abs(next[i] - ref[i].get<double>()));
    EXPECT_LT(worst / scale, 1e-4) << "next_token_logits off by " << worst;
    EXPECT_EQ(m->vocab_size(), static_cast<int64_t>(ref.size()));
  }
  std::printf(
      "[embedded runtime] %s %s: %zu tokens as transformers, max logit error %.3g of %.3g\n",
      c.model.c_str(), c.aarch64 ? "aarch64 under qemu" : "native", steps, diff, scale);
}

INSTANTIATE_TEST_SUITE_P(Goldens, EmbeddedRuntime,
                         ::testing::Values(Case{"llama_mha", false}, Case{"qwen2_gqa_tied", false},
                                           Case{"llama_mha", true},
                                           Case{"llama_odd_sizes", true, "+dotprod"},
                                           Case{"qwen2_gqa_tied", true},
                                           Case{"qwen2_odd_sizes", true}),
                         name_of);

}  // namespace
}  // namespace llmcc
