// Llama: the reference decoder (decoder_builder.h), and how Hugging Face Llama checkpoints map
// onto its MLC params (llama_loader.cc), which the other Llama-shaped families reuse.
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
