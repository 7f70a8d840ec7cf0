// The kernel headers and ABI header, embedded into llmcc at build time (cmake/embed_sources.cmake),
// so generated model sources compile wherever llmcc runs.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace llmcc {

// (relative include path, contents) pairs, e.g. ("kernels/cpu/linear.h", "...").
const std::vector<std::pair<std::string, std::string>>& embedded_sources();

}  // namespace llmcc
