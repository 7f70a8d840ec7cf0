// GemmaConfig: Llama's fields plus what Gemma, Gemma 2 and Gemma 3 add (reference/architectures.md
// §6-§8): the GeGLU activation, the attention scale from query_pre_attn_scalar, the softcaps, and
// per-layer attention (sliding or full, each with its own RoPE).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/llama_config.h"

namespace llmcc {

class GemmaConfig : public LlamaConfig {
 public:
  int version = 1;  // 1, 2 or 3; from the model type, not serialized
  // transformers' hidden_activation: gelu_pytorch_tanh (also gelu_new) or gelu (exact erf).
  std::string hidden_activation = "gelu_pytorch_tanh";
  double query_pre_attn_scalar = 0;    // the attention scale is its -1/2 power
  double attn_logit_softcapping = 0;   // 0: none
  double final_logit_softcapping = 0;  // 0: none
  int64_t sliding_window = -1;         // the window of the sliding layers; -1: none
  // Per layer, "sliding_attention" or "full_attention" (transformers' layer_types).
  std::vector<std::string> layer_types;
  // Gemma 3's RoPE base for sliding layers; the global layers use position_embedding_base and
  // rope_scaling.
  double rope_local_base_freq = 0;

  bool is_sliding(int64_t layer) const { return layer_types.at(layer) == "sliding_attention"; }

  Json asdict() const override;
  std::string class_name() const override {
    return version == 1 ? "GemmaConfig" : "Gemma" + std::to_string(version) + "Config";
  }

  // `version` picks the defaults and the layer pattern that transformers derives when the config
  // does not list layer_types (Gemma 2: every other layer slides; Gemma 3: five of six).
  static std::unique_ptr<GemmaConfig> from_dict(const Json& dict, const std::string& context,
                                                int version);
};

std::unique_ptr<LlamaConfig> gemma_config_from_dict(const Json& dict, const std::string& context);
std::unique_ptr<LlamaConfig> gemma2_config_from_dict(const Json& dict, const std::string& context);
std::unique_ptr<LlamaConfig> gemma3_config_from_dict(const Json& dict, const std::string& context);

}  // namespace llmcc
