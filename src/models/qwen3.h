// Qwen3 (dense): Llama's decoder with a per-head RMSNorm of q and k before RoPE (q_norm, k_norm),
// no q/k/v bias, and a head_dim that the config states rather than hidden / heads.
#pragma once

#include "ir/module.h"
#include "models/llama_config.h"
#include "quant/quantization.h"

namespace llmcc {

ir::Module build_qwen3(const LlamaConfig& config, const Quantization& quantization);

}  // namespace llmcc
