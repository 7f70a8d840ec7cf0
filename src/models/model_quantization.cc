#include "models/model_quantization.h"

#include <map>
#include <set>

#include "support/error.h"
#include "support/strings.h"

namespace llmcc {

namespace {

std::string stem(const std::string& param) {
  return ends_with(param, ".weight") ? param.substr(0, param.size() - 7) : param;
}

// MLC's "final FC" names: never quantized by schemes that keep the head in full precision.
bool is_final_fc(const std::string& param) {
  std::string s = stem(param);
  for (const char* name : {"head", "lm_head", "lm_head.linear", "embed_out"})
    if (s == name) return true;
  return false;
}

struct Plan {
  bool quantize = false;
  bool transposed = false;  // KN layout
};

void group_quantize_module(ir::Module& m, const Quantization& q) {
  const int bits = group_quant_bits(q);
  const int G = q.group_size, E = 32 / bits;
  auto scale_dtype = ir::dtype_from_mlc_name(q.model_dtype);
  if (!scale_dtype) internal_error("scheme {} has model dtype {}", q.name, q.model_dtype);

  // Decide per param from how it is used: a take() makes it an embedding.
  std::map<int, Plan> plan;
  std::set<int> embeddings;
  for (const auto& f : m.functions)
    for (const auto& op : f.ops)
      if (op.name == "take" && op.operands[0].kind == ir::Operand::Kind::kParam)
        embeddings.insert(op.operands[0].index);
  for (const auto& f : m.functions)
    for (const auto& op : f.ops) {
      bool weight_use = (op.name == "linear" && op.operands[1].kind == ir::Operand::Kind::kParam) ||
                        (op.name == "take" && op.operands[0].kind == ir::Operand::Kind::kParam);
      if (!weight_use) continue;
      int p = op.name == "take" ? op.operands[0].index : op.operands[1].index;
      bool embedding = embeddings.count(p) > 0;
      bool head = is_final_fc(m.params[p].name);
      Plan& entry = plan[p];
      entry.quantize = (embedding || head) ? q.quantize_embedding : true;
      if (head && !q.quantize_final_fc) entry.quantize = false;
      // Only linear weights take the KN layout; embeddings (and a tied head) stay NK.
      entry.transposed = q.linear_weight_layout == "KN" && !embedding;
    }

  // New param list: X.weight is replaced in place by X.q_weight, X.q_scale.
  std::vector<ir::Param> params;
  std::vector<int> remap_weight(m.params.size(), -1), remap_scale(m.params.size(), -1);
  for (size_t i = 0; i < m.params.size(); ++i) {
    const ir::Param& p = m.params[i];
    auto it = plan.find(static_cast<int>(i));
    if (it == plan.end() || !it->second.quantize) {
      remap_weight[i] = static_cast<int>(params.size());
      params.push_back(p);
      continue;
    }
    if (p.type.shape.size() != 2) internal_error("cannot group-quantize {}: not 2-D", p.name);
    const ir::Dim N = p.type.shape[0];
    const int64_t K = p.type.shape[1].value;
    const int64_t groups = (K + G - 1) / G;
    ir::Dim words = ir::Dim::constant(groups * G / E), ngroups = ir::Dim::constant(groups);
    std::vector<ir::Dim> wshape = {N, words}, sshape = {N, ngroups};
    if (it->second.transposed) {
      wshape = {words, N};
      sshape = {ngroups, N};
    }
    m.attrs["quantized_layout"][stem(p.name)] = it->second.transposed ? "KN" : "NK";
    remap_weight[i] = static_cast<int>(params.size());
    params.push_back({stem(p.name) + ".q_weight", ir::Type::tensor(ir::DType::kU32, wshape)});
    remap_scale[i] = static_cast<int>(params.size());
    params.push_back({stem(p.name) + ".q_scale", ir::Type::tensor(*scale_dtype, sshape)});
  }

  for (auto& f : m.functions)
    for (auto& op : f.ops) {
      // Indices below are into the old param list until they are remapped.
      const int wi = op.name == "linear" ? 1 : op.name == "take" ? 0 : -1;
      const int old =
          wi >= 0 && op.operands[wi].kind == ir::Operand::Kind::kParam ? op.operands[wi].index : -1;
      const bool quantized = old >= 0 && remap_scale[old] >= 0;
      for (size_t i = 0; i < op.operands.size(); ++i) {
        ir::Operand& o = op.operands[i];
        if (o.kind != ir::Operand::Kind::kParam || (quantized && static_cast<int>(i) == wi))
          continue;
        if (remap_scale[o.index] >= 0)
          internal_error("{} reads quantized param {} other than as a weight", op.name,
                         m.params[o.index].name);
        o.index = remap_weight[o.index];
      }
      if (!quantized) continue;
      const int64_t K = m.params[old].type.shape[1].value;
      op.attrs["bits"] = bits;
      op.attrs["group_size"] = G;
      op.attrs["in_features"] = K;
      op.attrs["layout"] = plan[old].transposed ? "KN" : "NK";
      ir::Operand qw = ir::Operand::param(remap_weight[old]),
                  qs = ir::Operand::param(remap_scale[old]);
      if (op.name == "linear") {
        // The epilogue operands (bias, residual) follow the packed weight unchanged.
        std::vector<ir::Operand> ops = {op.operands[0], qw, qs};
        ops.insert(ops.end(), op.operands.begin() + 2, op.operands.end());
        op.name = "linear_q";
        op.operands = ops;
      } else {
        op.name = "take_q";
        op.operands = {qw, qs, op.operands[1]};
      }
    }
  m.params = std::move(params);
}

}  // namespace

int group_quant_bits(const Quantization& q) {
  if (q.weight_dtype == "int4") return 4;
  if (q.weight_dtype == "int3") return 3;
  if (q.weight_dtype == "int8") return 8;
  internal_error("{} is not a group scheme", q.name);
}

void quantize_module(ir::Module& m) {
  // A module that names no scheme (hand-written IR) has nothing to quantize.
  if (m.attrs.value("quantized", false) || !m.attrs.contains("quantization")) return;
  if (!m.attrs["quantization"].is_string())
    user_error("quantize: attrs.quantization must name a scheme, got {}",
               m.attrs["quantization"].dump());
  const Quantization& quantization = Quantization::from_name(m.attrs["quantization"]);
  quantization.require_implemented();
  if (quantization.kind == "group-quant")
    group_quantize_module(m, quantization);
  else if (quantization.kind != "no-quant")
    internal_error("quantization kind {} has no module transform", quantization.kind);
  m.attrs["quantized"] = true;
}

ir::Module build_quantized_model(const Model& model, const ModelConfig& config,
                                 const Quantization& quantization) {
  quantization.require_implemented();
  ir::Module m = model.build(config, quantization);
  quantize_module(m);
  return m;
}

}  // namespace llmcc
