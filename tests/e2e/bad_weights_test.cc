// Bad input to convert_weight and generate: each case gets a clear message naming the file or
// value, a non-zero exit, and no crash.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "support/files.h"
#include "support/json.h"
#include "tests/e2e/command.h"

namespace llmcc {
namespace {

namespace fs = std::filesystem;

const fs::path kModel = fs::path(LLMCC_SOURCE_DIR) / "tests/data/models/llama_mha";
const char* kPrompt = "1,17,200,33";

using Result = testing::CommandResult;

Result run(const std::string& args) { return testing::run_llmcc(args); }

// One converted q0f32 model and its library, shared by the cases.
class BadInput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempPath(make_temp_dir("llmcc-bad-input"));
    ASSERT_EQ(
        run("convert_weight " + kModel.string() + " --quantization q0f32 -o " + weights()).status,
        0);
    ASSERT_EQ(
        run("convert_weight " + kModel.string() + " --quantization q0f16 -o " + weights() + "16")
            .status,
        0);
    ASSERT_EQ(run("compile " + kModel.string() + " --quantization q0f32 -o " + lib()).status, 0);
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string weights() { return (dir_->path() / "w32").string(); }
  static std::string lib() { return (dir_->path() / "lib.so").string(); }
  // A private copy of the converted weights to damage.
  fs::path copy_weights(const std::string& name) {
    fs::path to = dir_->path() / name;
    fs::remove_all(to);
    fs::copy(weights(), to, fs::copy_options::recursive);
    return to;
  }
  static void expect_clean_failure(const Result& r, const std::string& message) {
    EXPECT_GT(r.status, 0) << r.output;  // an error exit, not a signal
    EXPECT_NE(r.status, 3) << "reported as an internal error:\n" << r.output;
    EXPECT_NE(r.output.find(message), std::string::npos) << "expected '" << message << "' in:\n"
                                                         << r.output;
  }
  static TempPath* dir_;
};
TempPath* BadInput::dir_ = nullptr;

TEST_F(BadInput, GoodInputWorks) {
  Result r = run("generate " + weights() + " --model-lib " + lib() + " --prompt-ids " + kPrompt +
                 " --max-tokens 4");
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST_F(BadInput, TruncatedShard) {
  fs::path w = copy_weights("truncated");
  fs::resize_file(w / "params_shard_0.bin", fs::file_size(w / "params_shard_0.bin") / 2);
  expect_clean_failure(
      run("generate " + w.string() + " --model-lib " + lib() + " --prompt-ids " + kPrompt),
      "params_shard_0.bin' has");
}

TEST_F(BadInput, Md5Mismatch) {
  fs::path w = copy_weights("corrupt");
  {
    std::fstream f(w / "params_shard_0.bin", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(100);
    char c = 0x5a;
    f.write(&c, 1);
  }
  expect_clean_failure(
      run("generate " + w.string() + " --model-lib " + lib() + " --prompt-ids " + kPrompt),
      "fails its md5 check");
  // The check can be turned off; then the (slightly wrong) weights load and run.
  Result r = run("generate " + w.string() + " --model-lib " + lib() + " --prompt-ids " + kPrompt +
                 " --max-tokens 2 --no-verify-md5");
  EXPECT_EQ(r.status, 0) << r.output;
}

TEST_F(BadInput, WrongShapeInTensorCache) {
  fs::path w = copy_weights("reshaped");
  Json index = read_json_file(w / "tensor-cache.json");
  index["records"][0]["records"][1]["shape"] = {64, 192};
  write_file_atomic(w / "tensor-cache.json", index.dump());
  expect_clean_failure(
      run("generate " + w.string() + " --model-lib " + lib() + " --prompt-ids " + kPrompt),
      "but the model library expects float32 [192, 64]");
}

TEST_F(BadInput, CheckpointDoesNotMatchConfig) {
  TempPath d = make_temp_dir("llmcc-mismatch");
  Json config = read_json_file(kModel / "config.json");
  config["intermediate_size"] = 100;
  write_file_atomic(d.path() / "config.json", config.dump());
  fs::copy_file(kModel / "model.safetensors", d.path() / "model.safetensors");
  Result r = run("convert_weight " + d.path().string() + " --quantization q0f32 -o " +
                 (d.path() / "out").string());
  expect_clean_failure(r, "model.layers.0.mlp.up_proj.weight");
  EXPECT_NE(r.output.find("does not fit"), std::string::npos);
  EXPECT_FALSE(fs::exists(d.path() / "out"));
  // A tied config needs no lm_head, so the checkpoint's lm_head is skipped; an untied config
  // whose checkpoint lacks it is an error naming the tensor.
  config = read_json_file(kModel / "config.json");
  write_file_atomic(d.path() / "config.json", config.dump());
  fs::remove(d.path() / "model.safetensors");
  fs::copy_file(fs::path(LLMCC_SOURCE_DIR) / "tests/data/models/llama_gqa_tied/model.safetensors",
                d.path() / "model.safetensors");
  config["num_key_value_heads"] = 2;
  write_file_atomic(d.path() / "config.json", config.dump());
  expect_clean_failure(run("convert_weight " + d.path().string() + " --quantization q0f32 -o " +
                           (d.path() / "out").string()),
                       "lacks tensor 'lm_head.weight'");
}

TEST_F(BadInput, TruncatedSafetensors) {
  TempPath d = make_temp_dir("llmcc-trunc-st");
  fs::copy_file(kModel / "config.json", d.path() / "config.json");
  fs::copy_file(kModel / "model.safetensors", d.path() / "model.safetensors");
  fs::resize_file(d.path() / "model.safetensors", 5000);
  expect_clean_failure(run("convert_weight " + d.path().string() + " --quantization q0f32 -o " +
                           (d.path() / "out").string()),
                       "model.safetensors");
  EXPECT_FALSE(fs::exists(d.path() / "out"));
}

TEST_F(BadInput, TokenIdOutsideVocabulary) {
  expect_clean_failure(
      run("generate " + weights() + " --model-lib " + lib() + " --prompt-ids 1,2,256"),
      "prompt token 256 at position 2 is outside the vocabulary [0, 256)");
  expect_clean_failure(run("generate " + weights() + " --model-lib " + lib() + " --prompt-ids 1,x"),
                       "'x' is not a token id");
}

TEST_F(BadInput, SamplingSettingsOutOfRange) {
  const std::string gen = "generate " + weights() + " --model-lib " + lib() + " --prompt-ids 1,2 ";
  expect_clean_failure(run(gen + "--min-p 2"), "min_p must be in [0, 1]");
  expect_clean_failure(run(gen + "--top-p 0"), "top_p must be in (0, 1]");
  expect_clean_failure(run(gen + "--top-k -3"), "top_k must be >= 0");
}

TEST_F(BadInput, PromptLongerThanContextWindow) {
  std::string ids = "1";
  for (int i = 0; i < 128; ++i) ids += ",5";  // 129 tokens; the window is 128
  expect_clean_failure(
      run("generate " + weights() + " --model-lib " + lib() + " --prompt-ids " + ids),
      "the prompt has 129 tokens but the context window is 128");
}

TEST_F(BadInput, WeightsOfAnotherQuantization) {
  expect_clean_failure(
      run("generate " + weights() + "16 --model-lib " + lib() + " --prompt-ids " + kPrompt),
      "the weights were converted for q0f16 but the library is q0f32");
}

TEST_F(BadInput, MissingFiles) {
  expect_clean_failure(run("generate " + (dir_->path() / "nothing").string() + " --model-lib " +
                           lib() + " --prompt-ids " + kPrompt),
                       "holds no tensor-cache.json");
  expect_clean_failure(run("generate " + weights() + " --model-lib " + weights() +
                           "/tensor-cache.json --prompt-ids " + kPrompt),
                       "cannot load model library");
}

}  // namespace
}  // namespace llmcc
