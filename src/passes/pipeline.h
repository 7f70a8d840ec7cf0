// The whole compiler, as an ordered list of phases and passes.
#pragma once

#include <functional>

#include "passes/pass.h"

namespace llmcc {

// `select_kernels` is the target's kernel selection (the lower phase's select-kernels pass);
// without one (llmcc-opt on text), that pass does nothing.
PassManager make_pipeline(std::function<void(ir::Module&)> select_kernels = nullptr);

}  // namespace llmcc
