// Qwen2 and Qwen2.5: Llama's decoder with a bias on the q, k and v projections (fused into
// qkv_proj.bias as MLC does), usually tied embeddings on the small models, and ChatML.
#pragma once

#include <string>
#include <vector>

#include "ir/module.h"
#include "models/llama_config.h"
#include "quant/quantization.h"

namespace llmcc {

ir::Module build_qwen2(const LlamaConfig& config, const Quantization& quantization);

// The Hugging Face tensors an MLC Qwen2 param is made of: Llama's, plus the fused q/k/v bias.
std::vector<std::string> qwen2_hf_sources(const std::string& mlc_param);

// UserError for a config whose features llmcc does not build yet (a sliding window).
void check_qwen2_config(const Json& dict, const std::string& context);

}  // namespace llmcc
