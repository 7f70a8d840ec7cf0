// Builds generated C++ into a model library with the host compiler ($CXX, else c++).
#pragma once

#include <filesystem>
#include <string>

#include "targets/backend.h"
#include "targets/target.h"

namespace llmcc::cpu {

// Whether `target` is aarch64, and whether it is another architecture than this machine's.
bool is_aarch64(const Target& target);
bool is_cross(const Target& target);
// The compiler that builds for `target`: $CXX (else c++) for this machine's architecture, else
// $LLMCC_CROSS_CXX or Debian's cross compiler named by the triple (aarch64-linux-gnu-g++).
std::string compiler_for(const Target& target);

// The compiler flags that select `target`'s CPU (-march=..., -mavx2, ...).
std::vector<std::string> cpu_flags(const Target& target);

// The instruction sets the host compiler enables under cpu_flags(target): the same predefined
// macros that the kernel headers test, so a kernel chosen from these is the one that gets built.
struct CpuIsa {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512_vnni = false;            // AVX-512 F, BW and VNNI together
  bool neon = false, dotprod = false;  // aarch64 Advanced SIMD and its int8 dot product
  // Every extension the compiler may use under these flags, by Linux's /proc/cpuinfo names: what a
  // machine must have to run the library (the metadata's cpu_features).
  std::vector<std::string> features;
};
CpuIsa cpu_isa(const Target& target);

// The compiler for `target` (compiler_for) and the first line of its --version, e.g.
// "c++: c++ (Debian 12.2.0-14) 12.2.0": part of the JIT cache key.
std::string compiler_identity(const Target& target);

// Compiles `source` and writes the library to `output` atomically. The kernel headers are taken
// from the copy embedded in llmcc (or LLMCC_KERNEL_SOURCE_DIR; support/embedded_sources.h), so this
// works wherever llmcc is installed.
void build_library(const std::string& source, const Target& target, LibraryKind kind,
                   const std::filesystem::path& output);

}  // namespace llmcc::cpu
