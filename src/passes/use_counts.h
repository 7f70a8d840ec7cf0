// How many times each value of a function is used (operands and returns).
#pragma once

#include <vector>

#include "ir/module.h"

namespace llmcc::passes {

inline std::vector<int> use_counts(const ir::Function& f) {
  std::vector<int> uses(f.values.size(), 0);
  for (const auto& op : f.ops)
    for (const auto& o : op.operands)
      if (o.kind == ir::Operand::Kind::kValue) ++uses[o.index];
  for (int r : f.results) ++uses[r];
  return uses;
}

// The op that defines each value, or -1 for arguments.
inline std::vector<int> defining_ops(const ir::Function& f) {
  std::vector<int> def(f.values.size(), -1);
  for (size_t i = 0; i < f.ops.size(); ++i) def[f.ops[i].result] = static_cast<int>(i);
  return def;
}

}  // namespace llmcc::passes
