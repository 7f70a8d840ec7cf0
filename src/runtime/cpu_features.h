// The instruction-set extensions of this machine, to refuse a model library compiled for
// extensions it lacks before any of its code runs (a SIGILL otherwise).
#pragma once

#include <set>
#include <string>
#include <vector>

namespace llmcc {

// Linux's names from /proc/cpuinfo's "flags" (avx2, avx512f, avx512_vnni, amx_tile, ...); empty
// when they cannot be read.
const std::set<std::string>& host_cpu_flags();

// The entries of `needed` that this machine lacks; empty when it has them all, or when its flags
// cannot be read (nothing to check against).
std::vector<std::string> missing_cpu_features(const std::vector<std::string>& needed);

}  // namespace llmcc
