// The instruction-set extensions of this machine, to refuse a model library compiled for
// extensions it lacks before any of its code runs (a SIGILL otherwise).
#pragma once

#include <set>
#include <string>
#include <vector>

namespace llmcc {

// The extensions this CPU has and the OS enables, by Linux's /proc/cpuinfo names (avx2, avx512f,
// avx512_vnni, amx_tile on x86; asimd, asimddp, i8mm on aarch64). Read from CPUID (and XGETBV)
// or the aarch64 HWCAP words, the way compilers' -march=native sees the CPU, so an old kernel
// whose /proc/cpuinfo lacks a name does not refuse a library this machine runs. /proc/cpuinfo's
// flags are added, for names the CPUID table does not know.
const std::set<std::string>& host_cpu_flags();

// The two sources host_cpu_flags() merges: the CPU itself (CPUID/XGETBV, HWCAP) and the kernel.
std::set<std::string> cpu_flags_from_the_cpu();
std::set<std::string> cpu_flags_from_proc_cpuinfo();

// The entries of `needed` that this machine lacks; empty when it has them all.
std::vector<std::string> missing_cpu_features(const std::vector<std::string>& needed);

}  // namespace llmcc
