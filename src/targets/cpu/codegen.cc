#include "targets/cpu/codegen.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "ir/op_registry.h"
#include "ir/rope.h"
#include "ir/verifier.h"
#include "support/error.h"
#include "targets/cpu/kernel_selection.h"

namespace llmcc::cpu {

namespace {

// The KV cache's layer groups (model_abi.h): the sliding layers that live in kv->local, when the
// model mixes them with full-attention layers, and the window they keep.
struct KvGroups {
  std::vector<int64_t> local;
  int64_t local_window = 0;
  int64_t full_layers = 0;
};

KvGroups kv_groups(const Json& kvc) {
  KvGroups g;
  if (kvc.contains("local_layers")) g.local = kvc["local_layers"].get<std::vector<int64_t>>();
  g.local_window = kvc.value("local_window", int64_t{0});
  g.full_layers = kvc["num_hidden_layers"].get<int64_t>() - static_cast<int64_t>(g.local.size());
  if (!g.local.empty() && (g.local_window <= 0 || g.full_layers <= 0))
    internal_error("kv_cache: local_layers need a local_window and some full-attention layers");
  return g;
}

using ir::DType;
using ir::Operand;
using ir::Type;

const char* c_type(DType d) {
  switch (d) {
    case DType::kF32:
      return "float";
    case DType::kF16:
      return "half";
    case DType::kBF16:
      return "bfloat16";
    case DType::kI32:
      return "int32_t";
    case DType::kU32:
      return "uint32_t";
  }
  return "void";
}

const char* abi_dtype(DType d) {
  switch (d) {
    case DType::kF32:
      return "LLMCC_FLOAT32";
    case DType::kF16:
      return "LLMCC_FLOAT16";
    case DType::kBF16:
      return "LLMCC_BFLOAT16";
    case DType::kI32:
      return "LLMCC_INT32";
    case DType::kU32:
      return "LLMCC_UINT32";
  }
  return "";
}

// A raw string literal delimiter that cannot clash with JSON content.
std::string raw_string(const std::string& s) { return "R\"llmcc_json(" + s + ")llmcc_json\""; }

// Constant arrays the functions share (RoPE frequencies), each emitted once at namespace scope.
class ConstantPool {
 public:
  // The name of a `const float[]` holding `values`, exact to the bit.
  std::string float_array(const std::vector<float>& values) {
    std::string init;
    for (float v : values) init += fmt::format("{}{:a}f", init.empty() ? "" : ", ", v);
    auto it = names_.find(init);
    if (it != names_.end()) return it->second;
    const std::string name = fmt::format("kConstant{}", names_.size());
    names_[init] = name;
    definitions_ += fmt::format("const float {}[] = {{{}}};\n", name, init);
    return name;
  }
  const std::string& definitions() const { return definitions_; }

 private:
  std::map<std::string, std::string> names_;
  std::string definitions_;
};

class FunctionEmitter {
 public:
  FunctionEmitter(const ir::Module& m, const ir::Function& f, ConstantPool& constants)
      : m_(m), f_(f), constants_(constants) {}

  std::string emit() {
    out_ += fmt::format(
        "int32_t fn_{}(const llmcc_tensor* in, int32_t num_in, llmcc_tensor* out, int32_t "
        "num_out,\n"
        "              llmcc_kv_cache* kv, const void* const* params, void* workspace) {{\n",
        f_.name);
    out_ += "  (void)kv; (void)params; (void)workspace;\n";
    out_ += "  char* ws = static_cast<char*>(workspace);\n  (void)ws;\n";
    int tensor_args = 0;
    for (int a : f_.args) tensor_args += f_.values[a].type.is_tensor();
    line(
        "if (num_in != {} || num_out != {}) return fail(\"{}: expects {} inputs and {} outputs, "
        "got %d and %d\", num_in, num_out);",
        tensor_args, f_.results.size(), f_.name, tensor_args, f_.results.size());
    declare_symbols();
    int input = 0;
    for (int a : f_.args) {
      const Type& t = f_.values[a].type;
      if (!t.is_tensor()) continue;
      names_[a] = fmt::format("static_cast<const {}*>(in[{}].data)", c_type(t.dtype), input);
      bind(fmt::format("in[{}]", input), t, f_.values[a].name);
      ++input;
    }
    for (size_t j = 0; j < f_.results.size(); ++j) {
      const Type& t = f_.values[f_.results[j]].type;
      names_[f_.results[j]] = fmt::format("static_cast<{}*>(out[{}].data)", c_type(t.dtype), j);
      bind(fmt::format("out[{}]", j), t, fmt::format("output {}", j));
    }
    for (const auto& op : f_.ops) emit_op(op);
    out_ += "  return 0;\n}\n\n";
    return out_;
  }

 private:
  template <typename... Args>
  void line(fmt::format_string<Args...> format, Args&&... args) {
    out_ += "  " + fmt::format(format, std::forward<Args>(args)...) + "\n";
  }

  void declare_symbols() {
    std::map<std::string, bool> seen;
    auto visit = [&](const Type& t) {
      for (const auto& d : t.shape)
        if (d.is_symbolic() && !seen.count(d.symbol) && !is_module_constant(d.symbol)) {
          seen[d.symbol] = true;
          line("int64_t {} = -1;", d.symbol);
        }
    };
    for (int a : f_.args) visit(f_.values[a].type);
    for (int r : f_.results) visit(f_.values[r].type);
    for (const auto& op : f_.ops) visit(f_.values[op.result].type);
  }

  bool is_module_constant(const std::string& s) const {
    return m_.attrs.contains("symbol_values") && m_.attrs["symbol_values"].contains(s) &&
           !(f_.attrs.contains("tir_var_upper_bound") &&
             f_.attrs["tir_var_upper_bound"].contains(s));
  }

  std::string dim_expr(const ir::Dim& d) const {
    if (!d.is_symbolic()) return std::to_string(d.value);
    if (is_module_constant(d.symbol))
      return std::to_string(m_.attrs["symbol_values"][d.symbol].get<int64_t>());
    return d.symbol;
  }

  void bind(const std::string& tensor, const Type& t, const std::string& what) {
    std::string dims;
    for (const auto& d : t.shape) {
      if (!dims.empty()) dims += ", ";
      if (d.is_symbolic() && !is_module_constant(d.symbol))
        dims += fmt::format("{{0, &{}, {}, \"{}\"}}", d.symbol,
                            ir::symbol_upper_bound(m_, f_, d.symbol), d.symbol);
      else
        dims += fmt::format("{{{}, nullptr, -1, \"\"}}", dim_expr(d));
    }
    line("if (bind_tensor({}, {}, {{{}}}, \"{}\", \"{}\")) return 1;", tensor, abi_dtype(t.dtype),
         dims, f_.name, what);
  }

  // Rows = product of every dimension but the last.
  std::string rows_expr(const Type& t) const {
    std::string e;
    for (size_t i = 0; i + 1 < t.shape.size(); ++i)
      e += (e.empty() ? "" : " * ") + dim_expr(t.shape[i]);
    return e.empty() ? "1" : "(" + e + ")";
  }

  std::string numel_expr(const Type& t) const {
    return "(" + rows_expr(t) + " * " + dim_expr(t.shape.back()) + ")";
  }

  const Type& type(const Operand& o) const { return f_.type_of(o, m_); }

  std::string ref(const Operand& o) const {
    if (o.kind == Operand::Kind::kParam)
      return fmt::format("static_cast<const {}*>(params[{}])", c_type(type(o).dtype), o.index);
    auto it = names_.find(o.index);
    if (it == names_.end()) internal_error("codegen: value used before definition in {}", f_.name);
    return it->second;
  }

  void emit_op(const ir::Op& op) {
    const Type& rt = f_.values[op.result].type;
    if (!names_.count(op.result)) {
      if (!op.attrs.contains("ws_offset"))
        internal_error("codegen: {} in {} has no workspace offset; run plan_memory", op.name,
                       f_.name);
      names_[op.result] = fmt::format("reinterpret_cast<{}*>(ws + {})", c_type(rt.dtype),
                                      op.attrs["ws_offset"].get<int64_t>());
    }
    auto it = lowerings().find(op.name);
    if (it == lowerings().end())
      internal_error("the CPU target has no lowering for op '{}'", op.name);
    (this->*(it->second))(op, names_[op.result]);
  }

  // One member per op: each writes the kernel call for `op` with result pointer `y`.
  using Lowering = void (FunctionEmitter::*)(const ir::Op&, const std::string&);
  static const std::map<std::string, Lowering>& lowerings() {
    static const std::map<std::string, Lowering> table = {
        {"take", &FunctionEmitter::emit_take},
        {"take_q", &FunctionEmitter::emit_take_q},
        {"rms_norm", &FunctionEmitter::emit_rms_norm},
        {"qk_rms_norm", &FunctionEmitter::emit_qk_rms_norm},
        {"layer_norm", &FunctionEmitter::emit_layer_norm},
        {"linear", &FunctionEmitter::emit_linear},
        {"linear_q", &FunctionEmitter::emit_linear},
        {"add", &FunctionEmitter::emit_binary},
        {"mul", &FunctionEmitter::emit_binary},
        {"silu", &FunctionEmitter::emit_unary},
        {"cast", &FunctionEmitter::emit_unary},
        {"gelu", &FunctionEmitter::emit_gelu},
        {"scale", &FunctionEmitter::emit_scale},
        {"softcap", &FunctionEmitter::emit_softcap},
        {"slice_last", &FunctionEmitter::emit_slice_last},
        {"swiglu", &FunctionEmitter::emit_gated},
        {"geglu", &FunctionEmitter::emit_gated},
        {"attention", &FunctionEmitter::emit_attention},
        {"encoder_attention", &FunctionEmitter::emit_encoder_attention},
        {"add_positions", &FunctionEmitter::emit_add_positions},
        {"gather_rows", &FunctionEmitter::emit_gather},
        {"last_row", &FunctionEmitter::emit_gather},
    };
    return table;
  }

  std::string arg(const ir::Op& op, size_t i) const { return ref(op.operands[i]); }
  const Type& result_type(const ir::Op& op) const { return f_.values[op.result].type; }
  static std::string float_literal(double v) { return fmt::format("{:a}f", static_cast<float>(v)); }

  void emit_take(const ir::Op& op, const std::string& y) {
    const Type& table = type(op.operands[0]);
    line("if (take({}, {}, {}, {}, {}, {})) return 1;", arg(op, 0), arg(op, 1), y,
         numel_expr(type(op.operands[1])), dim_expr(table.shape[1]), dim_expr(table.shape[0]));
  }

  void emit_take_q(const ir::Op& op, const std::string& y) {
    line("if (take_q<{}, {}>({}, {}, {}, {}, {}, {}, {})) return 1;", op.attrs["bits"].get<int>(),
         op.attrs["group_size"].get<int>(), arg(op, 0), arg(op, 1), arg(op, 2), y,
         numel_expr(type(op.operands[2])), dim_expr(result_type(op).shape.back()),
         dim_expr(type(op.operands[0]).shape[0]));
  }

  // eps, then the variant: Gemma's (1 + w) without the intermediate rounding.
  static std::string norm_args(const ir::Op& op) {
    return fmt::format("{}, {}, {}", float_literal(op.attrs["eps"].get<double>()),
                       float_literal(op.attrs.value("weight_offset", 0.0)),
                       op.attrs.value("round_before_weight", true) ? "true" : "false");
  }

  void emit_rms_norm(const ir::Op& op, const std::string& y) {
    const Type& rt = result_type(op);
    line("rms_norm({}, {}, {}, {}, {}, {});", arg(op, 0), arg(op, 1), y, rows_expr(rt),
         dim_expr(rt.shape.back()), norm_args(op));
  }

  void emit_qk_rms_norm(const ir::Op& op, const std::string& y) {
    line("qk_rms_norm({}, {}, {}, {}, {}, {}, {}, {}, {});", arg(op, 0), arg(op, 1), arg(op, 2), y,
         rows_expr(result_type(op)), op.attrs["num_q_heads"].get<int64_t>(),
         op.attrs["num_kv_heads"].get<int64_t>(), op.attrs["head_dim"].get<int64_t>(),
         norm_args(op));
  }

  void emit_layer_norm(const ir::Op& op, const std::string& y) {
    const Type& rt = result_type(op);
    line("layer_norm({}, {}, {}, {}, {}, {}, {});", arg(op, 0), arg(op, 1), arg(op, 2), y,
         rows_expr(rt), dim_expr(rt.shape.back()), float_literal(op.attrs["eps"].get<double>()));
  }

  void emit_linear(const ir::Op& op, const std::string& y) {
    const Type& rt = result_type(op);
    const std::string& n = op.name;
    // Epilogue operands by name; an absent one is a typed null pointer.
    auto epilogue = [&](const char* name) {
      int i = ir::epilogue_operand(n, op.attrs, name);
      return i >= 0 ? arg(op, i) : fmt::format("static_cast<const {}*>(nullptr)", c_type(rt.dtype));
    };
    const std::string bias = epilogue("bias"), residual = epilogue("residual");
    if (n == "linear") {
      const Type& w = type(op.operands[1]);
      line("linear({}, {}, {}, {}, {}, {}, {}, {});", arg(op, 0), arg(op, 1), residual, y,
           rows_expr(rt), dim_expr(w.shape[0]), dim_expr(w.shape[1]), bias);
    } else if (const auto* tiled = tiled_int4_kernel(op.attrs.value("kernel", ""))) {
      const Type& x = type(op.operands[0]);
      line("{}({}, reinterpret_cast<const uint8_t*>({}), {}, {}, {}, {}, {}, {});", tiled->function,
           arg(op, 0), arg(op, 1), residual, y, rows_expr(rt), dim_expr(rt.shape.back()),
           dim_expr(x.shape.back()), bias);
    } else {
      const Type& x = type(op.operands[0]);
      line("linear_q<{}, {}>({}, {}, {}, {}, {}, {}, {}, {}, {}, {});", op.attrs["bits"].get<int>(),
           op.attrs["group_size"].get<int>(), arg(op, 0), arg(op, 1), arg(op, 2), residual, y,
           rows_expr(rt), dim_expr(rt.shape.back()), dim_expr(x.shape.back()),
           op.attrs.value("layout", "NK") == "KN" ? "true" : "false", bias);
    }
  }

  void emit_binary(const ir::Op& op, const std::string& y) {
    line("{}({}, {}, {}, {});", op.name, arg(op, 0), arg(op, 1), y, numel_expr(result_type(op)));
  }

  void emit_unary(const ir::Op& op, const std::string& y) {
    line("{}({}, {}, {});", op.name, arg(op, 0), y, numel_expr(result_type(op)));
  }

  static const char* gelu_kind(const ir::Op& op) {
    return op.attrs.value("approximate", "none") == "tanh" ? "Activation::kGeluTanh"
                                                           : "Activation::kGelu";
  }

  void emit_gelu(const ir::Op& op, const std::string& y) {
    line("activation({}, {}, {}, {});", gelu_kind(op), arg(op, 0), y, numel_expr(result_type(op)));
  }

  void emit_scale(const ir::Op& op, const std::string& y) {
    line("scale({}, {}, {}, {});", arg(op, 0), y, numel_expr(result_type(op)),
         float_literal(op.attrs["factor"].get<double>()));
  }

  void emit_softcap(const ir::Op& op, const std::string& y) {
    line("softcap({}, {}, {}, {});", arg(op, 0), y, numel_expr(result_type(op)),
         float_literal(op.attrs["cap"].get<double>()));
  }

  void emit_slice_last(const ir::Op& op, const std::string& y) {
    line("slice_last({}, {}, {}, {}, {}, {});", arg(op, 0), y, rows_expr(result_type(op)),
         dim_expr(type(op.operands[0]).shape.back()), op.attrs["begin"].get<int64_t>(),
         op.attrs["end"].get<int64_t>());
  }

  void emit_gated(const ir::Op& op, const std::string& y) {
    const Type& rt = result_type(op);
    line("gated_activation({}, {}, {}, {}, {});",
         op.name == "swiglu" ? "Activation::kSilu" : gelu_kind(op), arg(op, 0), y, rows_expr(rt),
         dim_expr(rt.shape.back()));
  }

  void emit_gather(const ir::Op& op, const std::string& y) {
    const Type& x = type(op.operands[0]);
    std::string outer;
    for (size_t i = 0; i + 2 < x.shape.size(); ++i)
      outer += (outer.empty() ? "" : " * ") + dim_expr(x.shape[i]);
    if (outer.empty()) outer = "1";
    std::string rows_in = dim_expr(x.shape[x.shape.size() - 2]);
    if (op.name == "gather_rows") {
      line("if (gather_rows({}, {}, {}, {}, {}, {}, {})) return 1;", arg(op, 0), arg(op, 1), y,
           outer, rows_in, dim_expr(type(op.operands[1]).shape[0]), dim_expr(x.shape.back()));
    } else {
      line("{{ const int32_t last = static_cast<int32_t>({} - 1);", rows_in);
      line("  if (gather_rows({}, &last, {}, {}, {}, 1, {})) return 1; }}", arg(op, 0), y, outer,
           rows_in, dim_expr(x.shape.back()));
    }
  }

  void emit_attention(const ir::Op& op, const std::string& y) {
    const Json& a = op.attrs;
    const ir::RopeTables t = ir::rope_tables(a["rope"]);
    const int mode = t.mode == "none" ? 0 : t.mode == "rotate_half" ? 1 : 2;
    const std::string inv = t.inv_freq.empty() ? "nullptr" : constants_.float_array(t.inv_freq);
    const std::string long_inv =
        t.long_inv_freq.empty() ? "nullptr" : constants_.float_array(t.long_inv_freq);
    const std::string rope = fmt::format("Rope{{{}, {}, {}, {}, {}, {}}}", mode, t.rotary_dim, inv,
                                         long_inv, t.long_after, float_literal(t.attention_factor));
    const std::string mask = fmt::format(
        "AttentionMask{{{}, {}, {}}}", a["causal"].get<bool>() ? "true" : "false",
        a.value("sliding_window", int64_t{0}), float_literal(a.value("logit_softcap", 0.0)));
    // A sliding layer of a model with both kinds lives in kv->local (model_abi.h).
    const KvGroups groups = kv_groups(m_.attrs["kv_cache"]);
    const int64_t layer = a["layer"].get<int64_t>();
    auto local = std::find(groups.local.begin(), groups.local.end(), layer);
    const bool in_local = local != groups.local.end();
    if (in_local != (!groups.local.empty() && a.value("sliding_window", int64_t{0}) > 0) ||
        (in_local && a["sliding_window"].get<int64_t>() > groups.local_window))
      internal_error("attention layer {}: its window does not fit the KV cache's layer groups",
                     layer);
    const int64_t slot = in_local ? local - groups.local.begin()
                                  : layer - std::count_if(groups.local.begin(), groups.local.end(),
                                                          [&](int64_t l) { return l < layer; });
    const char* order =
        a.value("qkv_order", "grouped") == "per_head" ? "QkvOrder::kPerHead" : "QkvOrder::kGrouped";
    line("if (attention({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})) return 1;",
         ref(op.operands[0]), y, in_local ? "kv->local" : "kv", rows_expr(result_type(op)), slot,
         a["num_q_heads"].get<int64_t>(), a["num_kv_heads"].get<int64_t>(),
         a["head_dim"].get<int64_t>(), float_literal(a["sm_scale"].get<double>()), rope, mask,
         order);
  }

  void emit_encoder_attention(const ir::Op& op, const std::string& y) {
    const Json& a = op.attrs;
    const Type& qkv = type(op.operands[0]);
    line("if (encoder_attention({}, {}, {}, {}, {}, {}, {}, {}, {})) return 1;", arg(op, 0),
         arg(op, 1), y, dim_expr(qkv.shape[0]), dim_expr(qkv.shape[1]),
         a["num_q_heads"].get<int64_t>(), a["num_kv_heads"].get<int64_t>(),
         a["head_dim"].get<int64_t>(), float_literal(a["sm_scale"].get<double>()));
  }

  void emit_add_positions(const ir::Op& op, const std::string& y) {
    const Type& x = type(op.operands[0]);
    const Type& table = type(op.operands[1]);
    if (op.operands.size() == 3)
      line("if (add_positions_kv({}, {}, {}, kv, {}, {}, {})) return 1;", arg(op, 0), arg(op, 1), y,
           rows_expr(x), dim_expr(x.shape.back()), dim_expr(table.shape[0]));
    else
      line("if (add_positions_seq({}, {}, {}, {}, {}, {}, {})) return 1;", arg(op, 0), arg(op, 1),
           y, dim_expr(x.shape[0]), dim_expr(x.shape[1]), dim_expr(x.shape.back()),
           dim_expr(table.shape[0]));
  }

  const ir::Module& m_;
  const ir::Function& f_;
  ConstantPool& constants_;
  std::map<int, std::string> names_;
  std::string out_;
};

bool uses_kv(const ir::Function& f) {
  for (int a : f.args)
    if (!f.values[a].type.is_tensor()) return true;
  return false;
}

bool uses_params(const ir::Function& f) {
  for (const auto& op : f.ops)
    for (const auto& o : op.operands)
      if (o.kind == Operand::Kind::kParam) return true;
  return false;
}

// The KV cache's constructor, page copy and destructor for the cache the module describes.
std::string kv_cache_functions(const Json& kvc, const std::string& prefix);

}  // namespace

std::string emit_source(const ir::Module& m, const std::string& prefix) {
  if (!m.attrs.contains("metadata")) internal_error("codegen needs attrs.metadata");

  std::string s;
  s += "// Generated by llmcc. Do not edit: recompile the model instead.\n";
  s += "#include \"kernels/cpu/prelude.h\"\n\nnamespace {\n#include \"kernels/cpu/all.h\"\n";
  s += "using namespace llmcc::cpu_kernels;\n\n";
  // Also in a section of its own, so that llmcc reads the metadata of a library it cannot load
  // (one for another architecture) from the file (runtime/elf_file.h).
  s += "__attribute__((used, section(\".llmcc_metadata\"))) const char kMetadata[] = " +
       raw_string(m.attrs["metadata"].dump()) + ";\n\n";
  ConstantPool constants;
  std::string functions;
  for (const auto& f : m.functions) functions += FunctionEmitter(m, f, constants).emit();
  s += constants.definitions() + "\n" + functions;

  s += "const llmcc_function_info kFunctions[] = {\n";
  for (const auto& f : m.functions) {
    int inputs = 0;
    for (int a : f.args) inputs += f.values[a].type.is_tensor();
    s += fmt::format("    {{\"{}\", fn_{}, {}, {}, {}, {}, {}}},\n", f.name, f.name, inputs,
                     f.results.size(), int(uses_kv(f)), int(uses_params(f)),
                     f.attrs.value("workspace_bytes", int64_t{0}));
  }
  s += "};\n}  // namespace\n\n";

  const std::string api = "extern \"C\" __attribute__((visibility(\"default\"))) ";
  // The loader calls these before it knows whether this machine can run the rest (metadata
  // cpu_features), so they are built for the baseline of the architecture (prelude.h).
  const std::string info = api + "LLMCC_BASELINE ";
  s += info +
       fmt::format("uint32_t {}llmcc_abi_version(void) {{ return LLMCC_ABI_VERSION; }}\n", prefix);
  s += info + fmt::format("const char* {}llmcc_metadata(void) {{ return kMetadata; }}\n", prefix);
  s += info +
       fmt::format("const char* {}llmcc_last_error(void) {{ return error_buffer(); }}\n", prefix);
  s += info + fmt::format(
                  "const llmcc_function_info* {}llmcc_functions(int32_t* count) {{\n"
                  "  *count = static_cast<int32_t>(sizeof(kFunctions) / sizeof(kFunctions[0]));\n"
                  "  return kFunctions;\n}}\n",
                  prefix);
  // A model without a KV cache (kv_state_kind "none": an encoder) exports no KV functions.
  if (m.attrs.contains("kv_cache")) s += kv_cache_functions(m.attrs["kv_cache"], prefix);
  return s;
}

namespace {

std::string kv_cache_functions(const Json& kvc, const std::string& prefix) {
  const std::string api = "extern \"C\" __attribute__((visibility(\"default\"))) ";
  auto kv_dtype = ir::dtype_from_mlc_name(kvc["dtype"].get<std::string>());
  if (!kv_dtype) internal_error("bad kv_cache dtype");
  std::string s;
  const KvGroups groups = kv_groups(kvc);
  s += fmt::format(
      "// One group of layers' pages: [layer][page][K|V][kv head][slot][head_dim].\n"
      "static llmcc_kv_cache* new_kv_group(int32_t layers, int64_t pages, int64_t page_size,\n"
      "                                    int64_t max_batch_size) {{\n"
      "  llmcc_kv_cache* kv = static_cast<llmcc_kv_cache*>(std::calloc(1, "
      "sizeof(llmcc_kv_cache)));\n"
      "  if (!kv) {{ fail(\"out of memory\"); return nullptr; }}\n"
      "  kv->page_size = static_cast<int32_t>(page_size);\n"
      "  kv->num_pages = pages;\n"
      "  kv->num_layers = layers;\n  kv->num_kv_heads = {};\n  kv->head_dim = {};\n"
      "  kv->dtype = {};\n  kv->max_batch_size = static_cast<int32_t>(max_batch_size);\n"
      "  size_t bytes = static_cast<size_t>(pages) * 2 * page_size * layers * {} * {} * "
      "sizeof({});\n"
      "  kv->storage = std::calloc(bytes > 0 ? bytes : 1, 1);\n"
      "  if (!kv->storage) {{ std::free(kv); fail(\"out of memory allocating %zu bytes of KV "
      "cache\", bytes); return nullptr; }}\n"
      "  return kv;\n}}\n\n",
      kvc["num_key_value_heads"].get<int64_t>(), kvc["head_dim"].get<int64_t>(),
      abi_dtype(*kv_dtype), kvc["num_key_value_heads"].get<int64_t>(),
      kvc["head_dim"].get<int64_t>(), c_type(*kv_dtype));
  // The sliding layers' group holds, per sequence, the window and the chunk being appended (the
  // runtime releases older pages after each forward), and never more than the full group.
  const std::string local =
      groups.local.empty()
          ? std::string()
          : fmt::format(
                "  const int64_t chunk = prefill_chunk_size > 0 ? prefill_chunk_size : "
                "max_total_seq_len;\n"
                "  int64_t local_pages = max_batch_size * (({} - 1 + chunk + page_size - 1) / "
                "page_size + 2);\n"
                "  if (local_pages > pages) local_pages = pages;\n"
                "  kv->local = new_kv_group({}, local_pages, page_size, max_batch_size);\n"
                "  if (!kv->local) {{ std::free(kv->storage); std::free(kv); return nullptr; }}\n",
                groups.local_window, groups.local.size());
  s += api + fmt::format(
                 "llmcc_kv_cache* {}llmcc_create_tir_paged_kv_cache(int64_t max_batch_size,\n"
                 "    int64_t max_total_seq_len, int64_t prefill_chunk_size, int64_t page_size,\n"
                 "    int64_t support_sliding_window) {{\n"
                 "  if (max_batch_size < 1 || max_total_seq_len < 1 || page_size < 1) {{\n"
                 "    fail(\"create_tir_paged_kv_cache: sizes must be positive\"); return "
                 "nullptr; }}\n"
                 "  if (support_sliding_window) {{\n"
                 "    fail(\"create_tir_paged_kv_cache: this model has no sliding window\"); "
                 "return nullptr; }}\n"
                 "  const int64_t pages = (max_total_seq_len + page_size - 1) / page_size + "
                 "max_batch_size;\n"
                 "  llmcc_kv_cache* kv = new_kv_group({}, pages, page_size, max_batch_size);\n"
                 "  if (!kv) return nullptr;\n"
                 "{}"
                 "  return kv;\n}}\n",
                 prefix, groups.full_layers, local);
  s += api +
       fmt::format(
           "void {}llmcc_kv_cache_copy_page(llmcc_kv_cache* kv, int64_t src, int64_t dst) {{\n"
           "  const size_t page_bytes = static_cast<size_t>(2) * kv->num_kv_heads *\n"
           "      kv->page_size * kv->head_dim * sizeof({});\n"
           "  char* base = static_cast<char*>(kv->storage);\n"
           "  for (int64_t layer = 0; layer < kv->num_layers; ++layer)\n"
           "    std::memcpy(base + (layer * kv->num_pages + dst) * page_bytes,\n"
           "                base + (layer * kv->num_pages + src) * page_bytes, page_bytes);\n}}\n",
           prefix, c_type(*kv_dtype));
  s += api + fmt::format(
                 "void {}llmcc_free_kv_cache(llmcc_kv_cache* kv) {{\n"
                 "  if (!kv) return;\n"
                 "  if (kv->local) {{ std::free(kv->local->storage); std::free(kv->local); }}\n"
                 "  std::free(kv->storage);\n  std::free(kv);\n}}\n",
                 prefix);
  return s;
}

}  // namespace

}  // namespace llmcc::cpu
