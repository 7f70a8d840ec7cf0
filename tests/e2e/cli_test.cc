// The llmcc command line: compile, model_metadata, --debug-dump, and every error case leaving no
// output file behind.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "config/presets.h"
#include "support/files.h"
#include "support/json.h"
#include "tests/e2e/command.h"

namespace llmcc {
namespace {

namespace fs = std::filesystem;

using Result = testing::CommandResult;

Result llmcc(const std::string& args) { return testing::run_llmcc(args); }

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class Cli : public ::testing::Test {
 protected:
  TempPath dir_ = make_temp_dir("llmcc-cli");
  fs::path path(const std::string& name) const { return dir_.path() / name; }
  std::string out(const std::string& name) const { return path(name).string(); }
  // No leftovers: no output and no temporaries beside it.
  void expect_no_output(const std::string& name) {
    EXPECT_FALSE(fs::exists(path(name))) << name;
    for (const auto& e : fs::directory_iterator(dir_.path()))
      EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
  }
};

TEST_F(Cli, CompileDumpsIrAndReportsMemory) {
  Result r = llmcc("compile tiny_llama --quantization q0f32 --device cpu -o " + out("m.so") +
                   " --debug-dump " + out("dump"));
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(fs::exists(path("m.so")));
  for (const char* f : {"debug-input.ir", "debug-phase0-quantize.ir", "debug-phase1-annotate.ir",
                        "debug-phase2-graph.ir", "debug-phase3-lower.ir", "model.cc"})
    EXPECT_TRUE(fs::exists(path("dump") / f)) << f;
  EXPECT_TRUE(contains(read_file(path("dump") / "debug-phase3-lower.ir"), "ws_offset"));
  // select-kernels records each op's kernel for the target.
  EXPECT_TRUE(contains(read_file(path("dump") / "debug-phase3-lower.ir"),
                       R"("kernel":"attention/paged-online-softmax/)"));
  EXPECT_TRUE(contains(r.output, "Total memory usage without KV cache: "));
  EXPECT_TRUE(contains(r.output, "KV cache size: 0.00 MB per token in the context window"));
  EXPECT_TRUE(contains(r.output, "Total memory usage with a 4K KV cache: "));
  EXPECT_TRUE(contains(r.output, "To reduce memory usage, tweak `prefill_chunk_size`"));

  Result md = llmcc("model_metadata " + out("m.so"));
  ASSERT_EQ(md.status, 0) << md.output;
  Json j = Json::parse(md.output);
  EXPECT_EQ(j["quantization"], "q0f32");
  Result mem = llmcc("model_metadata " + out("m.so") + " --memory-only");
  ASSERT_EQ(mem.status, 0);
  EXPECT_TRUE(contains(mem.output, "Total memory usage without KV cache: "));
  EXPECT_FALSE(contains(mem.output, "\"params\""));
}

TEST_F(Cli, OverridesReachTheLibrary) {
  Result r = llmcc("compile tiny_llama --quantization q0f32 -o " + out("m.so") +
                   " --overrides 'context_window_size=64;prefill_chunk_size=100;max_batch_size=4'"
                   " --opt 'cublas_gemm=1'");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "Overriding context_window_size from 128 to 64"));
  EXPECT_TRUE(contains(r.output, "flashinfer disabled"));
  Json j = Json::parse(llmcc("model_metadata " + out("m.so")).output);
  EXPECT_EQ(j["context_window_size"], 64);
  EXPECT_EQ(j["prefill_chunk_size"], 64);  // clamped to the context window
  EXPECT_EQ(j["max_batch_size"], 4);
}

TEST_F(Cli, TensorParallelErrorsFollowMlc) {
  Result ft =
      llmcc("compile tiny_llama --quantization q4f16_ft --overrides tensor_parallel_shards=2 -o " +
            out("a.so"));
  EXPECT_NE(ft.status, 0);
  EXPECT_TRUE(contains(ft.output, "NotImplementedError")) << ft.output;
  expect_no_output("a.so");
  for (const char* q : {"q4f16_0", "q3f16_0", "q4bf16_0"}) {
    Result kn = llmcc(std::string("compile tiny_llama --quantization ") + q +
                      " --overrides tensor_parallel_shards=2 -o " + out("b.so"));
    EXPECT_NE(kn.status, 0);
    EXPECT_TRUE(contains(kn.output,
                         "KN layout (q3f16_0 and q4f16_0) is not supported for tensor parallelism"))
        << kn.output;
    expect_no_output("b.so");
  }
  // Group schemes: the groups of each linear's per-shard input must split evenly over the shards.
  // tiny_llama's down_proj reads 96 / 2 = 48 features per shard: 96 // 32 = 3 groups for 2 shards.
  Result groups =
      llmcc("compile tiny_llama --quantization q4f16_1 --overrides tensor_parallel_shards=2 -o " +
            out("d.so"));
  EXPECT_NE(groups.status, 0);
  EXPECT_TRUE(contains(groups.output, "groups cannot be evenly distributed on 2 GPUs"))
      << groups.output;
  expect_no_output("d.so");
  Result bad_tp =
      llmcc("compile tiny_llama --quantization q0f32 --overrides tensor_parallel_shards=3 -o " +
            out("c.so"));
  EXPECT_NE(bad_tp.status, 0);
  EXPECT_TRUE(contains(bad_tp.output, "tensor_parallel_shards=3 does not divide")) << bad_tp.output;
  expect_no_output("c.so");
}

TEST_F(Cli, BadInputFailsCleanly) {
  Json config = *find_preset("tiny_llama");
  config.erase("num_hidden_layers");
  write_file_atomic(path("config.json"), config.dump());
  struct Case {
    std::string args, message;
  } cases[] = {
      {"compile " + out("config.json") + " --quantization q0f32",
       "missing required field 'num_hidden_layers'"},
      {"compile tiny_llama --quantization q9f9", "unknown quantization 'q9f9'"},
      {"compile tiny_llama --quantization q4f16_autoawq",
       "not implemented in llmcc yet; implemented: q0f16"},
      {"compile tiny_llama --quantization q0f32 --model-type gpt_bigcode",
       "model type 'gpt_bigcode' is not implemented"},
      {"compile tiny_llama --quantization q0f32 --model-type nope", "unknown model type 'nope'"},
      {"compile tiny_llama --quantization q0f32 --device cuda", "target 'cuda' is not implemented"},
      {"compile no_such_preset --quantization q0f32", "neither a config file"},
      {"compile tiny_llama --quantization q0f32 --opt 'flashinfer=yes'", "must be 0 or 1"},
      {"compile tiny_llama --quantization q0f32 --overrides 'window=3'", "unknown key 'window'"},
      {"compile tiny_llama --quantization q0f32 --device 'llvm -mcpu=no-such-cpu'",
       "rejected the CPU options"},
  };
  for (const auto& c : cases) {
    Result r = llmcc(c.args + " -o " + out("x.so"));
    EXPECT_NE(r.status, 0) << c.args;
    EXPECT_TRUE(contains(r.output, c.message)) << c.args << "\n" << r.output;
    EXPECT_FALSE(contains(r.output, "internal error")) << r.output;
    expect_no_output("x.so");
  }
  Result missing_dir = llmcc("compile tiny_llama --quantization q0f32 -o " + out("nowhere/x.so"));
  EXPECT_NE(missing_dir.status, 0);
  EXPECT_TRUE(contains(missing_dir.output, "does not exist")) << missing_dir.output;
  Result no_lib = llmcc("model_metadata " + out("absent.so"));
  EXPECT_NE(no_lib.status, 0);
  EXPECT_TRUE(contains(no_lib.output, "does not exist"));
}

// A library records the CPU features it was compiled for, and one compiled for features this
// machine lacks is refused with a message naming them, never run into a SIGILL. Xeon Phi's
// AVX-512 ER/PF exist on no machine this runs on, so -mcpu=knl is such a library everywhere.
TEST_F(Cli, ALibraryForAnotherCpuIsRefusedByName) {
  const std::string model =
      (fs::path(LLMCC_SOURCE_DIR) / "tests" / "data" / "models" / "llama_mha").string();
  ASSERT_EQ(llmcc("convert_weight " + model + " --quantization q0f32 -o " + out("w")).status, 0);
  Result here = llmcc("compile " + model + " --quantization q0f32 -o " + out("here.so"));
  ASSERT_EQ(here.status, 0) << here.output;
  Result knl = llmcc("compile " + model + " --quantization q0f32 --device 'llvm -mcpu=knl' -o " +
                     out("knl.so"));
  ASSERT_EQ(knl.status, 0) << knl.output;

  Result md = llmcc("model_metadata " + out("knl.so"));  // inspecting works anywhere
  ASSERT_EQ(md.status, 0) << md.output;
  const Json features = Json::parse(md.output)["cpu_features"];
  EXPECT_NE(std::find(features.begin(), features.end(), "avx512er"), features.end()) << features;
  // Without -mcpu, compile targets the portable x86-64-v3 baseline: AVX2, never AVX-512.
  const Json here_md = Json::parse(llmcc("model_metadata " + out("here.so")).output);
  EXPECT_EQ(here_md["target"]["mcpu"], "x86-64-v3");
  EXPECT_TRUE(contains(here.output, "portable x86-64-v3 baseline")) << here.output;
  const Json native = here_md["cpu_features"];
  EXPECT_NE(std::find(native.begin(), native.end(), "avx2"), native.end()) << native;
  EXPECT_EQ(std::find(native.begin(), native.end(), "avx512f"), native.end()) << native;

  Result run = llmcc("generate " + out("w") + " --model-lib " + out("knl.so") +
                     " --prompt-ids 1,2 --max-tokens 1");
  EXPECT_EQ(run.status, 1) << run.output;  // a user error, not a signal
  EXPECT_TRUE(contains(run.output, "lacks: ")) << run.output;
  EXPECT_TRUE(contains(run.output, "avx512er")) << run.output;
  EXPECT_TRUE(contains(run.output, "x86-64-v3")) << run.output;
  Result ok = llmcc("generate " + out("w") + " --model-lib " + out("here.so") +
                    " --prompt-ids 1,2 --max-tokens 1");
  EXPECT_EQ(ok.status, 0) << ok.output;
}

TEST_F(Cli, FailedCompileKeepsThePreviousOutput) {
  write_file_atomic(path("keep.so"), "previous");
  Result r = llmcc("compile tiny_llama --quantization q0f32 --device 'llvm -mcpu=no-such-cpu' -o " +
                   out("keep.so"));
  EXPECT_NE(r.status, 0);
  EXPECT_EQ(read_file(path("keep.so")), "previous");
}

TEST_F(Cli, InterruptedCompileLeavesNothing) {
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execl(LLMCC_BINARY, LLMCC_BINARY, "compile", "tinyllama_1b", "--quantization", "q0f16", "-o",
            out("big.so").c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Let it reach the host compiler, then interrupt it as Ctrl-C would.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  ::kill(pid, SIGINT);
  int status = 0;
  ::waitpid(pid, &status, 0);
  EXPECT_FALSE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  expect_no_output("big.so");
}

}  // namespace
}  // namespace llmcc
