// Builds the graph IR of a Llama-family model: params in MLC's order and names (fused qkv_proj
// and gate_up_proj), and the functions of MLC's library ABI (reference/mlc-compile.md §6.2).
#pragma once

#include "ir/module.h"
#include "models/llama_config.h"
#include "quant/quantization.h"

namespace llmcc {

ir::Module build_llama(const LlamaConfig& config, const Quantization& quantization);

// The Hugging Face tensors an MLC Llama param is made of (llama_loader.cc).
std::vector<std::string> llama_hf_sources(const std::string& mlc_param);
bool llama_hf_ignored(const std::string& hf_name, const LlamaConfig& config);

}  // namespace llmcc
