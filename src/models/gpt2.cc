#include "models/gpt2.h"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "models/decoder_builder.h"
#include "support/error.h"
#include "support/strings.h"

namespace llmcc {

namespace {

// The keys this config reads itself; the rest go to kwargs.
const std::set<std::string>& gpt2_keys() {
  static const std::set<std::string> keys = {"vocab_size",
                                             "n_embd",
                                             "n_layer",
                                             "n_head",
                                             "n_inner",
                                             "n_positions",
                                             "layer_norm_epsilon",
                                             "activation_function",
                                             "scale_attn_weights",
                                             "scale_attn_by_inverse_layer_idx",
                                             "context_window_size",
                                             "prefill_chunk_size",
                                             "tensor_parallel_shards",
                                             "max_batch_size",
                                             "head_dim",
                                             "max_sequence_length",
                                             "tie_word_embeddings",
                                             "pipeline_parallel_stages"};
  return keys;
}

std::string gelu_kind(const std::string& act, const std::string& ctx) {
  if (act == "gelu_new" || act == "gelu_pytorch_tanh" || act == "gelu_fast") return "gelu_tanh";
  if (act == "gelu") return "gelu";
  throw NotImplementedError(
      fmt::format("{}: activation_function '{}' is not built by llmcc (gelu_new, "
                  "gelu_pytorch_tanh or gelu)",
                  ctx, act));
}

}  // namespace

std::unique_ptr<Gpt2Config> Gpt2Config::from_dict(const Json& dict, const std::string& ctx) {
  if (!dict.is_object()) user_error("{}: the model config must be a JSON object", ctx);
  for (const char* key : {"vocab_size", "n_embd", "n_layer", "n_head"})
    if (!dict.contains(key)) user_error("{}: GPT-2's config needs '{}'", ctx, key);
  if (dict.value("scale_attn_by_inverse_layer_idx", false))
    throw NotImplementedError(
        fmt::format("{}: GPT-2 with scale_attn_by_inverse_layer_idx is not built by llmcc", ctx));
  if (dict.contains("tie_word_embeddings") && dict["tie_word_embeddings"] == false)
    throw NotImplementedError(fmt::format("{}: GPT-2 with an untied head is not built", ctx));
  auto c = std::make_unique<Gpt2Config>();
  const int64_t n_embd = json_int(dict, "n_embd", ctx);
  c->n_positions = dict.contains("n_positions") ? json_int(dict, "n_positions", ctx)
                   : dict.contains("context_window_size")
                       ? json_int(dict, "context_window_size", ctx)
                       : 1024;
  if (c->n_positions <= 0) user_error("{}: 'n_positions' must be positive", ctx);
  c->activation_function = dict.value("activation_function", std::string("gelu_new"));
  gelu_kind(c->activation_function, ctx);
  c->scale_attn_weights = dict.value("scale_attn_weights", true);
  // The shared decoder's view, in Llama's names.
  Json d = {{"hidden_size", n_embd},
            {"num_hidden_layers", dict["n_layer"]},
            {"num_attention_heads", dict["n_head"]},
            {"vocab_size", dict["vocab_size"]},
            {"rms_norm_eps", dict.value("layer_norm_epsilon", 1e-5)},
            {"tie_word_embeddings", true},
            {"max_position_embeddings", c->n_positions}};
  const Json& inner = dict.value("n_inner", Json());
  d["intermediate_size"] =
      inner.is_number_integer() && inner.get<int64_t>() > 0 ? inner : Json(4 * n_embd);
  for (const char* key : {"context_window_size", "prefill_chunk_size", "tensor_parallel_shards",
                          "pipeline_parallel_stages", "max_batch_size", "head_dim"})
    if (dict.contains(key) && !dict[key].is_null()) d[key] = dict[key];
  if (!d.contains("context_window_size") && dict.contains("max_sequence_length"))
    d["context_window_size"] = dict["max_sequence_length"];
  read_fields(d, ctx, c.get());
  c->kwargs = Json::object();
  for (auto it = dict.begin(); it != dict.end(); ++it)
    if (!gpt2_keys().count(it.key())) c->kwargs[it.key()] = it.value();
  if (c->context_window_size_ > c->n_positions)
    user_error("{}: context_window_size {} is larger than GPT-2's {} learned positions", ctx,
               c->context_window_size_, c->n_positions);
  return c;
}

Json Gpt2Config::asdict() const {
  return {{"vocab_size", vocab_size},
          {"n_embd", hidden_size},
          {"n_layer", num_hidden_layers},
          {"n_head", num_attention_heads},
          {"layer_norm_epsilon", rms_norm_eps},
          {"n_inner", intermediate_size},
          {"context_window_size", context_window_size_},
          {"prefill_chunk_size", prefill_chunk_size_},
          {"scale_attn_by_inverse_layer_idx", false},
          {"tensor_parallel_shards", tensor_parallel_shards_},
          {"head_dim", head_dim},
          {"max_batch_size", max_batch_size_},
          // llmcc's: MLC sizes wpe by context_window_size, which an override must not change.
          {"n_positions", n_positions},
          {"activation_function", activation_function},
          {"scale_attn_weights", scale_attn_weights}};
}

std::unique_ptr<LlamaConfig> gpt2_config_from_dict(const Json& dict, const std::string& context) {
  return Gpt2Config::from_dict(dict, context);
}

ir::Module build_gpt2(const LlamaConfig& config, const Quantization& quantization) {
  const auto* g = dynamic_cast<const Gpt2Config*>(&config);
  if (!g) internal_error("build_gpt2 needs a GPT2Config, got {}", config.class_name());
  DecoderSpec spec{.model_type = "gpt2",
                   .names = {.embed = "transformer.wte.weight",
                             .positions = "transformer.wpe.weight",
                             .layer = "transformer.h.{}.",
                             .qkv = "attn.c_attn",
                             .out = "attn.c_proj",
                             .up = "mlp.c_fc",
                             .down = "mlp.c_proj",
                             .norm1 = "ln_1",
                             .norm2 = "ln_2",
                             .final_norm = "transformer.ln_f"},
                   .layer_norm = true,
                   .linear_bias = true,
                   .gated_mlp = false,
                   .rope = false,
                   .activation = gelu_kind(g->activation_function, "GPT-2"),
                   .sm_scale = g->scale_attn_weights ? 0.0 : 1.0,
                   .num_positions = g->n_positions};
  return build_decoder(config, quantization, spec);
}

std::vector<std::string> gpt2_hf_sources(const std::string& mlc_param) { return {mlc_param}; }

bool gpt2_hf_transposed(const std::string& mlc_param) {
  for (const char* conv :
       {"attn.c_attn.weight", "attn.c_proj.weight", "mlp.c_fc.weight", "mlp.c_proj.weight"})
    if (ends_with(mlc_param, conv)) return true;
  return false;
}

bool gpt2_hf_ignored(const std::string& hf_name, const LlamaConfig&) {
  // The causal-mask buffers older checkpoints carry, and the tied head's copy.
  return ends_with(hf_name, ".attn.bias") || ends_with(hf_name, ".attn.masked_bias") ||
         hf_name == "lm_head.weight";
}

}  // namespace llmcc
