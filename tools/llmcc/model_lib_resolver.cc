#include "tools/llmcc/model_lib_resolver.h"

#include "jit/jit.h"

namespace llmcc::cli {

std::string resolve_model_lib(const std::filesystem::path& model_dir, const std::string& model_lib,
                              const std::string& device, const std::string& overrides) {
  if (!model_lib.empty()) return model_lib;
  return jit_model_lib({model_dir, device, overrides}).string();
}

}  // namespace llmcc::cli
