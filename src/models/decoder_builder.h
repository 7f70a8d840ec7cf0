// The graph IR of a pre-norm decoder-only transformer in Llama's layout: params in MLC's order and
// names (fused qkv_proj and gate_up_proj), and the functions of MLC's library ABI
// (reference/mlc-compile.md §6.2). A family says how it departs from Llama in a DecoderSpec.
#pragma once

#include <functional>
#include <string>

#include "ir/module.h"
#include "models/llama_config.h"
#include "quant/quantization.h"

namespace llmcc {

// One layer's attention, where a family varies it by layer (Gemma 2/3's sliding and full layers).
struct LayerAttention {
  int64_t sliding_window = 0;  // 0: none
  double rope_theta = 0;
  Json rope_scaling;  // null: plain RoPE
};

struct DecoderSpec {
  std::string model_type;  // recorded in the module and the library's metadata
  bool qkv_bias = false;   // q/k/v projections carry a bias (Qwen2): qkv_proj.bias
  bool qk_norm = false;    // per-head RMSNorm of q and k before RoPE (Qwen3): q_norm, k_norm
  // Gemma's norms: the checkpoint's (1 + w) is folded into the stored weight at conversion, and
  // the normalized row is multiplied by it in f32 and rounded once, last.
  bool gemma_norms = false;
  // Gemma 2/3's sandwich: the attention and MLP outputs are normed before the residual add
  // (post_attention_layernorm, post_feedforward_layernorm), and the MLP input by
  // pre_feedforward_layernorm.
  bool sandwich_norms = false;
  double embed_scale = 0;           // > 0: embeddings times this, rounded to the model dtype
  std::string activation = "silu";  // of the gated MLP: silu, gelu or gelu_tanh
  double sm_scale = 0;              // 0: head_dim^-1/2
  double attn_logit_softcap = 0;    // 0: none
  double final_logit_softcap = 0;   // 0: none
  std::function<LayerAttention(int64_t layer)> layer;  // empty: the config's, for every layer
};

ir::Module build_decoder(const LlamaConfig& config, const Quantization& quantization,
                         const DecoderSpec& spec);

}  // namespace llmcc
