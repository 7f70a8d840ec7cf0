#include "models/decoder_builder.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "ir/rope.h"
#include "models/model.h"
#include "support/error.h"

namespace llmcc {

namespace {

using ir::Dim;
using ir::DType;
using ir::FunctionBuilder;
using ir::Operand;
using ir::Type;

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

  std::string layer_prefix(int64_t i) const {
    return fmt::format(fmt::runtime(spec_.names.layer), i);
  }

  // A linear's weight [out, in], and its bias when `bias`.
  void linear_param(const std::string& name, int64_t out, Dim in, bool bias) {
    param(name + ".weight", {Dim::constant(out), in});
    if (bias) param(name + ".bias", {Dim::constant(out)});
  }

  // A norm's weight, and LayerNorm's bias.
  void norm_param(const std::string& name) {
    param(name + ".weight", {H_});
    if (spec_.layer_norm) param(name + ".bias", {H_});
  }

  void declare_params() {
    const DecoderNames& n = spec_.names;
    const int64_t d = c_.head_dim, hq = c_.num_attention_heads, hkv = c_.num_key_value_heads;
    const int64_t I = c_.intermediate_size;
    Dim vocab = Dim::sym("vocab_size");
    param(n.embed, {vocab, H_});
    if (!n.positions.empty()) param(n.positions, {Dim::constant(spec_.num_positions), H_});
    for (int64_t i = 0; i < c_.num_hidden_layers; ++i) {
      const std::string p = layer_prefix(i);
      const bool b = spec_.linear_bias;
      linear_param(p + n.qkv, (hq + 2 * hkv) * d, H_, b || spec_.qkv_bias);
      linear_param(p + n.out, c_.hidden_size, Dim::constant(hq * d), b);
      if (spec_.qk_norm) {
        param(p + "self_attn.q_norm.weight", {Dim::constant(d)});
        param(p + "self_attn.k_norm.weight", {Dim::constant(d)});
      }
      linear_param(p + n.up, spec_.gated_mlp ? 2 * I : I, H_, b);
      linear_param(p + n.down, c_.hidden_size, Dim::constant(I), b);
      norm_param(p + n.norm1);
      norm_param(p + n.norm2);
      if (spec_.sandwich_norms) {
        param(p + "pre_feedforward_layernorm.weight", {H_});
        param(p + "post_feedforward_layernorm.weight", {H_});
      }
    }
    norm_param(n.final_norm);
    if (!c_.tie_word_embeddings) param(n.head, {vocab, H_});
  }

  Json norm_attrs() const {
    Json a = {{"eps", c_.rms_norm_eps}};
    if (spec_.gemma_norms) a["round_before_weight"] = false;
    return a;
  }

  // `name` is the norm's weight; LayerNorm's bias is its sibling.
  Operand norm(FunctionBuilder& b, Operand x, const std::string& weight) {
    if (spec_.layer_norm) {
      const std::string base = weight.substr(0, weight.size() - std::string(".weight").size());
      return b.op("layer_norm", {x, b.param(weight), b.param(base + ".bias")},
                  {{"eps", c_.rms_norm_eps}});
    }
    return b.op("rms_norm", {x, b.param(weight)}, norm_attrs());
  }

  // x W^T, plus the bias when `bias`.
  Operand linear(FunctionBuilder& b, Operand x, const std::string& name, bool bias) {
    if (!bias) return b.op("linear", {x, b.param(name + ".weight")});
    return b.op("linear", {x, b.param(name + ".weight"), b.param(name + ".bias")},
                {{"epilogue", {"bias"}}});
  }

  Operand logits(FunctionBuilder& b, Operand hidden) {
    std::string w = c_.tie_word_embeddings ? spec_.names.embed : spec_.names.head;
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
    const DecoderNames& n = spec_.names;
    if (!n.positions.empty()) h = b.op("add_positions", {h, b.param(n.positions), kv});
    for (int64_t i = 0; i < c_.num_hidden_layers; ++i) {
      const std::string p = layer_prefix(i);
      Operand a = norm(b, h, p + n.norm1 + ".weight");
      Operand qkv = linear(b, a, p + n.qkv, spec_.linear_bias || spec_.qkv_bias);
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
                   {"rope", spec_.rope ? ir::make_rope_attr("rotate_half", c_.rotary_dim(),
                                                            la.rope_theta, la.rope_scaling)
                                       : ir::make_rope_attr("none", 0, 0, Json())}};
      if (spec_.qkv_order != "grouped") attn["qkv_order"] = spec_.qkv_order;
      Operand o = b.op("attention", {qkv, kv}, attn);
      Operand attn_out = linear(b, o, p + n.out, spec_.linear_bias);
      if (spec_.sandwich_norms) attn_out = norm(b, attn_out, p + "post_attention_layernorm.weight");
      if (spec_.parallel_residual) {
        // transformers adds mlp_output + attn_output first, then the residual.
        Operand mlp_out = mlp(b, norm(b, h, p + n.norm2 + ".weight"), p);
        h = b.op("add", {h, b.op("add", {mlp_out, attn_out})});
        continue;
      }
      h = b.op("add", {h, attn_out});
      Operand m = norm(
          b, h, p + (spec_.sandwich_norms ? "pre_feedforward_layernorm" : n.norm2) + ".weight");
      Operand mlp_out = mlp(b, m, p);
      if (spec_.sandwich_norms) mlp_out = norm(b, mlp_out, p + "post_feedforward_layernorm.weight");
      h = b.op("add", {h, mlp_out});
    }
    return norm(b, h, n.final_norm + ".weight");
  }

  // The MLP of layer prefix `p` on its normed input: gated (act(gate) * up) or plain (act(up)).
  Operand mlp(FunctionBuilder& b, Operand x, const std::string& p) {
    const int64_t I = c_.intermediate_size;
    Operand act;
    Operand up = linear(b, x, p + spec_.names.up, spec_.linear_bias);
    if (spec_.gated_mlp) {
      Operand gate = b.op("slice_last", {up}, {{"begin", 0}, {"end", I}});
      Operand u = b.op("slice_last", {up}, {{"begin", I}, {"end", 2 * I}});
      act = b.op("mul", {mlp_activation(b, gate), u});
    } else {
      act = mlp_activation(b, up);
    }
    return linear(b, act, p + spec_.names.down, spec_.linear_bias);
  }

  void build_embed() {
    FunctionBuilder b(m_, "embed");
    Operand ids = b.arg("input_ids", Type::tensor(DType::kI32, {Dim::sym("seq_len")}));
    Operand e = b.op("take", {b.param(spec_.names.embed), ids});
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
