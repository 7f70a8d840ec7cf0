// Which CPU kernel implements each op, for the instruction sets a target enables. The compiler's
// select-kernels pass records the answer on every op (attrs.kernel), so the debug dump shows the
// path each matmul takes, and an op the CPU target cannot run is a compile error naming it.
#pragma once

#include <optional>
#include <string>

#include "ir/module.h"
#include "targets/cpu/toolchain.h"
#include "targets/target.h"

namespace llmcc::cpu {

// The kernel for `op` of `f`, e.g. "linear_int8_dot<4>/avx512-vnni", or nullopt when the CPU
// target has none.
std::optional<std::string> kernel_for(const ir::Module& m, const ir::Function& f, const ir::Op& op,
                                      const CpuIsa& isa);

// The select-kernels pass for `target`: records attrs.kernel on every op; UserError for an op
// without a kernel.
void select_kernels(ir::Module& m, const CpuIsa& isa);

}  // namespace llmcc::cpu
