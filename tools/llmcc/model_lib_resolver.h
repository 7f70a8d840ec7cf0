// Which model library a runtime command uses: the one given, or one compiled on demand (jit.h).
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <string>

namespace llmcc::cli {

struct ModelLibOptions {
  std::string model_lib;
  std::string device = "auto";
  std::string overrides;
};

// --model-lib, and --device/--overrides for when it is absent and the library is compiled.
void add_model_lib_options(CLI::App& app, ModelLibOptions& o);

// `model_lib` if given; otherwise the JIT cache's library for the folder's mlc-chat-config.json.
std::string resolve_model_lib(const std::filesystem::path& model_dir, const std::string& model_lib,
                              const std::string& device, const std::string& overrides);
inline std::string resolve_model_lib(const std::filesystem::path& model_dir,
                                     const ModelLibOptions& o) {
  return resolve_model_lib(model_dir, o.model_lib, o.device, o.overrides);
}

}  // namespace llmcc::cli
