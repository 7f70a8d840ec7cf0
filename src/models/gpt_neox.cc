#include "models/gpt_neox.h"

#include <fmt/format.h>

#include <set>

#include "models/decoder_builder.h"
#include "support/error.h"
#include "support/strings.h"

namespace llmcc {

namespace {

const std::set<std::string>& neox_keys() {
  static const std::set<std::string> keys = {"use_parallel_residual",
                                             "hidden_size",
                                             "intermediate_size",
                                             "num_attention_heads",
                                             "num_hidden_layers",
                                             "layer_norm_eps",
                                             "vocab_size",
                                             "rotary_pct",
                                             "rotary_emb_base",
                                             "position_embedding_base",
                                             "context_window_size",
                                             "head_dim",
                                             "prefill_chunk_size",
                                             "tensor_parallel_shards",
                                             "max_batch_size",
                                             "max_position_embeddings",
                                             "hidden_act",
                                             "tie_word_embeddings",
                                             "attention_bias",
                                             "rope_parameters",
                                             "rope_scaling",
                                             "ffn_out_dtype",
                                             "pipeline_parallel_stages"};
  return keys;
}

std::string activation_kind(const std::string& act, const std::string& ctx) {
  if (act == "gelu") return "gelu";
  if (act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast") return "gelu_tanh";
  throw NotImplementedError(fmt::format(
      "{}: hidden_act '{}' is not built by llmcc for GPT-NeoX (gelu, gelu_new)", ctx, act));
}

}  // namespace

std::unique_ptr<GptNeoxConfig> GptNeoxConfig::from_dict(const Json& dict, const std::string& ctx) {
  if (!dict.is_object()) user_error("{}: the model config must be a JSON object", ctx);
  if (dict.contains("attention_bias") && dict["attention_bias"] == false)
    throw NotImplementedError(fmt::format("{}: GPT-NeoX without attention_bias is not built", ctx));
  auto c = std::make_unique<GptNeoxConfig>();
  c->use_parallel_residual = dict.value("use_parallel_residual", true);
  c->hidden_act = dict.value("hidden_act", std::string("gelu"));
  activation_kind(c->hidden_act, ctx);
  Json d = Json::object();
  for (const char* key :
       {"hidden_size", "intermediate_size", "num_attention_heads", "num_hidden_layers",
        "vocab_size", "context_window_size", "max_position_embeddings", "head_dim",
        "prefill_chunk_size", "tensor_parallel_shards", "pipeline_parallel_stages",
        "max_batch_size", "tie_word_embeddings", "rope_scaling"})
    if (dict.contains(key) && !dict[key].is_null()) d[key] = dict[key];
  d["rms_norm_eps"] = dict.value("layer_norm_eps", 1e-5);
  // The rotation: rotary_pct and rotary_emb_base (transformers 4, MLC), or rope_parameters'
  // partial_rotary_factor and rope_theta (transformers 5).
  const Json rp = dict.value("rope_parameters", Json::object());
  if (rp.is_object() && rp.value("rope_type", "default") != "default")
    throw NotImplementedError(
        fmt::format("{}: GPT-NeoX with a scaled RoPE is not built by llmcc", ctx));
  d["partial_rotary_factor"] = dict.contains("rotary_pct") ? dict["rotary_pct"]
                               : rp.is_object() ? rp.value("partial_rotary_factor", Json(0.25))
                                                : Json(0.25);
  d["position_embedding_base"] = dict.contains("position_embedding_base")
                                     ? dict["position_embedding_base"]
                                 : dict.contains("rotary_emb_base") ? dict["rotary_emb_base"]
                                 : rp.is_object() ? rp.value("rope_theta", Json(10000.0))
                                                  : Json(10000.0);
  read_fields(d, ctx, c.get());
  c->kwargs = Json::object();
  for (auto it = dict.begin(); it != dict.end(); ++it)
    if (!neox_keys().count(it.key())) c->kwargs[it.key()] = it.value();
  return c;
}

Json GptNeoxConfig::asdict() const {
  return {{"use_parallel_residual", use_parallel_residual},
          {"hidden_size", hidden_size},
          {"intermediate_size", intermediate_size},
          {"num_attention_heads", num_attention_heads},
          {"num_hidden_layers", num_hidden_layers},
          {"layer_norm_eps", rms_norm_eps},
          {"vocab_size", vocab_size},
          {"rotary_pct", partial_rotary_factor},
          {"position_embedding_base", position_embedding_base},
          {"context_window_size", context_window_size_},
          {"head_dim", head_dim},
          {"prefill_chunk_size", prefill_chunk_size_},
          {"tensor_parallel_shards", tensor_parallel_shards_},
          {"max_batch_size", max_batch_size_},
          {"hidden_act", hidden_act},
          {"tie_word_embeddings", tie_word_embeddings}};
}

std::unique_ptr<LlamaConfig> gpt_neox_config_from_dict(const Json& dict,
                                                       const std::string& context) {
  return GptNeoxConfig::from_dict(dict, context);
}

ir::Module build_gpt_neox(const LlamaConfig& config, const Quantization& quantization) {
  const auto* g = dynamic_cast<const GptNeoxConfig*>(&config);
  if (!g) internal_error("build_gpt_neox needs a GPTNeoXConfig, got {}", config.class_name());
  DecoderSpec spec{.model_type = "gpt_neox",
                   .names = {.embed = "gpt_neox.embed_in.weight",
                             .layer = "gpt_neox.layers.{}.",
                             .qkv = "attention.query_key_value",
                             .out = "attention.dense",
                             .up = "mlp.dense_h_to_4h",
                             .down = "mlp.dense_4h_to_h",
                             .norm1 = "input_layernorm",
                             .norm2 = "post_attention_layernorm",
                             .final_norm = "gpt_neox.final_layer_norm",
                             .head = "embed_out.weight"},
                   .layer_norm = true,
                   .linear_bias = true,
                   .gated_mlp = false,
                   .parallel_residual = g->use_parallel_residual,
                   .qkv_order = "per_head",
                   .activation = activation_kind(g->hidden_act, "GPT-NeoX")};
  return build_decoder(config, quantization, spec);
}

bool gpt_neox_hf_ignored(const std::string& hf_name, const LlamaConfig& config) {
  // Mask and rotary buffers of older checkpoints; a tied checkpoint's copy of the head.
  return ends_with(hf_name, ".attention.bias") || ends_with(hf_name, ".attention.masked_bias") ||
         ends_with(hf_name, "rotary_emb.inv_freq") ||
         (config.tie_word_embeddings && hf_name == "embed_out.weight");
}

}  // namespace llmcc
