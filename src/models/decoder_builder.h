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

// MLC's param names of a family by role; `layer` holds "{}" for the layer index, and a layer's
// names are `layer` + role + ".weight" (or ".bias").
struct DecoderNames {
  std::string embed = "model.embed_tokens.weight";
  std::string positions;  // the learned absolute position table (GPT-2's wpe); empty: none
  std::string layer = "model.layers.{}.";
  std::string qkv = "self_attn.qkv_proj", out = "self_attn.o_proj";
  std::string up = "mlp.gate_up_proj", down = "mlp.down_proj";
  std::string norm1 = "input_layernorm", norm2 = "post_attention_layernorm";
  std::string final_norm = "model.norm";
  std::string head = "lm_head.weight";
};

struct DecoderSpec {
  std::string model_type;  // recorded in the module and the library's metadata
  DecoderNames names;
  bool qkv_bias = false;  // q/k/v projections carry a bias (Qwen2): qkv_proj.bias
  // GPT-2 and GPT-NeoX: LayerNorm with a bias for every norm, a bias on every linear of a layer,
  // a plain (ungated) MLP, and where the fused qkv keeps each head's q, k and v together.
  bool layer_norm = false;
  bool linear_bias = false;
  bool gated_mlp = true;
  bool parallel_residual = false;     // NeoX: h + attn(ln1(h)) + mlp(ln2(h))
  std::string qkv_order = "grouped";  // or "per_head" (NeoX's query_key_value)
  bool rope = true;                   // false: positions come from `names.positions` (GPT-2)
  bool qk_norm = false;  // per-head RMSNorm of q and k before RoPE (Qwen3): q_norm, k_norm
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
  int64_t num_positions = 0;                           // rows of names.positions
};

ir::Module build_decoder(const LlamaConfig& config, const Quantization& quantization,
                         const DecoderSpec& spec);

}  // namespace llmcc
