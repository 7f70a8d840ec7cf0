#include "passes/passes.h"
#include "passes/use_counts.h"

namespace llmcc::passes {

void dead_code_elimination(ir::Module& m) {
  for (auto& f : m.functions) {
    // Ops are in definition order, so one backward sweep finds everything dead.
    std::vector<int> uses = use_counts(f);
    std::vector<bool> dead(f.ops.size(), false);
    for (size_t i = f.ops.size(); i-- > 0;) {
      if (uses[f.ops[i].result] > 0) continue;
      dead[i] = true;
      for (const auto& o : f.ops[i].operands)
        if (o.kind == ir::Operand::Kind::kValue) --uses[o.index];
    }
    std::vector<ir::Op> kept;
    for (size_t i = 0; i < f.ops.size(); ++i)
      if (!dead[i]) kept.push_back(std::move(f.ops[i]));
    f.ops = std::move(kept);
  }
}

}  // namespace llmcc::passes
