// llmcc's compiler API. It mirrors MLC-LLM's interface/compile.py:
//   compile(config, quantization, model_type, target, opt, build_func, system_lib_prefix, output,
//           overrides, debug_dump)
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "compile/optimization_flags.h"
#include "config/model_config_override.h"
#include "ir/module.h"
#include "models/model.h"
#include "passes/pass.h"
#include "quant/quantization.h"
#include "support/json.h"
#include "targets/target.h"

namespace llmcc {

struct CompileArgs {
  Json config;  // the config as given (HF config.json or mlc-chat-config.json contents)
  Quantization quantization;
  Model model;
  Target target;
  OptimizationFlags opt;
  std::string system_lib_prefix;
  std::filesystem::path output;
  ModelConfigOverride overrides;
  std::optional<std::filesystem::path> debug_dump;
};

// Runs `pipeline` over the module and writes the library to args.output. Replaceable, as in MLC.
using BuildFunc =
    std::function<void(ir::Module& module, const CompileArgs& args, const PassManager& pipeline)>;

struct CompileResult {
  Json metadata;                           // what the library's llmcc_metadata() returns
  std::vector<std::string> memory_report;  // MLC's memory-report lines
};

// The build function of the target's registry entry (CPU: generate C++, run the host compiler).
BuildFunc default_build_func(const Target& target);
// The target's kernel selection, run as the pipeline's select-kernels pass (CPU: records the
// kernel each op runs on, from the instruction sets the host compiler enables for the target).
std::function<void(ir::Module&)> kernel_selector(const Target& target);

// `system_lib_prefix` "auto" resolves as in MLC for CPU targets: no prefix. Throws UserError
// (or NotImplementedError) for bad requests; leaves no file at `output` when it fails.
CompileResult compile(const Json& config, const Quantization& quantization, const Model& model_type,
                      const Target& target, OptimizationFlags opt, BuildFunc build_func,
                      std::string system_lib_prefix, const std::filesystem::path& output,
                      const ModelConfigOverride& overrides,
                      const std::optional<std::filesystem::path>& debug_dump = std::nullopt);

}  // namespace llmcc
