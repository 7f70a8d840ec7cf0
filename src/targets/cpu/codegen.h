// CPU code generation: the optimized module becomes one C++ translation unit that checks its
// arguments, calls the kernel templates of src/kernels/cpu with the model's static sizes, and
// exports the C ABI of include/llmcc/model_abi.h under `symbol_prefix`.
#pragma once

#include <string>

#include "ir/module.h"

namespace llmcc::cpu {

// Needs a module that went through the whole pipeline (bounds, memory plan, metadata).
std::string emit_source(const ir::Module& m, const std::string& symbol_prefix);

}  // namespace llmcc::cpu
