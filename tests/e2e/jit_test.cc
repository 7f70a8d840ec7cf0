// Compiling on demand: cache policies, hash sensitivity, concurrent first use, and recovery from a
// corrupt cache entry. Each test gets its own cache folder through LLMCC_HOME.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "support/files.h"
#include "support/json.h"
#include "tests/e2e/command.h"

namespace llmcc {
namespace {

namespace fs = std::filesystem;
const fs::path kData = fs::path(LLMCC_SOURCE_DIR) / "tests/data";

using Result = testing::CommandResult;
using testing::run_command;

Result sh(const std::string& cmd) { return run_command(cmd); }

bool contains(const std::string& s, const std::string& what) {
  return s.find(what) != std::string::npos;
}

class Jit : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    model_ = new TempPath(make_temp_dir("llmcc-jit-model"));
    const std::string src = (kData / "models" / "chat_tiny").string(),
                      out = model_->path().string() + "/m";
    ASSERT_EQ(sh(std::string(LLMCC_BINARY) + " gen_config " + src +
                 " --quantization q0f32 --conv-template chatml -o " + out)
                  .status,
              0);
    ASSERT_EQ(
        sh(std::string(LLMCC_BINARY) + " convert_weight " + src + " --quantization q0f32 -o " + out)
            .status,
        0);
  }
  static void TearDownTestSuite() { delete model_; }

  // `llmcc generate` with no --model-lib, under this test's cache and a policy.
  Result generate(const std::string& policy = "ON", const std::string& extra = "") {
    return sh("LLMCC_HOME=" + home_.path().string() + " LLMCC_JIT_POLICY=" + policy + " " +
              LLMCC_BINARY + " generate " + model_->path().string() +
              "/m --prompt-ids 1,2,3 --max-tokens 2 " + extra);
  }
  std::vector<fs::path> libraries() const {
    std::vector<fs::path> out;
    if (!fs::exists(home_.path() / "model_lib")) return out;
    for (const auto& e : fs::directory_iterator(home_.path() / "model_lib"))
      if (e.path().extension() == ".so") out.push_back(e.path());
    return out;
  }

  static TempPath* model_;
  TempPath home_ = make_temp_dir("llmcc-jit-home");
};
TempPath* Jit::model_ = nullptr;

TEST_F(Jit, MissThenHit) {
  Result first = generate();
  ASSERT_EQ(first.status, 0) << first.output;
  EXPECT_TRUE(contains(first.output, "JIT: cache miss")) << first.output;
  EXPECT_TRUE(contains(first.output, "JIT: compiled in")) << first.output;
  ASSERT_EQ(libraries().size(), 1u);
  Result second = generate();
  ASSERT_EQ(second.status, 0) << second.output;
  EXPECT_TRUE(contains(second.output, "JIT: cache hit")) << second.output;
  EXPECT_FALSE(contains(second.output, "compiled in")) << second.output;
  EXPECT_EQ(libraries().size(), 1u);
  Result list = sh("LLMCC_HOME=" + home_.path().string() + " " + LLMCC_BINARY + " cache list");
  EXPECT_TRUE(contains(list.output, "llama q0f32")) << list.output;
  EXPECT_TRUE(contains(list.output, "1 entries")) << list.output;
  Result clear = sh("LLMCC_HOME=" + home_.path().string() + " " + LLMCC_BINARY + " cache clear");
  EXPECT_TRUE(contains(clear.output, "removed 1")) << clear.output;
  EXPECT_TRUE(libraries().empty());
}

TEST_F(Jit, Policies) {
  Result off = generate("OFF");
  EXPECT_NE(off.status, 0);
  EXPECT_TRUE(contains(off.output, "pass --model-lib")) << off.output;
  Result readonly_empty = generate("READONLY");
  EXPECT_NE(readonly_empty.status, 0);
  EXPECT_TRUE(contains(readonly_empty.output, "READONLY")) << readonly_empty.output;
  EXPECT_TRUE(libraries().empty());
  ASSERT_EQ(generate("ON").status, 0);
  Result readonly = generate("READONLY");
  EXPECT_EQ(readonly.status, 0) << readonly.output;
  EXPECT_TRUE(contains(readonly.output, "cache hit")) << readonly.output;
  // A deployment machine without a compiler still finds the library (the compiler's identity
  // is in the key, but READONLY compiles nothing); allowed to compile, it would have to build.
  Result no_compiler = sh("CXX=/nonexistent/c++ LLMCC_HOME=" + home_.path().string() +
                          " LLMCC_JIT_POLICY=READONLY " + LLMCC_BINARY + " generate " +
                          model_->path().string() + "/m --prompt-ids 1,2,3 --max-tokens 2");
  EXPECT_EQ(no_compiler.status, 0) << no_compiler.output;
  EXPECT_TRUE(contains(no_compiler.output, "built by another host compiler")) << no_compiler.output;
  Result must_build = sh("CXX=/nonexistent/c++ LLMCC_HOME=" + home_.path().string() +
                         " LLMCC_JIT_POLICY=ON " + LLMCC_BINARY + " generate " +
                         model_->path().string() + "/m --prompt-ids 1,2,3 --max-tokens 2");
  EXPECT_NE(must_build.status, 0);
  EXPECT_TRUE(contains(must_build.output, "no C++ compiler")) << must_build.output;
  auto before = fs::last_write_time(libraries().at(0));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  Result redo = generate("REDO");
  EXPECT_EQ(redo.status, 0) << redo.output;
  EXPECT_TRUE(contains(redo.output, "recompiling")) << redo.output;
  EXPECT_GT(fs::last_write_time(libraries().at(0)), before);
  EXPECT_NE(generate("SOMETIMES").status, 0);
}

TEST_F(Jit, HashFollowsWhatChangesTheLibrary) {
  ASSERT_EQ(generate("ON", "--overrides context_window_size=128").status, 0);
  ASSERT_EQ(libraries().size(), 1u);
  Result same = generate("ON", "--overrides context_window_size=128");
  EXPECT_TRUE(contains(same.output, "cache hit")) << same.output;
  Result other = generate("ON", "--overrides context_window_size=64");
  EXPECT_TRUE(contains(other.output, "cache miss")) << other.output;
  EXPECT_EQ(libraries().size(), 2u);
}

// The key holds a hash of the kernel headers the library compiles against: an edited kernel
// is a miss (a stale library is never reused after an upgrade), the same text a hit, whether it
// comes from LLMCC_KERNEL_SOURCE_DIR or from the copy embedded in llmcc.
TEST_F(Jit, AKernelSourceChangeRecompiles) {
  TempPath kernels = make_temp_dir("llmcc-jit-kernels");
  const fs::path root = LLMCC_SOURCE_DIR;
  fs::create_directories(kernels.path() / "src");
  fs::copy(root / "src" / "kernels", kernels.path() / "src" / "kernels",
           fs::copy_options::recursive);
  fs::create_directories(kernels.path() / "include");
  auto with_dir = [&](const std::string& extra = "") {
    return sh("LLMCC_KERNEL_SOURCE_DIR=" + kernels.path().string() +
              " LLMCC_HOME=" + home_.path().string() + " " + LLMCC_BINARY + " generate " +
              model_->path().string() + "/m --prompt-ids 1,2,3 --max-tokens 2 " + extra);
  };
  Result missing = with_dir();  // no llmcc/model_abi.h yet
  EXPECT_NE(missing.status, 0);
  EXPECT_TRUE(contains(missing.output, "llmcc/model_abi.h")) << missing.output;
  fs::copy(root / "include" / "llmcc", kernels.path() / "include" / "llmcc",
           fs::copy_options::recursive);

  Result first = with_dir();
  ASSERT_EQ(first.status, 0) << first.output;
  EXPECT_TRUE(contains(first.output, "JIT: cache miss")) << first.output;
  Result embedded = generate();  // the embedded headers are these same files
  EXPECT_TRUE(contains(embedded.output, "JIT: cache hit")) << embedded.output;

  std::ofstream(kernels.path() / "src" / "kernels" / "cpu" / "linear.h", std::ios::app)
      << "// an edit\n";
  Result edited = with_dir();
  ASSERT_EQ(edited.status, 0) << edited.output;
  EXPECT_TRUE(contains(edited.output, "JIT: cache miss")) << edited.output;
  EXPECT_EQ(libraries().size(), 2u);
  Result again = with_dir();
  EXPECT_TRUE(contains(again.output, "JIT: cache hit")) << again.output;

  // The key records what it hashed.
  for (const auto& e : fs::directory_iterator(home_.path() / "model_lib"))
    if (e.path().extension() == ".json") {
      const Json key = read_json_file(e.path())["key"];
      EXPECT_EQ(key["kernels"].get<std::string>().size(), 32u);
      EXPECT_EQ(key["codegen"].get<std::string>().size(), 32u);
      EXPECT_TRUE(contains(key["host_compiler"].get<std::string>(), ": ")) << key.dump();
    }
}

TEST_F(Jit, ConcurrentFirstUsesCompileOnce) {
  // Two processes start together on an empty cache; the lock makes one compile and the other
  // wait, then find the library.
  Result results[2];
  std::thread a([&] { results[0] = generate(); });
  std::thread b([&] { results[1] = generate(); });
  a.join();
  b.join();
  int compiled = 0, hit = 0;
  for (const auto& r : results) {
    EXPECT_EQ(r.status, 0) << r.output;
    compiled += contains(r.output, "JIT: compiled in");
    hit += contains(r.output, "JIT: cache hit");
  }
  EXPECT_EQ(compiled, 1) << results[0].output << "\n----\n" << results[1].output;
  EXPECT_EQ(hit, 1);
  EXPECT_EQ(libraries().size(), 1u);
}

TEST_F(Jit, CorruptEntriesAreRebuilt) {
  ASSERT_EQ(generate().status, 0);
  fs::path lib = libraries().at(0);
  fs::resize_file(lib, fs::file_size(lib) / 2);  // truncated
  Result r = generate();
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(r.output, "truncated or corrupt); rebuilding")) << r.output;
  // A record claiming another ABI version is refused too.
  fs::path sidecar = lib;
  sidecar.replace_extension(".json");
  Json info = read_json_file(sidecar);
  info["abi_version"] = 999;
  write_file_atomic(sidecar, info.dump());
  r = generate();
  EXPECT_TRUE(contains(r.output, "built for ABI version 999")) << r.output;
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(contains(generate().output, "cache hit"));
}

}  // namespace
}  // namespace llmcc
