// GPT-2 (reference/architectures.md): learned absolute positions, LayerNorm with bias, GELU-tanh,
// a fused c_attn with bias, Conv1D weights that the checkpoint stores [in, out], a tied head.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/module.h"
#include "models/llama_config.h"
#include "quant/quantization.h"

namespace llmcc {

// MLC's GPT2Config fields (n_embd, n_layer, ...) over the LlamaConfig the shared decoder reads.
class Gpt2Config : public LlamaConfig {
 public:
  int64_t n_positions = 0;  // rows of the learned position table (wpe)
  std::string activation_function = "gelu_new";
  bool scale_attn_weights = true;

  static std::unique_ptr<Gpt2Config> from_dict(const Json& dict, const std::string& context);
  Json asdict() const override;
  std::string class_name() const override { return "GPT2Config"; }
};

std::unique_ptr<LlamaConfig> gpt2_config_from_dict(const Json& dict, const std::string& context);
ir::Module build_gpt2(const LlamaConfig& config, const Quantization& quantization);
std::vector<std::string> gpt2_hf_sources(const std::string& mlc_param);
// Conv1D weights (c_attn, c_proj, c_fc) are stored [in, out] and transposed at conversion.
bool gpt2_hf_transposed(const std::string& mlc_param);
bool gpt2_hf_ignored(const std::string& hf_name, const LlamaConfig& config);

}  // namespace llmcc
