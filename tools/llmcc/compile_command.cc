// llmcc compile: MLC's `mlc_llm compile` command line.
#include <memory>

#include "config/config_source.h"
#include "llmcc/compile.h"
#include "support/logging.h"
#include "tools/llmcc/commands.h"

namespace llmcc::cli {

namespace {

struct CompileOptions {
  std::string model;
  std::string quantization;
  std::string model_type = "auto";
  std::string device = "auto";
  std::string host = "auto";
  std::string opt = "O2";
  std::string system_lib_prefix = "auto";
  std::string output;
  std::string overrides;
  std::string debug_dump;
};

int run_compile(const CompileOptions& o) {
  ConfigSource source = load_config_source(o.model);
  const Quantization& quantization =
      Quantization::from_name(detect_quantization(o.quantization, source));
  const Model& model = Model::from_name(detect_model_type(o.model_type, source));
  Target target = Target::from_device(o.device, o.host);
  // A compiled library is for distribution: unless told otherwise it targets a baseline that
  // every recent x86-64 server has, not whatever this machine has (the JIT keeps native).
  if (!target.mcpu_given && target.mtriple.rfind("x86_64", 0) == 0) {
    target.mcpu = "x86-64-v3";
    log_info(
        "Compiling for the portable x86-64-v3 baseline (AVX2, FMA, F16C: Haswell, Zen and "
        "later); --device \"llvm -mcpu=native\" uses every extension of this machine");
  }
  OptimizationFlags opt = OptimizationFlags::from_str(o.opt);
  ModelConfigOverride overrides = ModelConfigOverride::from_str(o.overrides);
  std::optional<std::filesystem::path> dump;
  if (!o.debug_dump.empty()) dump = o.debug_dump;
  compile(source.dict, quantization, model, target, opt, nullptr, o.system_lib_prefix, o.output,
          overrides, dump);
  return 0;
}

}  // namespace

Action add_compile_command(CLI::App& app) {
  auto o = std::make_shared<CompileOptions>();
  app.add_option("model", o->model,
                 "mlc-chat-config.json or config.json, a folder holding one, or a preset name "
                 "(tinyllama_1b, llama2_7b, llama3_8b, llama3_1_8b, tiny_llama)")
      ->required();
  app.add_option("--quantization", o->quantization,
                 "Quantization scheme, e.g. q0f32, q0f16 (default: the config's 'quantization')");
  app.add_option("--model-type", o->model_type, "Model architecture, or auto (from the config)")
      ->capture_default_str();
  app.add_option("--device", o->device,
                 "Target: auto, cpu or llvm, optionally with TVM-style options such as "
                 "\"llvm -mcpu=znver3 -mattr=+avx2\" or \"llvm -mtriple=aarch64-linux-gnu "
                 "-mattr=+dotprod\". Without -mcpu: x86-64-v3 (portable), or generic for "
                 "another architecture; -mcpu=native: this machine")
      ->capture_default_str();
  app.add_option("--host", o->host, "Host triple, or auto")->capture_default_str();
  app.add_option("--opt", o->opt, "Optimization flags: O0-O3, or k=v;k=v (MLC's fields)")
      ->capture_default_str();
  app.add_option("--system-lib-prefix", o->system_lib_prefix,
                 "Prefix for every exported symbol of a static (.tar) library; auto = none")
      ->capture_default_str();
  app.add_option("--output,-o", o->output,
                 "Output library: .so (shared) or .tar (static objects); its folder must exist")
      ->required();
  app.add_option(
      "--overrides", o->overrides,
      "Model config overrides, e.g. \"context_window_size=1024;prefill_chunk_size=128\"");
  app.add_option("--debug-dump", o->debug_dump,
                 "Folder to write the IR after every phase and the generated source into");
  return [o] { return run_compile(*o); };
}

}  // namespace llmcc::cli
