// llmcc::compile, in the order of MLC's interface/compile.py (reference/mlc-compile.md §1.2).
#include "llmcc/compile.h"

#include <fmt/format.h>

#include <regex>

#include "compile/memory_report.h"
#include "config/config_source.h"
#include "ir/verifier.h"
#include "llmcc/model_abi.h"
#include "models/model_quantization.h"
#include "passes/pipeline.h"
#include "support/error.h"
#include "support/files.h"
#include "support/logging.h"
#include "support/version.h"
#include "targets/backend.h"

namespace llmcc {

namespace fs = std::filesystem;

namespace {

// MLC's TP checks (§4.3), made before anything is built.
void check_tensor_parallel(const Quantization& q, const ModelConfig& config) {
  const int64_t tp = config.tensor_parallel_shards();
  if (tp <= 1) return;
  if (q.kind == "ft-quant")
    throw NotImplementedError(fmt::format(
        "NotImplementedError: {} (FasterTransformer quantization) does not support tensor "
        "parallelism (tensor_parallel_shards={})",
        q.name, tp));
  if (q.kind == "group-quant" && q.linear_weight_layout == "KN")
    throw NotImplementedError(
        "KN layout (q3f16_0 and q4f16_0) is not supported for tensor parallelism");
  if (q.kind == "group-quant") {
    // MLC's GroupQuantizeLinear check, over each linear's per-shard input features: the
    // column-parallel ones read all of hidden_size, the row-parallel ones (o_proj, down_proj)
    // a 1/TP slice.
    Json d = config.asdict();
    std::vector<int64_t> in_features = {d.value("hidden_size", int64_t{0})};
    if (d.contains("intermediate_size"))
      in_features.push_back(d["intermediate_size"].get<int64_t>() / tp);
    if (d.contains("num_attention_heads") && d.contains("head_dim"))
      in_features.push_back(d["num_attention_heads"].get<int64_t>() * d["head_dim"].get<int64_t>() /
                            tp);
    for (int64_t k : in_features)
      if (k > 0 && (k * tp / q.group_size) % tp != 0)
        user_error(
            "ValueError: The number of groups cannot be evenly distributed on {} GPUs. "
            "Input features: {}, group size: {}",
            tp, k, q.group_size);
  }
}

std::string resolve_system_lib_prefix(const std::string& requested, bool static_library) {
  std::string prefix = requested == "auto" ? "" : requested;
  if (!prefix.empty() && !std::regex_match(prefix, std::regex("^[a-zA-Z_][a-zA-Z0-9_]*$")))
    user_error("--system-lib-prefix '{}' is not a valid C identifier prefix", prefix);
  if (static_library && prefix.empty())
    log_warning(
        "--system-lib-prefix is not set for a static library. Two models linked into one "
        "binary will clash; consider e.g. --system-lib-prefix llama_q0f16_");
  if (!static_library && !prefix.empty()) {
    log_warning("--system-lib-prefix has no effect on a shared library; ignoring '{}'", prefix);
    prefix.clear();
  }
  return prefix;
}

}  // namespace

CompileResult compile(const Json& config, const Quantization& quantization, const Model& model_type,
                      const Target& target, OptimizationFlags opt, BuildFunc build_func,
                      std::string system_lib_prefix, const fs::path& output,
                      const ModelConfigOverride& overrides,
                      const std::optional<fs::path>& debug_dump) {
  check_output_path(output);
  model_type.require_implemented();

  // 1. Parse the config.
  std::optional<int64_t> active_vocab_size;
  Json flat = flatten_model_config(config, &active_vocab_size);
  std::unique_ptr<ModelConfig> model_config = model_type.config_from_dict(flat, "model config");

  // 2. Correct the flags for the target and show what we compile.
  opt.update(target, quantization);
  bool is_static = library_kind_for(output) == LibraryKind::kStatic;
  system_lib_prefix = resolve_system_lib_prefix(system_lib_prefix, is_static);
  log_info("Compiling with arguments:");
  log_info("  --config          {}", model_config->asdict().dump());
  log_info("  --quantization    {} ({})", quantization.name, quantization.kind);
  log_info("  --model-type      {}", model_type.name);
  log_info("  --target          {}", target.to_json().dump());
  log_info("  --opt             {}", opt.repr());
  log_info("  --system-lib-prefix \"{}\"", system_lib_prefix);
  log_info("  --output          {}", output.string());
  log_info("  --overrides       {}", overrides.repr());

  // 3. Apply overrides; derived values are recomputed by re-parsing.
  Json overridden = overrides.apply(model_config->asdict(), model_config->class_name());
  for (auto it = model_config->kwargs.begin(); it != model_config->kwargs.end(); ++it)
    if (!overridden.contains(it.key())) overridden[it.key()] = it.value();
  model_config = model_type.config_from_dict(overridden, "model config after overrides");

  // 5. Checks that MLC makes before creating the model, then the model itself.
  check_tensor_parallel(quantization, *model_config);
  quantization.require_implemented();
  if (model_config->tensor_parallel_shards() > 1)
    throw NotImplementedError(
        fmt::format("tensor_parallel_shards={} is not implemented for the CPU target yet; use 1",
                    model_config->tensor_parallel_shards()));
  if (model_config->pipeline_parallel_stages() > 1)
    throw NotImplementedError("pipeline_parallel_stages > 1 is not implemented yet; use 1");
  log_info("Creating model from: {}", model_config->class_name());
  // Unquantized: the pipeline's first pass quantizes it.
  ir::Module module = model_type.build(*model_config, quantization);
  ir::verify_or_throw(module);

  // 9. Metadata registration (MLC's _metadata schema plus llmcc's own keys).
  Json metadata;
  metadata["model_type"] = model_type.name;
  metadata["quantization"] = quantization.name;
  metadata["context_window_size"] = model_config->context_window_size();
  metadata["sliding_window_size"] = model_config->sliding_window_size();
  metadata["attention_sink_size"] = model_config->attention_sink_size();
  metadata["prefill_chunk_size"] = model_config->prefill_chunk_size();
  metadata["tensor_parallel_shards"] = model_config->tensor_parallel_shards();
  metadata["pipeline_parallel_stages"] = model_config->pipeline_parallel_stages();
  metadata["disaggregation"] = model_config->disaggregation();
  metadata["kv_state_kind"] = model_type.kv_state_kind();
  metadata["max_batch_size"] = model_config->max_batch_size();
  metadata["active_vocab_size"] = active_vocab_size ? Json(*active_vocab_size) : Json();
  metadata["model_task"] = model_type.model_task;
  log_info("Registering metadata: {}", metadata.dump());
  metadata["params"] = Json::array();  // filled by attach-param-metadata after quantization
  metadata["abi_version"] = LLMCC_ABI_VERSION;
  metadata["target"] = target.to_json();
  metadata["compiler_version"] = kCompilerVersion;
  metadata["model_config"] = model_config->asdict();
  metadata["model_dtype"] = quantization.model_dtype;  // dtype of embeddings and hidden states
  module.attrs["metadata"] = metadata;

  // 10. Optimise and build.
  CompileArgs args{config, quantization, model_type, target, opt, system_lib_prefix,
                   output, overrides,    debug_dump};
  if (!build_func) build_func = default_build_func(target);
  build_func(module, args, make_pipeline(kernel_selector(target)));

  // 11. Memory report.
  CompileResult result;
  result.metadata = module.attrs["metadata"];
  result.memory_report = memory_report_lines(result.metadata);
  for (const auto& line : result.memory_report) log_info("{}", line);
  log_info("Generated: {}", output.string());
  return result;
}

}  // namespace llmcc
