// The graph IR of a pre-norm decoder-only transformer in Llama's layout: params in MLC's order and
// names (fused qkv_proj and gate_up_proj), and the functions of MLC's library ABI
// (reference/mlc-compile.md §6.2). A family says how it departs from Llama in a DecoderSpec.
#pragma once

#include <string>

#include "ir/module.h"
#include "models/llama_config.h"
#include "quant/quantization.h"

namespace llmcc {

struct DecoderSpec {
  std::string model_type;  // recorded in the module and the library's metadata
  bool qkv_bias = false;   // q/k/v projections carry a bias (Qwen2): qkv_proj.bias
  bool qk_norm = false;    // per-head RMSNorm of q and k before RoPE (Qwen3): q_norm, k_norm
};

ir::Module build_decoder(const LlamaConfig& config, const Quantization& quantization,
                         const DecoderSpec& spec);

}  // namespace llmcc
