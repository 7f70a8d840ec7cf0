#include "models/llama_config.h"

#include <algorithm>
#include <set>

#include "models/rope_config.h"
#include "support/error.h"
#include "support/logging.h"

namespace llmcc {

namespace {

const std::set<std::string>& field_names() {
  static const std::set<std::string> names = {"hidden_size",
                                              "intermediate_size",
                                              "num_attention_heads",
                                              "num_hidden_layers",
                                              "rms_norm_eps",
                                              "vocab_size",
                                              "tie_word_embeddings",
                                              "position_embedding_base",
                                              "rope_scaling",
                                              "context_window_size",
                                              "prefill_chunk_size",
                                              "num_key_value_heads",
                                              "head_dim",
                                              "tensor_parallel_shards",
                                              "pipeline_parallel_stages",
                                              "max_batch_size",
                                              "disaggregation",
                                              "sliding_window_size",
                                              "partial_rotary_factor"};
  return names;
}

int64_t optional_int(const Json& d, const char* key, int64_t fallback, const std::string& ctx) {
  if (!d.contains(key) || d[key].is_null()) return fallback;
  return json_int(d, key, ctx);
}

}  // namespace

std::unique_ptr<LlamaConfig> LlamaConfig::from_dict(const Json& dict, const std::string& ctx) {
  auto c = std::make_unique<LlamaConfig>();
  read_fields(dict, ctx, c.get());
  return c;
}

void LlamaConfig::read_fields(const Json& dict, const std::string& ctx, LlamaConfig* c) {
  if (!dict.is_object()) user_error("{}: the model config must be a JSON object", ctx);
  for (auto it = dict.begin(); it != dict.end(); ++it)
    if (!field_names().count(it.key())) c->kwargs[it.key()] = it.value();

  c->hidden_size = json_int(dict, "hidden_size", ctx);
  c->intermediate_size = json_int(dict, "intermediate_size", ctx);
  c->num_attention_heads = json_int(dict, "num_attention_heads", ctx);
  c->num_hidden_layers = json_int(dict, "num_hidden_layers", ctx);
  c->rms_norm_eps = json_number(dict, "rms_norm_eps", ctx);
  c->vocab_size = json_int(dict, "vocab_size", ctx);
  for (const char* key : {"hidden_size", "intermediate_size", "num_attention_heads",
                          "num_hidden_layers", "vocab_size"})
    if (json_int(dict, key, ctx) <= 0) user_error("{}: '{}' must be positive", ctx, key);
  if (dict.contains("tie_word_embeddings") && !dict["tie_word_embeddings"].is_null()) {
    if (!dict["tie_word_embeddings"].is_boolean())
      user_error("{}: 'tie_word_embeddings' must be true or false", ctx);
    c->tie_word_embeddings = dict["tie_word_embeddings"].get<bool>();
  }

  // transformers >= 5 writes rope_theta and the scaling into one "rope_parameters" object.
  if (c->kwargs.contains("rope_parameters") && c->kwargs["rope_parameters"].is_object()) {
    const Json& rp = c->kwargs["rope_parameters"];
    if (rp.contains("rope_theta") && !c->kwargs.contains("rope_theta"))
      c->kwargs["rope_theta"] = rp["rope_theta"];
  }
  // position_embedding_base: 0 means "take rope_theta, else 10000".
  if (dict.contains("position_embedding_base") && !dict["position_embedding_base"].is_null())
    c->position_embedding_base = json_number(dict, "position_embedding_base", ctx);
  if (c->position_embedding_base == 0) {
    if (c->kwargs.contains("rope_theta")) {
      c->position_embedding_base = json_number(c->kwargs, "rope_theta", ctx);
      c->kwargs.erase("rope_theta");
    } else {
      c->position_embedding_base = 10000;
    }
  }

  // The scaling, resolved against max_position_embeddings before that becomes the context window.
  Json rope_scaling = dict.contains("rope_scaling") ? dict["rope_scaling"] : Json();
  if (!rope_scaling.is_object() && c->kwargs.contains("rope_parameters"))
    rope_scaling = c->kwargs["rope_parameters"];
  c->rope_scaling = resolve_rope_scaling(rope_scaling, dict, ctx);
  // Partial rotary: top level (MLC, older transformers) or inside rope_parameters.
  const Json rope_parameters = c->kwargs.value("rope_parameters", Json());
  auto has_partial = [](const Json& d) {
    return d.is_object() && d.contains("partial_rotary_factor") &&
           !d["partial_rotary_factor"].is_null();
  };
  if (has_partial(dict))
    c->partial_rotary_factor = json_number(dict, "partial_rotary_factor", ctx);
  else if (has_partial(rope_parameters))
    c->partial_rotary_factor = json_number(rope_parameters, "partial_rotary_factor", ctx);
  if (!(c->partial_rotary_factor > 0 && c->partial_rotary_factor <= 1))
    user_error("{}: partial_rotary_factor must be in (0, 1], got {}", ctx,
               c->partial_rotary_factor);

  c->context_window_size_ = optional_int(dict, "context_window_size", 0, ctx);
  if (c->context_window_size_ == 0) {
    for (const char* key : {"max_position_embeddings", "max_sequence_length"}) {
      if (c->kwargs.contains(key) && !c->kwargs[key].is_null()) {
        c->context_window_size_ = json_int(c->kwargs, key, ctx);
        c->kwargs.erase(key);
        log_info("context_window_size not found in config.json. Falling back to {} ({})", key,
                 c->context_window_size_);
        break;
      }
    }
    if (c->context_window_size_ == 0)
      user_error(
          "{}: unable to determine the context window size: none of "
          "context_window_size, max_position_embeddings or max_sequence_length is set",
          ctx);
  }
  if (c->context_window_size_ < 0) user_error("{}: context_window_size must be positive", ctx);

  c->prefill_chunk_size_ = optional_int(dict, "prefill_chunk_size", 0, ctx);
  if (c->prefill_chunk_size_ == 0) {
    c->prefill_chunk_size_ = std::min<int64_t>(c->context_window_size_, 8192);
    log_info("prefill_chunk_size defaults to {}", c->prefill_chunk_size_);
  } else if (c->prefill_chunk_size_ > c->context_window_size_) {
    int64_t clamped = std::min<int64_t>(c->context_window_size_, 8192);
    log_info("Overriding prefill_chunk_size from {} to {} (context_window_size)",
             c->prefill_chunk_size_, clamped);
    c->prefill_chunk_size_ = clamped;
  }
  if (c->prefill_chunk_size_ < 0) user_error("{}: prefill_chunk_size must be positive", ctx);

  c->num_key_value_heads = optional_int(dict, "num_key_value_heads", 0, ctx);
  if (c->num_key_value_heads == 0) c->num_key_value_heads = c->num_attention_heads;
  if (c->num_key_value_heads < 0 || c->num_attention_heads % c->num_key_value_heads != 0)
    user_error("{}: num_attention_heads ({}) must be a multiple of num_key_value_heads ({})", ctx,
               c->num_attention_heads, c->num_key_value_heads);
  c->head_dim = optional_int(dict, "head_dim", 0, ctx);
  if (c->head_dim == 0) c->head_dim = c->hidden_size / c->num_attention_heads;
  if (c->head_dim <= 0 || c->head_dim % 2 != 0)
    user_error("{}: head_dim must be a positive even number, got {}", ctx, c->head_dim);
  if (c->rotary_dim() % 2 != 0)
    user_error("{}: partial_rotary_factor {} rotates {} of head_dim {} dims; it must be even", ctx,
               c->partial_rotary_factor, c->rotary_dim(), c->head_dim);

  c->tensor_parallel_shards_ = optional_int(dict, "tensor_parallel_shards", 1, ctx);
  c->pipeline_parallel_stages_ = optional_int(dict, "pipeline_parallel_stages", 1, ctx);
  c->max_batch_size_ = optional_int(dict, "max_batch_size", 1, ctx);
  if (dict.contains("disaggregation") && dict["disaggregation"].is_boolean())
    c->disaggregation_ = dict["disaggregation"].get<bool>();

  const int64_t tp = c->tensor_parallel_shards_;
  if (tp < 1) user_error("{}: tensor_parallel_shards must be at least 1, got {}", ctx, tp);
  if (c->intermediate_size % tp != 0)
    user_error("{}: tensor_parallel_shards={} does not divide intermediate_size={}", ctx, tp,
               c->intermediate_size);
  if (c->num_attention_heads % tp != 0)
    user_error("{}: tensor_parallel_shards={} does not divide num_attention_heads={}", ctx, tp,
               c->num_attention_heads);
  if (c->num_key_value_heads % tp != 0 || c->num_key_value_heads < tp)
    user_error("{}: tensor_parallel_shards={} does not divide num_key_value_heads={}", ctx, tp,
               c->num_key_value_heads);
  if (c->pipeline_parallel_stages_ < 1 || c->pipeline_parallel_stages_ > c->num_hidden_layers)
    user_error("{}: pipeline_parallel_stages must be in [1, num_hidden_layers={}], got {}", ctx,
               c->num_hidden_layers, c->pipeline_parallel_stages_);
  if (c->max_batch_size_ < 1) user_error("{}: max_batch_size must be at least 1", ctx);
  c->sliding_window_size_ = optional_int(dict, "sliding_window_size", -1, ctx);
  if (c->sliding_window_size_ == 0 || c->sliding_window_size_ < -1)
    user_error("{}: sliding_window_size must be positive (or -1 for none), got {}", ctx,
               c->sliding_window_size_);
}

Json LlamaConfig::asdict() const {
  Json d;
  d["hidden_size"] = hidden_size;
  d["intermediate_size"] = intermediate_size;
  d["num_attention_heads"] = num_attention_heads;
  d["num_hidden_layers"] = num_hidden_layers;
  d["rms_norm_eps"] = rms_norm_eps;
  d["vocab_size"] = vocab_size;
  d["tie_word_embeddings"] = tie_word_embeddings;
  d["position_embedding_base"] = position_embedding_base;
  d["rope_scaling"] = rope_scaling;
  d["context_window_size"] = context_window_size_;
  d["prefill_chunk_size"] = prefill_chunk_size_;
  d["num_key_value_heads"] = num_key_value_heads;
  d["head_dim"] = head_dim;
  d["tensor_parallel_shards"] = tensor_parallel_shards_;
  d["pipeline_parallel_stages"] = pipeline_parallel_stages_;
  d["max_batch_size"] = max_batch_size_;
  d["disaggregation"] = disaggregation_;
  if (sliding_window_size_ > 0) d["sliding_window_size"] = sliding_window_size_;
  if (partial_rotary_factor != 1.0) d["partial_rotary_factor"] = partial_rotary_factor;
  return d;
}

}  // namespace llmcc
