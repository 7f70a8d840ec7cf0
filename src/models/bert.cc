#include "models/bert.h"

#include <fmt/format.h>

#include <cmath>
#include <set>

#include "models/model.h"
#include "support/error.h"
#include "support/strings.h"

namespace llmcc {

namespace {

using ir::Dim;
using ir::DType;
using ir::FunctionBuilder;
using ir::Operand;
using ir::Type;

const std::set<std::string>& bert_keys() {
  static const std::set<std::string> keys = {"vocab_size",
                                             "hidden_size",
                                             "num_hidden_layers",
                                             "num_attention_heads",
                                             "intermediate_size",
                                             "hidden_act",
                                             "layer_norm_eps",
                                             "context_window_size",
                                             "prefill_chunk_size",
                                             "head_dim",
                                             "tensor_parallel_shards",
                                             "max_batch_size",
                                             "type_vocab_size",
                                             "max_position_embeddings",
                                             "position_embedding_type"};
  return keys;
}

int64_t positive(const Json& d, const char* key, const std::string& ctx) {
  const int64_t v = json_int(d, key, ctx);
  if (v <= 0) user_error("{}: '{}' must be positive, got {}", ctx, key, v);
  return v;
}

class BertBuilder {
 public:
  BertBuilder(const BertConfig& c, const Quantization& q)
      : c_(c), q_(q), dtype_(model_dtype(q)), H_(Dim::constant(c.hidden_size)) {}

  ir::Module build() {
    m_.attrs["model_type"] = "bert";
    m_.attrs["quantization"] = q_.name;
    m_.attrs["model_config"] = c_.asdict();
    m_.attrs["symbol_values"] = {{"vocab_size", c_.vocab_size}};
    declare_params();
    build_prefill();
    return std::move(m_);
  }

 private:
  void param(const std::string& name, std::vector<Dim> shape) {
    m_.params.push_back(ir::Param{name, Type::tensor(dtype_, std::move(shape))});
  }
  void linear_param(const std::string& name, int64_t out, int64_t in) {
    param(name + ".weight", {Dim::constant(out), Dim::constant(in)});
    param(name + ".bias", {Dim::constant(out)});
  }
  void norm_param(const std::string& name) {
    param(name + ".weight", {H_});
    param(name + ".bias", {H_});
  }

  void declare_params() {
    const int64_t H = c_.hidden_size, I = c_.intermediate_size;
    param("embeddings.word_embeddings.weight", {Dim::sym("vocab_size"), H_});
    param("embeddings.position_embeddings.weight", {Dim::constant(c_.max_position_embeddings), H_});
    param("embeddings.token_type_embeddings.weight", {Dim::constant(c_.type_vocab_size), H_});
    norm_param("embeddings.LayerNorm");
    for (int64_t i = 0; i < c_.num_hidden_layers; ++i) {
      const std::string p = fmt::format("encoder.layer.{}.", i);
      linear_param(p + "attention.self.qkv", 3 * H, H);
      linear_param(p + "attention.output.dense", H, H);
      norm_param(p + "attention.output.LayerNorm");
      linear_param(p + "intermediate.dense", I, H);
      linear_param(p + "output.dense", H, I);
      norm_param(p + "output.LayerNorm");
    }
  }

  Operand linear(FunctionBuilder& b, Operand x, const std::string& name) {
    return b.op("linear", {x, b.param(name + ".weight"), b.param(name + ".bias")},
                {{"epilogue", {"bias"}}});
  }
  Operand norm(FunctionBuilder& b, Operand x, const std::string& name) {
    return b.op("layer_norm", {x, b.param(name + ".weight"), b.param(name + ".bias")},
                {{"eps", c_.layer_norm_eps}});
  }

  void build_prefill() {
    FunctionBuilder b(m_, "prefill");
    const Dim batch = Dim::sym("batch_size"), seq = Dim::sym("seq_len");
    Operand ids = b.arg("input_ids", Type::tensor(DType::kI32, {batch, seq}));
    Operand mask = b.arg("attention_mask", Type::tensor(DType::kI32, {batch, seq}));
    Operand types = b.arg("token_type_ids", Type::tensor(DType::kI32, {batch, seq}));
    // transformers: (words + token types) + positions, then the LayerNorm.
    Operand h =
        b.op("add", {b.op("take", {b.param("embeddings.word_embeddings.weight"), ids}),
                     b.op("take", {b.param("embeddings.token_type_embeddings.weight"), types})});
    h = b.op("add_positions", {h, b.param("embeddings.position_embeddings.weight")});
    h = norm(b, h, "embeddings.LayerNorm");
    const Json attn = {{"num_q_heads", c_.num_attention_heads},
                       {"num_kv_heads", c_.num_attention_heads},
                       {"head_dim", c_.head_dim},
                       {"sm_scale", 1.0 / std::sqrt(static_cast<double>(c_.head_dim))}};
    const Json gelu = {{"approximate", c_.hidden_act == "gelu" ? "none" : "tanh"}};
    for (int64_t i = 0; i < c_.num_hidden_layers; ++i) {
      const std::string p = fmt::format("encoder.layer.{}.", i);
      Operand a = b.op("encoder_attention", {linear(b, h, p + "attention.self.qkv"), mask}, attn);
      // Post-LN: the residual is added before each norm.
      h = norm(b, b.op("add", {linear(b, a, p + "attention.output.dense"), h}),
               p + "attention.output.LayerNorm");
      Operand up = b.op("gelu", {linear(b, h, p + "intermediate.dense")}, gelu);
      h = norm(b, b.op("add", {linear(b, up, p + "output.dense"), h}), p + "output.LayerNorm");
    }
    b.ret({h});
  }

  const BertConfig& c_;
  const Quantization& q_;
  DType dtype_ = DType::kF32;
  Dim H_;
  ir::Module m_;
};

}  // namespace

std::unique_ptr<BertConfig> BertConfig::from_dict(const Json& dict, const std::string& ctx) {
  if (!dict.is_object()) user_error("{}: the model config must be a JSON object", ctx);
  auto c = std::make_unique<BertConfig>();
  for (auto it = dict.begin(); it != dict.end(); ++it)
    if (!bert_keys().count(it.key())) c->kwargs[it.key()] = it.value();
  c->vocab_size = positive(dict, "vocab_size", ctx);
  c->hidden_size = positive(dict, "hidden_size", ctx);
  c->num_hidden_layers = positive(dict, "num_hidden_layers", ctx);
  c->num_attention_heads = positive(dict, "num_attention_heads", ctx);
  c->intermediate_size = positive(dict, "intermediate_size", ctx);
  c->hidden_act = dict.value("hidden_act", std::string("gelu"));
  if (c->hidden_act != "gelu" && c->hidden_act != "gelu_new" &&
      c->hidden_act != "gelu_pytorch_tanh")
    throw NotImplementedError(fmt::format(
        "{}: BERT with hidden_act '{}' is not built (gelu, gelu_new)", ctx, c->hidden_act));
  if (dict.value("position_embedding_type", std::string("absolute")) != "absolute")
    throw NotImplementedError(
        fmt::format("{}: BERT with position_embedding_type '{}' is not built (absolute)", ctx,
                    dict["position_embedding_type"].get<std::string>()));
  if (dict.contains("layer_norm_eps")) c->layer_norm_eps = json_number(dict, "layer_norm_eps", ctx);
  if (dict.contains("type_vocab_size")) c->type_vocab_size = positive(dict, "type_vocab_size", ctx);
  c->max_position_embeddings = dict.contains("max_position_embeddings")
                                   ? positive(dict, "max_position_embeddings", ctx)
                                   : 512;
  auto optional = [&](const char* key, int64_t fallback) {
    return dict.contains(key) && !dict[key].is_null() && json_int(dict, key, ctx) > 0
               ? json_int(dict, key, ctx)
               : fallback;
  };
  c->context_window_size_ = optional("context_window_size", c->max_position_embeddings);
  if (c->context_window_size_ > c->max_position_embeddings)
    user_error("{}: context_window_size {} is larger than BERT's {} learned positions", ctx,
               c->context_window_size_, c->max_position_embeddings);
  c->prefill_chunk_size_ =
      std::min(optional("prefill_chunk_size", c->context_window_size_), c->context_window_size_);
  c->head_dim = optional("head_dim", c->hidden_size / c->num_attention_heads);
  if (c->head_dim * c->num_attention_heads != c->hidden_size)
    user_error("{}: hidden_size {} is not num_attention_heads {} x head_dim {}", ctx,
               c->hidden_size, c->num_attention_heads, c->head_dim);
  c->tensor_parallel_shards_ = optional("tensor_parallel_shards", 1);
  c->max_batch_size_ = optional("max_batch_size", 8);
  return c;
}

Json BertConfig::asdict() const {
  return {{"vocab_size", vocab_size},
          {"hidden_size", hidden_size},
          {"num_hidden_layers", num_hidden_layers},
          {"num_attention_heads", num_attention_heads},
          {"intermediate_size", intermediate_size},
          {"hidden_act", hidden_act},
          {"layer_norm_eps", layer_norm_eps},
          {"context_window_size", context_window_size_},
          {"prefill_chunk_size", prefill_chunk_size_},
          {"head_dim", head_dim},
          {"tensor_parallel_shards", tensor_parallel_shards_},
          {"max_batch_size", max_batch_size_},
          {"type_vocab_size", type_vocab_size},
          {"max_position_embeddings", max_position_embeddings}};
}

ir::Module build_bert(const BertConfig& config, const Quantization& quantization) {
  return BertBuilder(config, quantization).build();
}

std::vector<std::string> bert_hf_sources(const std::string& mlc_param) {
  for (const char* kind : {".weight", ".bias"}) {
    const std::string fused = std::string("attention.self.qkv") + kind;
    if (ends_with(mlc_param, fused)) {
      const std::string p = mlc_param.substr(0, mlc_param.size() - fused.size());
      return {p + "attention.self.query" + kind, p + "attention.self.key" + kind,
              p + "attention.self.value" + kind};
    }
  }
  return {mlc_param};
}

bool bert_hf_ignored(const std::string& hf_name) {
  // The pooler (sentence embedders pool themselves), a task head (BertForMaskedLM's cls.*), and
  // the position-ids buffer.
  return starts_with(hf_name, "pooler.") || starts_with(hf_name, "cls.") ||
         ends_with(hf_name, "embeddings.position_ids");
}

}  // namespace llmcc
