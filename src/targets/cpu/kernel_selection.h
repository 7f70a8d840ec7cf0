// Which CPU kernel implements each op, for the instruction sets a target enables. The compiler's
// select-kernels pass records the answer on every op (attrs.kernel), so the debug dump shows the
// path each matmul takes, and an op the CPU target cannot run is a compile error naming it.
#pragma once

#include <optional>
#include <string>

#include "ir/module.h"
#include "kernels/cpu/int4_tile_layout.h"
#include "targets/cpu/toolchain.h"
#include "targets/target.h"

namespace llmcc::cpu {

// An int4 matmul over weights repacked into tiles (kernels/cpu/int4_tile_layout.h): its kernel,
// the name of its layout in the library's metadata ("layout" of a param; "layout_scale" names
// the scales packed with it), the kernel function codegen calls, and the kernel that takes MLC's
// layout instead when a weight has another reader.
struct TiledInt4Kernel {
  const char* kernel;
  const char* layout;
  const char* function;
  const char* untiled_kernel;
};
// 8-column tiles for AVX2; 16-column tiles for AVX-512 VNNI.
inline constexpr TiledInt4Kernel kTiledInt4Avx2{"linear_int4_tile8/avx2",
                                                cpu_kernels::kInt4Tile8Layout, "linear_int4_tile8",
                                                "linear_int8_dot<4>/avx2"};
inline constexpr TiledInt4Kernel kTiledInt4Vnni{
    "linear_int4_tile16/avx512-vnni", cpu_kernels::kInt4Tile16Layout, "linear_int4_tile16",
    "linear_int8_dot<4>/avx512-vnni"};

// The tiled kernel an op's attrs.kernel names, or nullptr.
const TiledInt4Kernel* tiled_int4_kernel(const std::string& kernel);

// The kernel for `op` of `f`, e.g. "linear_int8_dot<4>/avx512-vnni", or nullopt when the CPU
// target has none.
std::optional<std::string> kernel_for(const ir::Module& m, const ir::Function& f, const ir::Op& op,
                                      const CpuIsa& isa);

// The select-kernels pass for `target`: records attrs.kernel on every op; UserError for an op
// without a kernel. Then chooses the weight layouts (below).
void select_kernels(ir::Module& m, const CpuIsa& isa);

// Keeps the tiled int4 kernel only for weights that nothing else reads, and records their layout
// in the metadata's params.
void choose_weight_layouts(ir::Module& m);

}  // namespace llmcc::cpu
