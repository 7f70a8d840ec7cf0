#include "tools/llmcc/model_lib_resolver.h"

#include "jit/jit.h"

namespace llmcc::cli {

void add_model_lib_options(CLI::App& app, ModelLibOptions& o) {
  app.add_option("--model-lib", o.model_lib,
                 "Compiled model library; compiled on demand when absent");
  app.add_option("--device", o.device, "Device for on-demand compilation")->capture_default_str();
  app.add_option("--overrides", o.overrides,
                 "Model config overrides for on-demand compilation, e.g. context_window_size=2048");
}

std::string resolve_model_lib(const std::filesystem::path& model_dir, const std::string& model_lib,
                              const std::string& device, const std::string& overrides) {
  if (!model_lib.empty()) return model_lib;
  return jit_model_lib({model_dir, device, overrides}).string();
}

}  // namespace llmcc::cli
