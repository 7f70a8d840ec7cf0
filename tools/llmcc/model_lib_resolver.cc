#include "tools/llmcc/model_lib_resolver.h"

#include "support/error.h"

namespace llmcc::cli {

std::string resolve_model_lib(const std::filesystem::path& model_dir, const std::string& model_lib,
                              const std::string& device, const std::string& overrides) {
  if (!model_lib.empty()) return model_lib;
  (void)model_dir;
  (void)device;
  (void)overrides;
  user_error("pass --model-lib: compiling on demand is not available yet");
}

}  // namespace llmcc::cli
