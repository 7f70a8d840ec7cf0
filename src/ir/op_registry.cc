#include "ir/op_registry.h"

#include <fmt/format.h>

#include <functional>
#include <map>

#include "ir/rope.h"
#include "support/error.h"

namespace llmcc::ir {

namespace {

using Rule = std::function<Type(const std::vector<Type>&, const Json&)>;

[[noreturn]] void bad(const std::string& op, const std::string& why) {
  user_error("op '{}': {}", op, why);
}

void expect_arity(const std::string& op, const std::vector<Type>& t, size_t lo, size_t hi) {
  if (t.size() < lo || t.size() > hi)
    bad(op, fmt::format("expects {} operand(s), got {}",
                        lo == hi ? std::to_string(lo) : fmt::format("{}-{}", lo, hi), t.size()));
}

const Type& tensor(const std::string& op, const std::vector<Type>& t, size_t i, size_t min_rank) {
  if (!t[i].is_tensor()) bad(op, fmt::format("operand {} must be a tensor", i));
  if (t[i].shape.size() < min_rank)
    bad(op, fmt::format("operand {} must have rank >= {}, got {}", i, min_rank, t[i].str()));
  return t[i];
}

int64_t int_attr(const std::string& op, const Json& attrs, const char* key) {
  if (!attrs.contains(key) || !attrs[key].is_number_integer())
    bad(op, fmt::format("needs integer attribute '{}'", key));
  return attrs[key].get<int64_t>();
}

int64_t const_last(const std::string& op, const Type& t) {
  const Dim& d = t.shape.back();
  if (d.is_symbolic()) bad(op, "the last dimension must be a constant, got " + t.str());
  return d.value;
}

bool is_float(DType d) { return d == DType::kF32 || d == DType::kF16 || d == DType::kBF16; }

Type with_last(const Type& t, Dim d) {
  Type r = t;
  r.shape.back() = d;
  return r;
}

// Checks packed weights q_weight/q_scale against K = in_features and returns N.
Dim quantized_rows(const std::string& op, const Type& qw, const Type& qs, const Json& a,
                   const Dim& k) {
  int64_t bits = int_attr(op, a, "bits"), G = int_attr(op, a, "group_size");
  int64_t K = int_attr(op, a, "in_features");
  if (bits != 3 && bits != 4 && bits != 8) bad(op, "bits must be 3, 4 or 8");
  if (G <= 0 || G % (32 / bits) != 0) bad(op, "group_size must be a multiple of 32/bits");
  if (k.is_symbolic() || k.value != K)
    bad(op, fmt::format("in_features {} does not match the input's {}", K, k.str()));
  if (!qw.is_tensor() || qw.dtype != DType::kU32 || qw.shape.size() != 2)
    bad(op, "q_weight must be u32[*, *], got " + qw.str());
  if (!qs.is_tensor() || qs.shape.size() != 2) bad(op, "q_scale must be 2-D, got " + qs.str());
  const int64_t groups = (K + G - 1) / G, words = groups * G / (32 / bits);
  const bool kn = a.value("layout", "NK") == "KN";
  const Dim n = kn ? qw.shape[1] : qw.shape[0];
  const Dim w = kn ? qw.shape[0] : qw.shape[1];
  const Dim sn = kn ? qs.shape[1] : qs.shape[0];
  const Dim sg = kn ? qs.shape[0] : qs.shape[1];
  if (!(w == Dim::constant(words)) || !(sg == Dim::constant(groups)) || !(sn == n))
    bad(op, fmt::format("packed shapes {} and {} do not fit K={} in groups of {} ({})", qw.str(),
                        qs.str(), K, G, kn ? "KN" : "NK"));
  return n;
}

// Checks the operands after the weights (`first` on) against the epilogue attribute's names.
void check_epilogue(const std::string& op, const std::vector<Type>& t, size_t first, const Json& a,
                    const Type& result) {
  std::vector<std::string> names;
  if (a.contains("epilogue")) {
    if (!a["epilogue"].is_array()) bad(op, "attribute 'epilogue' must be a list of names");
    for (const Json& n : a["epilogue"]) {
      if (!n.is_string() || (n != "bias" && n != "residual"))
        bad(op, "epilogue operands are 'bias' and 'residual', got " + n.dump());
      names.push_back(n);
    }
    if (names.size() == 2 && names[0] != "bias")
      bad(op, "the epilogue order is bias, then residual");
    if (names.size() > 2 || (names.size() == 2 && names[0] == names[1]))
      bad(op, "each epilogue operand may appear once");
  }
  if (t.size() != first + names.size())
    bad(op, fmt::format("expects {} operand(s) ({} after the weights, named by 'epilogue'), got {}",
                        first + names.size(), names.size(), t.size()));
  for (size_t i = 0; i < names.size(); ++i) {
    const Type& e = tensor(op, t, first + i, 1);
    if (names[i] == "bias") {
      if (e.shape.size() != 1 || !(e.shape[0] == result.shape.back()) || e.dtype != result.dtype)
        bad(op, fmt::format("bias {} does not match result {}", e.str(), result.str()));
    } else if (!(e == result)) {
      bad(op, fmt::format("residual {} does not match result {}", e.str(), result.str()));
    }
  }
}

void check_eps(const std::string& op, const Json& a) {
  if (!a.contains("eps") || !a["eps"].is_number()) bad(op, "needs attribute 'eps'");
}

// RMSNorm's variant attributes (Gemma's (1 + w) in f32 against Llama's rounding).
void check_norm_variant(const std::string& op, const Json& a) {
  check_eps(op, a);
  if (a.contains("weight_offset") && !a["weight_offset"].is_number())
    bad(op, "weight_offset must be a number (Gemma: 1)");
  if (a.contains("round_before_weight") && !a["round_before_weight"].is_boolean())
    bad(op, "round_before_weight must be true or false");
}

void check_gelu_approximation(const std::string& op, const Json& a) {
  const Json& v = a.value("approximate", Json("none"));
  if (v != "none" && v != "tanh")
    bad(op, "approximate must be \"none\" or \"tanh\", got " + v.dump());
}

// The gated activations: [..., 2I] -> [..., I].
Type gated_type(const std::string& op, const std::vector<Type>& t) {
  expect_arity(op, t, 1, 1);
  const Type& x = tensor(op, t, 0, 1);
  int64_t n = const_last(op, x);
  if (n % 2) bad(op, "the last dimension must be even, got " + x.str());
  return with_last(x, Dim::constant(n / 2));
}

const std::map<std::string, Rule>& rules() {
  static const std::map<std::string, Rule> table = {
      {"take",
       [](const std::vector<Type>& t, const Json&) {
         expect_arity("take", t, 2, 2);
         const Type& table = tensor("take", t, 0, 2);
         const Type& ids = tensor("take", t, 1, 1);
         if (table.shape.size() != 2) bad("take", "table must be 2-D, got " + table.str());
         if (ids.dtype != DType::kI32) bad("take", "ids must be i32, got " + ids.str());
         Type r = Type::tensor(table.dtype, ids.shape);
         r.shape.push_back(table.shape[1]);
         return r;
       }},
      {"rms_norm",
       [](const std::vector<Type>& t, const Json& a) {
         expect_arity("rms_norm", t, 2, 2);
         const Type& x = tensor("rms_norm", t, 0, 1);
         const Type& w = tensor("rms_norm", t, 1, 1);
         if (w.shape.size() != 1 || !(w.shape[0] == x.shape.back()))
           bad("rms_norm", fmt::format("weight {} does not match input {}", w.str(), x.str()));
         check_norm_variant("rms_norm", a);
         return x;
       }},
      {"layer_norm",
       [](const std::vector<Type>& t, const Json& a) {
         expect_arity("layer_norm", t, 3, 3);
         const Type& x = tensor("layer_norm", t, 0, 1);
         for (size_t i = 1; i < 3; ++i) {
           const Type& p = tensor("layer_norm", t, i, 1);
           if (p.shape.size() != 1 || !(p.shape[0] == x.shape.back()) || p.dtype != x.dtype)
             bad("layer_norm", fmt::format("{} {} does not match input {}",
                                           i == 1 ? "weight" : "bias", p.str(), x.str()));
         }
         check_eps("layer_norm", a);
         return x;
       }},
      {"linear",
       [](const std::vector<Type>& t, const Json& a) {
         expect_arity("linear", t, 2, 4);
         const Type& x = tensor("linear", t, 0, 1);
         const Type& w = tensor("linear", t, 1, 2);
         if (w.shape.size() != 2 || !(w.shape[1] == x.shape.back()))
           bad("linear", fmt::format("weight {} does not match input {}", w.str(), x.str()));
         Type r = with_last(x, w.shape[0]);
         if (a.contains("out_dtype")) {
           auto d = dtype_from_short_name(a["out_dtype"].get<std::string>());
           if (!d || !is_float(*d)) bad("linear", "bad out_dtype " + a["out_dtype"].dump());
           r.dtype = *d;
         }
         check_epilogue("linear", t, 2, a, r);
         return r;
       }},
      {"linear_q",
       [](const std::vector<Type>& t, const Json& a) {
         expect_arity("linear_q", t, 3, 5);
         const Type& x = tensor("linear_q", t, 0, 1);
         const Dim n = quantized_rows("linear_q", t[1], t[2], a, x.shape.back());
         Type r = with_last(x, n);
         if (a.contains("out_dtype")) {
           auto d = dtype_from_short_name(a["out_dtype"].get<std::string>());
           if (!d || !is_float(*d)) bad("linear_q", "bad out_dtype " + a["out_dtype"].dump());
           r.dtype = *d;
         }
         check_epilogue("linear_q", t, 3, a, r);
         return r;
       }},
      {"take_q",
       [](const std::vector<Type>& t, const Json& a) {
         expect_arity("take_q", t, 3, 3);
         const Type& ids = tensor("take_q", t, 2, 1);
         if (ids.dtype != DType::kI32) bad("take_q", "ids must be i32, got " + ids.str());
         if (a.value("layout", "NK") != "NK") bad("take_q", "embeddings use the NK layout");
         int64_t K = int_attr("take_q", a, "in_features");
         quantized_rows("take_q", t[0], t[1], a, Dim::constant(K));
         Type r = Type::tensor(t[1].dtype, ids.shape);
         r.shape.push_back(Dim::constant(K));
         return r;
       }},
      {"add",
       [](const std::vector<Type>& t, const Json&) {
         expect_arity("add", t, 2, 2);
         if (!(tensor("add", t, 0, 1) == tensor("add", t, 1, 1)))
           bad("add", fmt::format("operand types differ: {} vs {}", t[0].str(), t[1].str()));
         return t[0];
       }},
      {"mul",
       [](const std::vector<Type>& t, const Json&) {
         expect_arity("mul", t, 2, 2);
         if (!(tensor("mul", t, 0, 1) == tensor("mul", t, 1, 1)))
           bad("mul", fmt::format("operand types differ: {} vs {}", t[0].str(), t[1].str()));
         return t[0];
       }},
      {"qk_rms_norm",
       [](const std::vector<Type>& t, const Json& a) {
         expect_arity("qk_rms_norm", t, 3, 3);
         const Type& x = tensor("qk_rms_norm", t, 0, 1);
         const int64_t hq = int_attr("qk_rms_norm", a, "num_q_heads"),
                       hkv = int_attr("qk_rms_norm", a, "num_kv_heads"),
                       d = int_attr("qk_rms_norm", a, "head_dim");
         if (hq <= 0 || hkv <= 0 || d <= 0)
           bad("qk_rms_norm", "head counts and head_dim must be > 0");
         if (const_last("qk_rms_norm", x) != (hq + 2 * hkv) * d)
           bad("qk_rms_norm", fmt::format("input {} is not a fused qkv of {}+2*{} heads of {}",
                                          x.str(), hq, hkv, d));
         for (size_t i = 1; i < 3; ++i) {
           const Type& w = tensor("qk_rms_norm", t, i, 1);
           if (w.shape.size() != 1 || !(w.shape[0] == Dim::constant(d)))
             bad("qk_rms_norm", fmt::format("weight {} must be [{}]", w.str(), d));
         }
         check_norm_variant("qk_rms_norm", a);
         return x;
       }},
      {"silu",
       [](const std::vector<Type>& t, const Json&) {
         expect_arity("silu", t, 1, 1);
         return tensor("silu", t, 0, 1);
       }},
      {"slice_last",
       [](const std::vector<Type>& t, const Json& a) {
         expect_arity("slice_last", t, 1, 1);
         const Type& x = tensor("slice_last", t, 0, 1);
         int64_t n = const_last("slice_last", x);
         int64_t b = int_attr("slice_last", a, "begin"), e = int_attr("slice_last", a, "end");
         if (b < 0 || e <= b || e > n)
           bad("slice_last", fmt::format("range [{}, {}) is outside [0, {})", b, e, n));
         return with_last(x, Dim::constant(e - b));
       }},
      {"gelu",
       [](const std::vector<Type>& t, const Json& a) {
         expect_arity("gelu", t, 1, 1);
         check_gelu_approximation("gelu", a);
         return tensor("gelu", t, 0, 1);
       }},
      {"scale",
       [](const std::vector<Type>& t, const Json& a) {
         expect_arity("scale", t, 1, 1);
         if (!a.contains("factor") || !a["factor"].is_number())
           bad("scale", "needs the number 'factor'");
         return tensor("scale", t, 0, 1);
       }},
      {"softcap",
       [](const std::vector<Type>& t, const Json& a) {
         expect_arity("softcap", t, 1, 1);
         if (!a.contains("cap") || !a["cap"].is_number() || a["cap"].get<double>() <= 0)
           bad("softcap", "needs a positive number 'cap'");
         return tensor("softcap", t, 0, 1);
       }},
      {"swiglu", [](const std::vector<Type>& t, const Json&) { return gated_type("swiglu", t); }},
      {"geglu",
       [](const std::vector<Type>& t, const Json& a) {
         check_gelu_approximation("geglu", a);
         return gated_type("geglu", t);
       }},
      {"attention",
       [](const std::vector<Type>& t, const Json& a) {
         expect_arity("attention", t, 2, 2);
         const Type& qkv = tensor("attention", t, 0, 1);
         if (t[1].kind != Type::Kind::kKVCache) bad("attention", "operand 1 must be the kv_cache");
         int64_t hq = int_attr("attention", a, "num_q_heads");
         int64_t hkv = int_attr("attention", a, "num_kv_heads");
         int64_t d = int_attr("attention", a, "head_dim");
         int_attr("attention", a, "layer");
         if (hq <= 0 || hkv <= 0 || d <= 0 || hq % hkv)
           bad("attention", "heads must be positive and num_q_heads a multiple of num_kv_heads");
         if (const_last("attention", qkv) != (hq + 2 * hkv) * d)
           bad("attention",
               fmt::format("qkv {} does not hold {}+2x{} heads of {}", qkv.str(), hq, hkv, d));
         if (!a.contains("sm_scale") || !a["sm_scale"].is_number())
           bad("attention", "needs the number 'sm_scale'");
         if (!a.contains("causal") || !a["causal"].is_boolean())
           bad("attention", "needs the boolean 'causal'");
         if (a.contains("sliding_window") &&
             (!a["sliding_window"].is_number_integer() || a["sliding_window"].get<int64_t>() < 0))
           bad("attention", "sliding_window must be a non-negative integer (0: none)");
         if (a.contains("logit_softcap") &&
             (!a["logit_softcap"].is_number() || a["logit_softcap"].get<double>() < 0))
           bad("attention", "logit_softcap must be a non-negative number (0: none)");
         const Json& order = a.value("qkv_order", Json("grouped"));
         if (order != "grouped" && order != "per_head")
           bad("attention", "qkv_order must be \"grouped\" or \"per_head\", got " + order.dump());
         if (order == "per_head" && hq != hkv)
           bad("attention", "qkv_order \"per_head\" needs num_kv_heads == num_q_heads");
         if (!a.contains("rope")) bad("attention", "needs the attribute 'rope'");
         verify_rope_attr("attention", a["rope"], d);
         return with_last(qkv, Dim::constant(hq * d));
       }},
      {"add_positions",
       [](const std::vector<Type>& t, const Json&) {
         // x + table[position]: positions from the KV cache (x, table, kv_cache) or, for an
         // encoder's padded batch, the index along the sequence axis (x, table).
         expect_arity("add_positions", t, 2, 3);
         const Type& x = tensor("add_positions", t, 0, 2);
         const Type& table = tensor("add_positions", t, 1, 2);
         if (table.shape.size() != 2 || !(table.shape[1] == x.shape.back()) ||
             table.dtype != x.dtype)
           bad("add_positions",
               fmt::format("table {} does not match input {}", table.str(), x.str()));
         if (t.size() == 3 && t[2].kind != Type::Kind::kKVCache)
           bad("add_positions", "operand 2 must be the kv_cache");
         if (t.size() == 2 && x.shape.size() != 3)
           bad("add_positions", "without a KV cache the input must be [batch, seq, hidden]");
         return x;
       }},
      {"encoder_attention",
       [](const std::vector<Type>& t, const Json& a) {
         expect_arity("encoder_attention", t, 2, 2);
         const Type& qkv = tensor("encoder_attention", t, 0, 3);
         const Type& mask = tensor("encoder_attention", t, 1, 2);
         if (qkv.shape.size() != 3) bad("encoder_attention", "qkv must be [batch, seq, width]");
         if (mask.dtype != DType::kI32 || mask.shape.size() != 2 ||
             !(mask.shape[0] == qkv.shape[0]) || !(mask.shape[1] == qkv.shape[1]))
           bad("encoder_attention",
               fmt::format("mask {} must be i32[batch, seq] of qkv {}", mask.str(), qkv.str()));
         const int64_t hq = int_attr("encoder_attention", a, "num_q_heads");
         const int64_t hkv = int_attr("encoder_attention", a, "num_kv_heads");
         const int64_t d = int_attr("encoder_attention", a, "head_dim");
         if (hq <= 0 || hkv <= 0 || d <= 0 || hq % hkv)
           bad("encoder_attention",
               "heads must be positive and num_q_heads a multiple of num_kv_heads");
         if (const_last("encoder_attention", qkv) != (hq + 2 * hkv) * d)
           bad("encoder_attention",
               fmt::format("qkv {} does not hold {}+2x{} heads of {}", qkv.str(), hq, hkv, d));
         if (!a.contains("sm_scale") || !a["sm_scale"].is_number())
           bad("encoder_attention", "needs the number 'sm_scale'");
         return with_last(qkv, Dim::constant(hq * d));
       }},
      {"gather_rows",
       [](const std::vector<Type>& t, const Json&) {
         expect_arity("gather_rows", t, 2, 2);
         const Type& x = tensor("gather_rows", t, 0, 2);
         const Type& idx = tensor("gather_rows", t, 1, 1);
         if (idx.dtype != DType::kI32 || idx.shape.size() != 1)
           bad("gather_rows", "indices must be i32[n], got " + idx.str());
         Type r = x;
         r.shape[r.shape.size() - 2] = idx.shape[0];
         return r;
       }},
      {"last_row",
       [](const std::vector<Type>& t, const Json&) {
         expect_arity("last_row", t, 1, 1);
         Type r = tensor("last_row", t, 0, 2);
         r.shape[r.shape.size() - 2] = Dim::constant(1);
         return r;
       }},
      {"cast",
       [](const std::vector<Type>& t, const Json& a) {
         expect_arity("cast", t, 1, 1);
         Type r = tensor("cast", t, 0, 1);
         auto d = a.contains("dtype") ? dtype_from_short_name(a["dtype"].get<std::string>())
                                      : std::nullopt;
         if (!d) bad("cast", "needs attribute 'dtype'");
         r.dtype = *d;
         return r;
       }},
  };
  return table;
}

}  // namespace

int epilogue_operand(const std::string& op_name, const Json& attrs, const std::string& name) {
  const int first = op_name == "linear" ? 2 : op_name == "linear_q" ? 3 : -1;
  if (first < 0 || !attrs.contains("epilogue")) return -1;
  const Json& names = attrs["epilogue"];
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return first + static_cast<int>(i);
  return -1;
}

bool is_known_op(const std::string& name) { return rules().count(name) > 0; }

Type infer_op_type(const std::string& name, const std::vector<Type>& operands, const Json& attrs) {
  auto it = rules().find(name);
  if (it == rules().end()) user_error("unknown op '{}'", name);
  return it->second(operands, attrs);
}

bool is_elementwise_op(const std::string& name) {
  return name == "add" || name == "mul" || name == "silu" || name == "gelu" || name == "scale" ||
         name == "softcap" || name == "cast";
}

}  // namespace llmcc::ir
