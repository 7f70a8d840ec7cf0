// Mistral: Llama's decoder with sliding-window attention (HF's `sliding_window`, MLC's
// sliding_window_size; v0.2 and later set none and are Llama in all but name), and the
// [INST] ... [/INST] template.
#pragma once

#include <memory>
#include <string>

#include "ir/module.h"
#include "models/llama_config.h"
#include "quant/quantization.h"

namespace llmcc {

// The config with HF's sliding_window read as MLC's sliding_window_size.
std::unique_ptr<LlamaConfig> mistral_config_from_dict(const Json& dict, const std::string& context);
ir::Module build_mistral(const LlamaConfig& config, const Quantization& quantization);

}  // namespace llmcc
