#include "passes/passes.h"
#include "passes/use_counts.h"

namespace llmcc::passes {

void fuse_residual_add(ir::Module& m) {
  for (auto& f : m.functions) {
    auto uses = use_counts(f);
    auto def = defining_ops(f);
    for (auto& add : f.ops) {
      if (add.name != "add") continue;
      // Either operand may be the matmul; the other is the residual.
      for (int side = 0; side < 2; ++side) {
        const ir::Operand& mm = add.operands[side];
        if (mm.kind != ir::Operand::Kind::kValue || def[mm.index] < 0) continue;
        ir::Op& linear = f.ops[def[mm.index]];
        // linear(x, w) and linear_q(x, q_weight, q_scale) take the residual as an extra operand.
        const size_t arity = linear.name == "linear" ? 2 : linear.name == "linear_q" ? 3 : 0;
        if (arity == 0 || linear.operands.size() != arity || uses[mm.index] != 1) continue;
        if (!(f.values[linear.result].type == f.values[add.result].type)) continue;
        ir::Operand residual = add.operands[1 - side];
        // The add takes the fused op's place so the residual is defined before it is read.
        add.name = linear.name;
        add.operands = linear.operands;
        add.operands.push_back(residual);
        add.attrs = linear.attrs;
        break;
      }
    }
  }
  dead_code_elimination(m);
}

}  // namespace llmcc::passes
