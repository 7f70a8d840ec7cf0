// Qwen2 and Qwen2.5: Llama's decoder with a bias on the q, k and v projections (fused into
// qkv_proj.bias as MLC does), usually tied embeddings on the small models, and ChatML.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/module.h"
#include "models/llama_config.h"
#include "quant/quantization.h"

namespace llmcc {

ir::Module build_qwen2(const LlamaConfig& config, const Quantization& quantization);

// The Hugging Face tensors an MLC Qwen2 param is made of: Llama's, plus the fused q/k/v bias.
std::vector<std::string> qwen2_hf_sources(const std::string& mlc_param);

// Llama's config fields; NotImplementedError for what llmcc does not build yet (Qwen's
// use_sliding_window). Qwen3 reads its config the same way.
std::unique_ptr<LlamaConfig> qwen2_config_from_dict(const Json& dict, const std::string& context);

}  // namespace llmcc
