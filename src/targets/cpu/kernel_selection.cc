#include "targets/cpu/kernel_selection.h"

#include <vector>

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

const TiledInt4Kernel* tiled_int4_kernel(const std::string& kernel) {
  for (const TiledInt4Kernel* k : {&kTiledInt4Avx2, &kTiledInt4Vnni})
    if (kernel == k->kernel) return k;
  return nullptr;
}

std::optional<std::string> kernel_for(const ir::Module& m, const ir::Function& f, const ir::Op& op,
                                      const CpuIsa& isa) {
  const std::string& n = op.name;
  const bool simd = isa.avx2 && isa.fma;
  // The f32 kernels' vector paths: AVX2 with FMA (and AVX-512 where enabled), or aarch64's NEON.
  const std::string vec = simd ? "/avx2-fma" : isa.neon ? "/neon" : "/portable";
  if (n == "linear_q") {
    // The int8-activation kernel (quantized.h -> int8_dot.h) takes int4/int8 NK weights in groups
    // of 32 with f16 scales; everything else dequantizes rows to f32.
    const int bits = op.attrs.value("bits", 0), group = op.attrs.value("group_size", 0);
    const bool nk = op.attrs.value("layout", "NK") == "NK";
    const bool f16_scales = operand_type(m, f, op, 2).dtype == ir::DType::kF16;
    if ((bits == 4 || bits == 8) && group == 32 && nk && f16_scales && isa.dotprod && !simd)
      return "linear_int8_dot<" + std::to_string(bits) + ">/neon-dotprod";
    if ((bits == 4 || bits == 8) && group == 32 && nk && f16_scales && simd && isa.f16c) {
      // int4 weights held as params may take a tiled layout; select_kernels keeps it only for
      // weights that nothing else reads.
      if (bits == 4 && op.operands[1].kind == ir::Operand::Kind::kParam &&
          op.operands[2].kind == ir::Operand::Kind::kParam)
        return std::string(isa.avx512_vnni ? kTiledInt4Vnni.kernel : kTiledInt4Avx2.kernel);
      return "linear_int8_dot<" + std::to_string(bits) + ">" +
             (isa.avx512_vnni ? "/avx512-vnni" : "/avx2");
    }
    return "linear_q<" + std::to_string(bits) + "," + std::to_string(group) + ">/f32-dequant" + vec;
  }
  if (n == "attention") return "attention/paged-online-softmax" + vec;
  if (n == "encoder_attention") return "encoder_attention/f32-softmax" + vec;
  if (n == "linear") return "linear/f32-accumulate" + vec;
  for (const char* plain : {"take", "take_q", "rms_norm", "qk_rms_norm", "layer_norm", "add", "mul",
                            "silu", "gelu", "scale", "softcap", "cast", "slice_last", "swiglu",
                            "geglu", "gather_rows", "last_row", "add_positions"})
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
  choose_weight_layouts(m);
}

void choose_weight_layouts(ir::Module& m) {
  // A weight is repacked only if every use is the weight operand of a tiled matmul with the same
  // scales: a tied embedding (take_q) or another kernel still reads MLC's layout.
  const size_t n = m.params.size();
  // layout_of[p]: the tiled kernel that reads weight p (null: none does).
  std::vector<const TiledInt4Kernel*> layout_of(n, nullptr);
  std::vector<int> scale_of(n, -1);
  std::vector<bool> other_use(n, false);
  for (const auto& f : m.functions)
    for (const auto& op : f.ops) {
      const TiledInt4Kernel* k = tiled_int4_kernel(op.attrs.value("kernel", ""));
      for (size_t i = 0; i < op.operands.size(); ++i) {
        const ir::Operand& o = op.operands[i];
        if (o.kind != ir::Operand::Kind::kParam) continue;
        if (k && i == 1) {
          const int scale = op.operands[2].index;
          if (scale_of[o.index] >= 0 && scale_of[o.index] != scale) other_use[o.index] = true;
          if (layout_of[o.index] && layout_of[o.index] != k) other_use[o.index] = true;
          scale_of[o.index] = scale;
          layout_of[o.index] = k;
        } else if (!(k && i == 2)) {
          other_use[o.index] = true;
        }
      }
    }
  for (auto& f : m.functions)
    for (auto& op : f.ops)
      if (const TiledInt4Kernel* k = tiled_int4_kernel(op.attrs.value("kernel", ""));
          k && other_use[op.operands[1].index])
        op.attrs["kernel"] = k->untiled_kernel;
  if (!m.attrs.contains("metadata")) return;
  Json& params = m.attrs["metadata"]["params"];
  for (size_t i = 0; i < n && i < params.size(); ++i)
    if (layout_of[i] && !other_use[i]) {
      params[i]["layout"] = layout_of[i]->layout;
      params[i]["layout_scale"] = m.params[scale_of[i]].name;
    }
}

}  // namespace llmcc::cpu
