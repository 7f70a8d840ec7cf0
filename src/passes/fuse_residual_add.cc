#include "ir/op_registry.h"
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
        // linear and linear_q take the residual as a named epilogue operand, after any bias.
        if (linear.name != "linear" && linear.name != "linear_q") continue;
        if (ir::epilogue_operand(linear.name, linear.attrs, "residual") >= 0) continue;
        if (uses[mm.index] != 1) continue;
        if (!(f.values[linear.result].type == f.values[add.result].type)) continue;
        ir::Operand residual = add.operands[1 - side];
        // The add takes the fused op's place so the residual is defined before it is read.
        add.name = linear.name;
        add.operands = linear.operands;
        add.operands.push_back(residual);
        add.attrs = linear.attrs;
        add.attrs["epilogue"].push_back("residual");
        break;
      }
    }
  }
  dead_code_elimination(m);
}

}  // namespace llmcc::passes
