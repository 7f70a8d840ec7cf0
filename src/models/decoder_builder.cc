#include "models/decoder_builder.h"

#include <algorithm>
#include <cmath>

#include "ir/rope.h"
#include "support/error.h"

namespace llmcc {

namespace {

using ir::Dim;
using ir::DType;
using ir::FunctionBuilder;
using ir::Operand;
using ir::Type;

DType model_dtype(const Quantization& q) {
  auto d = ir::dtype_from_mlc_name(q.model_dtype);
  if (!d) internal_error("quantization {} has unknown model dtype {}", q.name, q.model_dtype);
  return *d;
}

class DecoderBuilder {
 public:
  DecoderBuilder(const LlamaConfig& c, const Quantization& q, const DecoderSpec& spec)
      : c_(c), q_(q), spec_(spec), dtype_(model_dtype(q)) {
    H_ = Dim::constant(c.hidden_size);
  }

  ir::Module build() {
    m_.attrs["model_type"] = spec_.model_type;
    m_.attrs["quantization"] = q_.name;
    m_.attrs["model_config"] = c_.asdict();
    m_.attrs["symbol_values"] = {{"vocab_size", c_.vocab_size}};
    m_.attrs["kv_cache"] = {{"num_hidden_layers", c_.num_hidden_layers},
                            {"num_attention_heads", c_.num_attention_heads},
                            {"num_key_value_heads", c_.num_key_value_heads},
                            {"head_dim", c_.head_dim},
                            {"dtype", ir::dtype_mlc_name(dtype_)}};
    // Sliding layers mixed with full ones keep their own, window-sized KV pages (model_abi.h).
    Json local = Json::array();
    int64_t local_window = 0;
    for (int64_t i = 0; i < c_.num_hidden_layers; ++i)
      if (const int64_t w = layer_attention(i).sliding_window; w > 0) {
        local.push_back(i);
        local_window = std::max(local_window, w);
      }
    if (!local.empty() && static_cast<int64_t>(local.size()) < c_.num_hidden_layers) {
      m_.attrs["kv_cache"]["local_layers"] = local;
      m_.attrs["kv_cache"]["local_window"] = local_window;
    }
    declare_params();
    build_embed();
    build_get_logits();
    build_select_last();
    build_forward("prefill", /*batched=*/false, /*seq=*/true, /*logits=*/true, false);
    build_forward("decode", false, false, true, false);
    build_forward("batch_prefill", true, true, true, /*positions=*/true);
    build_forward("batch_decode", true, false, true, false);
    build_forward("batch_verify", true, true, true, false);
    build_forward("prefill_to_last_hidden_states", false, true, false, false);
    build_forward("decode_to_last_hidden_states", false, false, false, false);
    build_forward("batch_prefill_to_last_hidden_states", true, true, false, false);
    build_forward("batch_decode_to_last_hidden_states", true, false, false, false);
    build_forward("batch_verify_to_last_hidden_states", true, true, false, false);
    return std::move(m_);
  }

 private:
  void param(const std::string& name, std::vector<Dim> shape) {
    m_.params.push_back(ir::Param{name, Type::tensor(dtype_, std::move(shape))});
  }

  void declare_params() {
    const int64_t d = c_.head_dim, hq = c_.num_attention_heads, hkv = c_.num_key_value_heads;
    const int64_t I = c_.intermediate_size;
    Dim vocab = Dim::sym("vocab_size");
    param("model.embed_tokens.weight", {vocab, H_});
    for (int64_t i = 0; i < c_.num_hidden_layers; ++i) {
      std::string p = "model.layers." + std::to_string(i) + ".";
      param(p + "self_attn.qkv_proj.weight", {Dim::constant((hq + 2 * hkv) * d), H_});
      if (spec_.qkv_bias) param(p + "self_attn.qkv_proj.bias", {Dim::constant((hq + 2 * hkv) * d)});
      param(p + "self_attn.o_proj.weight", {H_, Dim::constant(hq * d)});
      if (spec_.qk_norm) {
        param(p + "self_attn.q_norm.weight", {Dim::constant(d)});
        param(p + "self_attn.k_norm.weight", {Dim::constant(d)});
      }
      param(p + "mlp.gate_up_proj.weight", {Dim::constant(2 * I), H_});
      param(p + "mlp.down_proj.weight", {H_, Dim::constant(I)});
      param(p + "input_layernorm.weight", {H_});
      param(p + "post_attention_layernorm.weight", {H_});
      if (spec_.sandwich_norms) {
        param(p + "pre_feedforward_layernorm.weight", {H_});
        param(p + "post_feedforward_layernorm.weight", {H_});
      }
    }
    param("model.norm.weight", {H_});
    if (!c_.tie_word_embeddings) param("lm_head.weight", {vocab, H_});
  }

  Json norm_attrs() const {
    Json a = {{"eps", c_.rms_norm_eps}};
    if (spec_.gemma_norms) a["round_before_weight"] = false;
    return a;
  }

  Operand norm(FunctionBuilder& b, Operand x, const std::string& weight) {
    return b.op("rms_norm", {x, b.param(weight)}, norm_attrs());
  }

  Operand logits(FunctionBuilder& b, Operand hidden) {
    std::string w = c_.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight";
    Operand out = b.op("linear", {hidden, b.param(w)}, {{"out_dtype", "f32"}});
    if (spec_.final_logit_softcap > 0)
      out = b.op("softcap", {out}, {{"cap", spec_.final_logit_softcap}});
    return out;
  }

  LayerAttention layer_attention(int64_t i) const {
    if (spec_.layer) return spec_.layer(i);
    return {std::max<int64_t>(c_.sliding_window_size_, 0), c_.position_embedding_base,
            c_.rope_scaling};
  }

  Operand mlp_activation(FunctionBuilder& b, Operand gate) {
    if (spec_.activation == "silu") return b.op("silu", {gate});
    if (spec_.activation == "gelu") return b.op("gelu", {gate}, {{"approximate", "none"}});
    if (spec_.activation == "gelu_tanh") return b.op("gelu", {gate}, {{"approximate", "tanh"}});
    internal_error("decoder: unknown activation '{}'", spec_.activation);
  }

  // The decoder stack over `h`, then the final norm.
  Operand decoder(FunctionBuilder& b, Operand h, Operand kv) {
    const int64_t I = c_.intermediate_size;
    for (int64_t i = 0; i < c_.num_hidden_layers; ++i) {
      std::string p = "model.layers." + std::to_string(i) + ".";
      Operand a = norm(b, h, p + "input_layernorm.weight");
      Operand qkv = spec_.qkv_bias ? b.op("linear",
                                          {a, b.param(p + "self_attn.qkv_proj.weight"),
                                           b.param(p + "self_attn.qkv_proj.bias")},
                                          {{"epilogue", {"bias"}}})
                                   : b.op("linear", {a, b.param(p + "self_attn.qkv_proj.weight")});
      if (spec_.qk_norm) {
        Json qk = norm_attrs();
        qk.update({{"num_q_heads", c_.num_attention_heads},
                   {"num_kv_heads", c_.num_key_value_heads},
                   {"head_dim", c_.head_dim}});
        qkv = b.op(
            "qk_rms_norm",
            {qkv, b.param(p + "self_attn.q_norm.weight"), b.param(p + "self_attn.k_norm.weight")},
            qk);
      }
      const LayerAttention la = layer_attention(i);
      const double sm_scale =
          spec_.sm_scale > 0 ? spec_.sm_scale : 1.0 / std::sqrt(static_cast<double>(c_.head_dim));
      Json attn = {{"layer", i},
                   {"num_q_heads", c_.num_attention_heads},
                   {"num_kv_heads", c_.num_key_value_heads},
                   {"head_dim", c_.head_dim},
                   {"sm_scale", sm_scale},
                   {"causal", true},
                   {"sliding_window", la.sliding_window},
                   {"logit_softcap", spec_.attn_logit_softcap},
                   {"rope", ir::make_rope_attr("rotate_half", c_.rotary_dim(), la.rope_theta,
                                               la.rope_scaling)}};
      Operand o = b.op("attention", {qkv, kv}, attn);
      Operand attn_out = b.op("linear", {o, b.param(p + "self_attn.o_proj.weight")});
      if (spec_.sandwich_norms) attn_out = norm(b, attn_out, p + "post_attention_layernorm.weight");
      h = b.op("add", {h, attn_out});
      Operand m = norm(b, h,
                       p + (spec_.sandwich_norms ? "pre_feedforward_layernorm.weight"
                                                 : "post_attention_layernorm.weight"));
      Operand gu = b.op("linear", {m, b.param(p + "mlp.gate_up_proj.weight")});
      Operand gate = b.op("slice_last", {gu}, {{"begin", 0}, {"end", I}});
      Operand up = b.op("slice_last", {gu}, {{"begin", I}, {"end", 2 * I}});
      Operand act = b.op("mul", {mlp_activation(b, gate), up});
      Operand mlp_out = b.op("linear", {act, b.param(p + "mlp.down_proj.weight")});
      if (spec_.sandwich_norms) mlp_out = norm(b, mlp_out, p + "post_feedforward_layernorm.weight");
      h = b.op("add", {h, mlp_out});
    }
    return norm(b, h, "model.norm.weight");
  }

  void build_embed() {
    FunctionBuilder b(m_, "embed");
    Operand ids = b.arg("input_ids", Type::tensor(DType::kI32, {Dim::sym("seq_len")}));
    Operand e = b.op("take", {b.param("model.embed_tokens.weight"), ids});
    if (spec_.embed_scale > 0) e = b.op("scale", {e}, {{"factor", spec_.embed_scale}});
    b.ret({e});
  }

  void build_get_logits() {
    FunctionBuilder b(m_, "get_logits");
    Operand h = b.arg("hidden_states", Type::tensor(dtype_, {Dim::sym("seq_len"), H_}));
    b.ret({logits(b, h)});
  }

  void build_select_last() {
    FunctionBuilder b(m_, "batch_select_last_hidden_states");
    Operand h = b.arg("hidden_states", Type::tensor(dtype_, {Dim::sym("seq_len"), H_}));
    Operand pos = b.arg("logit_positions", Type::tensor(DType::kI32, {Dim::sym("batch_size")}));
    b.ret({b.op("gather_rows", {h, pos})});
  }

  // batched: inputs come from several sequences (the KV cache says which rows belong to which).
  // seq: the input has seq_len rows per call rather than one token.
  void build_forward(const std::string& name, bool batched, bool seq, bool with_logits,
                     bool positions) {
    FunctionBuilder b(m_, name);
    Dim seq_len = Dim::sym("seq_len"), batch = Dim::sym("batch_size"), one = Dim::constant(1);
    std::vector<Dim> shape = !batched ? std::vector<Dim>{one, seq ? seq_len : one, H_}
                             : seq    ? std::vector<Dim>{one, seq_len, H_}
                                      : std::vector<Dim>{batch, one, H_};
    Operand x = b.arg(batched ? "input_embeds" : "input_embed", Type::tensor(dtype_, shape));
    Operand pos;
    if (positions)
      pos = b.arg("logit_positions", Type::tensor(DType::kI32, {Dim::sym("batch_size")}));
    Operand kv = b.arg("paged_kv_cache", Type::kv_cache());
    Operand h = decoder(b, x, kv);
    if (!with_logits) {
      b.ret({h});
      return;
    }
    if (positions)
      h = b.op("gather_rows", {h, pos});
    else if (!batched && seq)
      h = b.op("last_row", {h});
    b.ret({logits(b, h)});
  }

  const LlamaConfig& c_;
  const Quantization& q_;
  const DecoderSpec spec_;
  DType dtype_;
  Dim H_;
  ir::Module m_;
};

}  // namespace

ir::Module build_decoder(const LlamaConfig& config, const Quantization& quantization,
                         const DecoderSpec& spec) {
  return DecoderBuilder(config, quantization, spec).build();
}

}  // namespace llmcc
