// Phi-3 (mini, small, medium): Llama's decoder, but the checkpoint already stores the fused
// qkv_proj and gate_up_proj that MLC's layout uses, and the 4k models attend through a sliding
// window. The 128k models scale RoPE with longrope (short and long factors); Phi-3.5/4-mini
// rotate part of each head (partial_rotary_factor).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "ir/module.h"
#include "models/llama_config.h"
#include "quant/quantization.h"

namespace llmcc {

std::unique_ptr<LlamaConfig> phi3_config_from_dict(const Json& dict, const std::string& context);
ir::Module build_phi3(const LlamaConfig& config, const Quantization& quantization);
// Every MLC param is one tensor of the same name in the checkpoint.
std::vector<std::string> phi3_hf_sources(const std::string& mlc_param);

}  // namespace llmcc
