#include "targets/cpu/kernel_selection.h"

#include "support/error.h"

namespace llmcc::cpu {

namespace {

// The type of operand `i` of `op`.
const ir::Type& operand_type(const ir::Module& m, const ir::Function& f, const ir::Op& op,
                             size_t i) {
  const ir::Operand& o = op.operands[i];
  return o.kind == ir::Operand::Kind::kParam ? m.params[o.index].type : f.values[o.index].type;
}

}  // namespace

std::optional<std::string> kernel_for(const ir::Module& m, const ir::Function& f, const ir::Op& op,
                                      const CpuIsa& isa) {
  const std::string& n = op.name;
  const bool simd = isa.avx2 && isa.fma;
  const std::string vec = simd ? "/avx2-fma" : "/portable";
  if (n == "linear_q") {
    // The int8-activation kernel (quantized.h -> int8_dot.h) takes int4/int8 NK weights in groups
    // of 32 with f16 scales; everything else dequantizes rows to f32.
    const int bits = op.attrs.value("bits", 0), group = op.attrs.value("group_size", 0);
    const bool nk = op.attrs.value("layout", "NK") == "NK";
    const bool f16_scales = operand_type(m, f, op, 2).dtype == ir::DType::kF16;
    if ((bits == 4 || bits == 8) && group == 32 && nk && f16_scales && simd && isa.f16c)
      return "linear_int8_dot<" + std::to_string(bits) + ">" +
             (isa.avx512_vnni ? "/avx512-vnni" : "/avx2");
    return "linear_q<" + std::to_string(bits) + "," + std::to_string(group) + ">/f32-dequant" + vec;
  }
  if (n == "attention") return "attention/paged-online-softmax" + vec;
  if (n == "linear") return "linear/f32-accumulate" + vec;
  for (const char* plain :
       {"take", "take_q", "rms_norm", "qk_rms_norm", "layer_norm", "add", "mul", "silu", "gelu",
        "scale", "softcap", "cast", "slice_last", "swiglu", "geglu", "gather_rows", "last_row"})
    if (n == plain) return n;
  return std::nullopt;
}

void select_kernels(ir::Module& m, const CpuIsa& isa) {
  for (auto& f : m.functions)
    for (auto& op : f.ops) {
      auto kernel = kernel_for(m, f, op, isa);
      if (!kernel)
        user_error(
            "the CPU target has no kernel for op '{}' (in function {}); this model needs "
            "an op llmcc cannot run on CPU yet",
            op.name, f.name);
      op.attrs["kernel"] = *kernel;
    }
}

}  // namespace llmcc::cpu
