// Builds the graph IR of a Llama-family model: params in MLC's order and names (fused qkv_proj
// and gate_up_proj), and the functions of MLC's library ABI (reference/mlc-compile.md §6.2).
#pragma once

#include "ir/module.h"
#include "models/llama_config.h"
#include "quant/quantization.h"

namespace llmcc {

ir::Module build_llama(const LlamaConfig& config, const Quantization& quantization);

}  // namespace llmcc
