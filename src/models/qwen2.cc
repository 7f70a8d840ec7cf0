#include "models/qwen2.h"

#include "models/decoder_builder.h"
#include "models/llama.h"
#include "support/error.h"
#include "support/strings.h"

namespace llmcc {

ir::Module build_qwen2(const LlamaConfig& config, const Quantization& quantization) {
  return build_decoder(config, quantization, {.model_type = "qwen2", .qkv_bias = true});
}

std::vector<std::string> qwen2_hf_sources(const std::string& mlc_param) {
  const std::string bias = "self_attn.qkv_proj.bias";
  if (ends_with(mlc_param, bias)) {
    const std::string p =
        mlc_param.substr(0, mlc_param.size() - std::string("qkv_proj.bias").size());
    return {p + "q_proj.bias", p + "k_proj.bias", p + "v_proj.bias"};
  }
  return llama_hf_sources(mlc_param);
}

std::unique_ptr<LlamaConfig> qwen2_config_from_dict(const Json& dict, const std::string& context) {
  if (dict.value("use_sliding_window", false))
    throw NotImplementedError(fmt::format(
        "{}: Qwen with use_sliding_window is not built by llmcc yet (its attention has no "
        "window)",
        context));
  return LlamaConfig::from_dict(dict, context);
}

}  // namespace llmcc
