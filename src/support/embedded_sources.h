// The kernel headers and ABI header, embedded into llmcc at build time (cmake/embed_sources.cmake),
// so generated model sources compile wherever llmcc runs.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace llmcc {

using SourceFiles = std::vector<std::pair<std::string, std::string>>;

// (relative include path, contents) pairs, e.g. ("kernels/cpu/linear.h", "...").
const SourceFiles& embedded_sources();

// The MD5 of the compiler's own sources (IR, models, passes, quantization, targets, compile)
// at build time: a different codegen may emit different code for the same model.
const char* codegen_hash();

// The kernel headers model libraries compile against: the embedded ones, or, when
// LLMCC_KERNEL_SOURCE_DIR names a folder, the same files read from it (each at DIR/PATH,
// DIR/src/PATH or DIR/include/PATH, so a checkout of llmcc works), for working on kernels without
// rebuilding llmcc. UserError naming a file the folder lacks.
SourceFiles kernel_sources();
// The MD5 over kernel_sources()' paths and contents.
std::string kernel_sources_hash();

}  // namespace llmcc
