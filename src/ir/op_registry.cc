#include "ir/op_registry.h"

#include <fmt/format.h>

#include <functional>
#include <map>

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
         if (!a.contains("eps") || !a["eps"].is_number()) bad("rms_norm", "needs attribute 'eps'");
         return x;
       }},
      {"linear",
       [](const std::vector<Type>& t, const Json& a) {
         expect_arity("linear", t, 2, 3);
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
         if (t.size() == 3 && !(tensor("linear", t, 2, 1) == r))
           bad("linear", fmt::format("residual {} does not match result {}", t[2].str(), r.str()));
         return r;
       }},
      {"linear_q",
       [](const std::vector<Type>& t, const Json& a) {
         expect_arity("linear_q", t, 3, 4);
         const Type& x = tensor("linear_q", t, 0, 1);
         const Dim n = quantized_rows("linear_q", t[1], t[2], a, x.shape.back());
         Type r = with_last(x, n);
         if (a.contains("out_dtype")) {
           auto d = dtype_from_short_name(a["out_dtype"].get<std::string>());
           if (!d || !is_float(*d)) bad("linear_q", "bad out_dtype " + a["out_dtype"].dump());
           r.dtype = *d;
         }
         if (t.size() == 4 && !(tensor("linear_q", t, 3, 1) == r))
           bad("linear_q",
               fmt::format("residual {} does not match result {}", t[3].str(), r.str()));
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
      {"swiglu",
       [](const std::vector<Type>& t, const Json&) {
         expect_arity("swiglu", t, 1, 1);
         const Type& x = tensor("swiglu", t, 0, 1);
         int64_t n = const_last("swiglu", x);
         if (n % 2) bad("swiglu", "the last dimension must be even, got " + x.str());
         return with_last(x, Dim::constant(n / 2));
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
         if (!a.contains("rope_theta") || !a.contains("sm_scale"))
           bad("attention", "needs attributes 'rope_theta' and 'sm_scale'");
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

bool is_known_op(const std::string& name) { return rules().count(name) > 0; }

Type infer_op_type(const std::string& name, const std::vector<Type>& operands, const Json& attrs) {
  auto it = rules().find(name);
  if (it == rules().end()) user_error("unknown op '{}'", name);
  return it->second(operands, attrs);
}

bool is_elementwise_op(const std::string& name) {
  return name == "add" || name == "mul" || name == "silu" || name == "cast";
}

}  // namespace llmcc::ir
