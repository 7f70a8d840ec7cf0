// Checks the structural invariants every pass must keep: values defined before use, op types
// consistent with the op registry, unique names, and (once bounds are attached) an upper bound
// for every symbolic dimension.
#pragma once

#include <string>
#include <vector>

#include "ir/module.h"

namespace llmcc::ir {

struct VerifyOptions {
  bool require_bounds = false;  // every symbol needs tir_var_upper_bound or a module constant
};

// Returns the problems found; empty means the module is well formed.
std::vector<std::string> verify_module(const Module& m, const VerifyOptions& options = {});
// Throws UserError listing the problems.
void verify_or_throw(const Module& m, const VerifyOptions& options = {});

// The value of a symbol: the function's upper bound, else the module's constant
// (attrs.symbol_values), else -1.
int64_t symbol_upper_bound(const Module& m, const Function& f, const std::string& symbol);

}  // namespace llmcc::ir
