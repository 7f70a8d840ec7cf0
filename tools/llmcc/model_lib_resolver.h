// Which model library a runtime command uses: the one given, or one compiled on demand (jit.h).
#pragma once

#include <filesystem>
#include <string>

namespace llmcc::cli {

// `model_lib` if given; otherwise the JIT cache's library for the folder's mlc-chat-config.json.
std::string resolve_model_lib(const std::filesystem::path& model_dir, const std::string& model_lib,
                              const std::string& device, const std::string& overrides);

}  // namespace llmcc::cli
