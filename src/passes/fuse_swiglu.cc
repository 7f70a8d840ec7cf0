#include "ir/op_registry.h"
#include "passes/passes.h"
#include "passes/use_counts.h"

namespace llmcc::passes {

namespace {

bool is_slice(const ir::Op& op, int64_t begin, int64_t end) {
  return op.name == "slice_last" && op.attrs.value("begin", -1) == begin &&
         op.attrs.value("end", -1) == end;
}

}  // namespace

void fuse_swiglu(ir::Module& m) {
  for (auto& f : m.functions) {
    auto uses = use_counts(f);
    auto def = defining_ops(f);
    auto op_of = [&](const ir::Operand& o) -> ir::Op* {
      if (o.kind != ir::Operand::Kind::kValue || def[o.index] < 0) return nullptr;
      return &f.ops[def[o.index]];
    };
    for (auto& mul : f.ops) {
      if (mul.name != "mul") continue;
      ir::Op* silu = op_of(mul.operands[0]);
      ir::Op* up = op_of(mul.operands[1]);
      if (!silu || !up || (silu->name != "silu" && silu->name != "gelu") || uses[silu->result] != 1)
        continue;
      ir::Op* gate = op_of(silu->operands[0]);
      if (!gate || gate->name != "slice_last" || uses[gate->result] != 1) continue;
      if (!(gate->operands[0] == up->operands[0]) || up->name != "slice_last") continue;
      const ir::Type& src = f.type_of(gate->operands[0], m);
      int64_t n = src.shape.back().value;
      if (!is_slice(*gate, 0, n / 2) || !is_slice(*up, n / 2, n)) continue;
      // mul becomes swiglu (or geglu, keeping gelu's approximation) over the shared source; the
      // slices and the activation die in DCE.
      mul.attrs = silu->name == "gelu" ? silu->attrs : Json::object();
      mul.name = silu->name == "gelu" ? "geglu" : "swiglu";
      mul.operands = {gate->operands[0]};
    }
  }
  dead_code_elimination(m);
}

}  // namespace llmcc::passes
