#include "models/gemma_config.h"

#include <fmt/format.h>

#include "support/error.h"

namespace llmcc {

namespace {

// A number field that null (or 0) turns off; absent, transformers' default applies.
double optional_cap(const Json& d, const char* key, double fallback, const std::string& ctx) {
  if (!d.contains(key)) return fallback;
  if (d[key].is_null()) return 0;
  if (!d[key].is_number() || d[key].get<double>() < 0)
    user_error("{}: '{}' must be a non-negative number or null, got {}", ctx, key, d[key].dump());
  return d[key].get<double>();
}

// transformers 5 keeps one RoPE per layer type in rope_parameters; older versions spell the
// global one as rope_theta + rope_scaling and the local base as rope_local_base_freq.
void split_rope_parameters(Json& d, const std::string& ctx) {
  if (!d.contains("rope_parameters") || !d["rope_parameters"].is_object()) return;
  const Json rp = d["rope_parameters"];
  if (!rp.contains("full_attention") && !rp.contains("sliding_attention")) return;
  d.erase("rope_parameters");
  if (rp.contains("full_attention")) {
    const Json& full = rp["full_attention"];
    if (!full.is_object()) user_error("{}: rope_parameters.full_attention must be an object", ctx);
    if (full.contains("rope_theta")) d["rope_theta"] = full["rope_theta"];
    Json scaling = full;
    scaling.erase("rope_theta");
    d["rope_scaling"] = scaling.value("rope_type", "default") == "default" ? Json() : scaling;
  }
  if (rp.contains("sliding_attention")) {
    const Json& local = rp["sliding_attention"];
    if (!local.is_object() || local.value("rope_type", "default") != "default")
      throw NotImplementedError(
          fmt::format("{}: a scaled RoPE on Gemma's sliding layers is not built by llmcc", ctx));
    if (local.contains("rope_theta")) d["rope_local_base_freq"] = local["rope_theta"];
  }
}

bool is_true(const Json& d, const char* key) {
  return d.contains(key) && d[key].is_boolean() && d[key].get<bool>();
}

}  // namespace

std::unique_ptr<GemmaConfig> GemmaConfig::from_dict(const Json& dict, const std::string& ctx,
                                                    int version) {
  if (!dict.is_object()) user_error("{}: the model config must be a JSON object", ctx);
  // Gemma 3 4B-27B ship as Gemma3ForConditionalGeneration: the language model's settings sit in
  // text_config (the converter reads its tensors, leaving the vision tower; convert/checkpoint.h).
  Json d = dict.contains("text_config") ? dict["text_config"] : dict;
  if (!d.is_object()) user_error("{}: text_config must be a JSON object", ctx);
  if (dict.contains("text_config")) {
    if (version != 3)
      throw NotImplementedError(fmt::format("{}: only Gemma 3 has a text_config", ctx));
    for (const char* key : {"context_window_size", "prefill_chunk_size", "max_batch_size",
                            "tensor_parallel_shards", "pipeline_parallel_stages"})
      if (dict.contains(key) && !d.contains(key)) d[key] = dict[key];
  }
  if (version == 3) {
    // transformers' Gemma3TextConfig defaults, which the hub's configs rely on.
    const std::pair<const char*, Json> defaults[] = {
        {"vocab_size", 262208},       {"hidden_size", 2304},
        {"intermediate_size", 9216},  {"num_hidden_layers", 26},
        {"num_attention_heads", 8},   {"num_key_value_heads", 4},
        {"rms_norm_eps", 1e-6},       {"max_position_embeddings", 131072},
        {"tie_word_embeddings", true}};
    for (const auto& [key, value] : defaults)
      if (!d.contains(key)) d[key] = value;
  }
  auto c = std::make_unique<GemmaConfig>();
  c->version = version;
  if (is_true(d, "attention_bias"))
    throw NotImplementedError(fmt::format("{}: Gemma with attention_bias is not built", ctx));
  if (is_true(d, "use_bidirectional_attention"))
    throw NotImplementedError(
        fmt::format("{}: Gemma with use_bidirectional_attention is not built", ctx));
  if (d.contains("sliding_window_size") && !d["sliding_window_size"].is_null() &&
      d["sliding_window_size"] != -1)
    user_error("{}: Gemma's window is per layer: set 'sliding_window', not sliding_window_size",
               ctx);
  split_rope_parameters(d, ctx);

  // Gemma ignores hidden_act (the original configs say "gelu" but train with the tanh form).
  if (d.contains("hidden_activation") && !d["hidden_activation"].is_null()) {
    if (!d["hidden_activation"].is_string())
      user_error("{}: 'hidden_activation' must be a string", ctx);
    c->hidden_activation = d["hidden_activation"];
  }
  if (c->hidden_activation != "gelu_pytorch_tanh" && c->hidden_activation != "gelu_new" &&
      c->hidden_activation != "gelu")
    user_error("{}: hidden_activation '{}' is not one of gelu_pytorch_tanh, gelu_new, gelu", ctx,
               c->hidden_activation);
  if (!d.contains("head_dim")) d["head_dim"] = 256;  // transformers' default
  if (version == 3 && !d.contains("rope_theta") && !d.contains("position_embedding_base"))
    d["rope_theta"] = 1e6;
  c->query_pre_attn_scalar = optional_cap(d, "query_pre_attn_scalar", version == 1 ? 0 : 256, ctx);
  c->attn_logit_softcapping = optional_cap(d, "attn_logit_softcapping", version == 2 ? 50 : 0, ctx);
  c->final_logit_softcapping =
      optional_cap(d, "final_logit_softcapping", version == 2 ? 30 : 0, ctx);
  c->rope_local_base_freq = optional_cap(d, "rope_local_base_freq", version == 3 ? 1e4 : 0, ctx);
  if (version == 1) {
    c->sliding_window = -1;
  } else if (!d.contains("sliding_window")) {
    c->sliding_window = 4096;
  } else if (!d["sliding_window"].is_null()) {
    c->sliding_window = json_int(d, "sliding_window", ctx);
    if (c->sliding_window <= 0 && c->sliding_window != -1)
      user_error("{}: sliding_window must be positive, got {}", ctx, c->sliding_window);
  }
  const Json layer_types = d.value("layer_types", Json());
  const int64_t pattern =
      d.contains("sliding_window_pattern") && d["sliding_window_pattern"].is_number_integer()
          ? d["sliding_window_pattern"].get<int64_t>()
          : 6;
  for (const char* key :
       {"hidden_activation", "hidden_act", "query_pre_attn_scalar", "attn_logit_softcapping",
        "final_logit_softcapping", "rope_local_base_freq", "sliding_window", "layer_types",
        "sliding_window_pattern", "attention_bias", "use_bidirectional_attention",
        "cache_implementation", "sliding_window_size"})
    d.erase(key);
  read_fields(d, ctx, c.get());
  if (c->query_pre_attn_scalar == 0) c->query_pre_attn_scalar = static_cast<double>(c->head_dim);

  const int64_t n = c->num_hidden_layers;
  if (layer_types.is_array()) {
    if (static_cast<int64_t>(layer_types.size()) != n)
      user_error("{}: layer_types lists {} layers, num_hidden_layers is {}", ctx,
                 layer_types.size(), n);
    for (const auto& t : layer_types) {
      if (!t.is_string() || (t != "sliding_attention" && t != "full_attention"))
        user_error("{}: layer_types entries must be sliding_attention or full_attention, got {}",
                   ctx, t.dump());
      c->layer_types.push_back(t);
    }
  } else {
    if (pattern < 1) user_error("{}: sliding_window_pattern must be positive", ctx);
    for (int64_t i = 0; i < n; ++i) {
      const bool sliding = version == 2 ? i % 2 == 0 : version == 3 && (i + 1) % pattern != 0;
      c->layer_types.push_back(sliding ? "sliding_attention" : "full_attention");
    }
  }
  for (int64_t i = 0; i < n; ++i)
    if (c->is_sliding(i) && c->sliding_window <= 0)
      user_error("{}: layer {} is a sliding_attention layer but no sliding_window is set", ctx, i);
  return c;
}

Json GemmaConfig::asdict() const {
  Json d = LlamaConfig::asdict();
  auto or_null = [](double v) { return v > 0 ? Json(v) : Json(); };
  d["hidden_activation"] = hidden_activation;
  d["query_pre_attn_scalar"] = query_pre_attn_scalar;
  d["attn_logit_softcapping"] = or_null(attn_logit_softcapping);
  d["final_logit_softcapping"] = or_null(final_logit_softcapping);
  d["sliding_window"] = sliding_window > 0 ? Json(sliding_window) : Json();
  d["layer_types"] = layer_types;
  d["rope_local_base_freq"] = or_null(rope_local_base_freq);
  return d;
}

std::unique_ptr<LlamaConfig> gemma_config_from_dict(const Json& dict, const std::string& context) {
  return GemmaConfig::from_dict(dict, context, 1);
}
std::unique_ptr<LlamaConfig> gemma2_config_from_dict(const Json& dict, const std::string& context) {
  return GemmaConfig::from_dict(dict, context, 2);
}
std::unique_ptr<LlamaConfig> gemma3_config_from_dict(const Json& dict, const std::string& context) {
  return GemmaConfig::from_dict(dict, context, 3);
}

}  // namespace llmcc
