// Builds generated C++ into a model library with the host compiler ($CXX, else c++).
#pragma once

#include <filesystem>
#include <string>

#include "targets/target.h"

namespace llmcc::cpu {

enum class LibraryKind { kShared, kStatic };

// ".so"/".dylib"/".dll" -> shared, ".tar"/".lib" -> static objects; anything else is shared with a
// warning, as MLC does.
LibraryKind library_kind_for(const std::filesystem::path& output);

// The compiler flags that select `target`'s CPU (-march=..., -mavx2, ...).
std::vector<std::string> cpu_flags(const Target& target);

// The instruction sets the host compiler enables under cpu_flags(target): the same predefined
// macros that the kernel headers test, so a kernel chosen from these is the one that gets built.
struct CpuIsa {
  bool avx2 = false, fma = false, f16c = false;
  bool avx512_vnni = false;  // AVX-512 F, BW and VNNI together
  // Every extension the compiler may use under these flags, by Linux's /proc/cpuinfo names: what a
  // machine must have to run the library (the metadata's cpu_features).
  std::vector<std::string> features;
};
CpuIsa cpu_isa(const Target& target);

// The host compiler ($CXX, else c++) and the first line of its --version, e.g.
// "c++: c++ (Debian 12.2.0-14) 12.2.0": part of the JIT cache key.
std::string host_compiler_identity();

// Compiles `source` and writes the library to `output` atomically. The kernel headers are taken
// from the copy embedded in llmcc (or LLMCC_KERNEL_SOURCE_DIR; support/embedded_sources.h), so this
// works wherever llmcc is installed.
void build_library(const std::string& source, const Target& target, LibraryKind kind,
                   const std::filesystem::path& output);

}  // namespace llmcc::cpu
