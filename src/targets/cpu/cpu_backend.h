// The CPU targets on the Backend interface: C++ over the kernel headers of src/kernels/cpu, built
// by the host compiler for this machine's architecture or by Debian's cross compiler for another.
#pragma once

#include <memory>

#include "targets/backend.h"

namespace llmcc::cpu {

bool is_x86_64_target(const Target& target);
bool is_aarch64_target(const Target& target);
std::unique_ptr<Backend> make_cpu_backend(const Target& target);

}  // namespace llmcc::cpu
