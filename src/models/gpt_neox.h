// GPT-NeoX (Pythia; reference/architectures.md): parallel residual, partial rotary, LayerNorm with
// bias, a fused query_key_value in per-head [q|k|v] order, biases on every linear, an untied head.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/module.h"
#include "models/llama_config.h"
#include "quant/quantization.h"

namespace llmcc {

// MLC's GPTNeoXConfig fields over the LlamaConfig the shared decoder reads.
class GptNeoxConfig : public LlamaConfig {
 public:
  bool use_parallel_residual = true;
  std::string hidden_act = "gelu";

  static std::unique_ptr<GptNeoxConfig> from_dict(const Json& dict, const std::string& context);
  Json asdict() const override;
  std::string class_name() const override { return "GPTNeoXConfig"; }
};

std::unique_ptr<LlamaConfig> gpt_neox_config_from_dict(const Json& dict,
                                                       const std::string& context);
ir::Module build_gpt_neox(const LlamaConfig& config, const Quantization& quantization);
bool gpt_neox_hf_ignored(const std::string& hf_name, const LlamaConfig& config);

}  // namespace llmcc
