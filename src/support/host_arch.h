// The architecture this llmcc binary runs on, by the first word of its GNU triple.
#pragma once

namespace llmcc {

// "x86_64", "aarch64", "i386", "arm", "riscv"; "unknown" elsewhere. The name also matches ELF's
// machine names as runtime/elf_file.h spells them.
constexpr const char* host_arch() {
#if defined(__x86_64__)
  return "x86_64";
#elif defined(__aarch64__)
  return "aarch64";
#elif defined(__i386__)
  return "i386";
#elif defined(__arm__)
  return "arm";
#elif defined(__riscv)
  return "riscv";
#else
  return "unknown";
#endif
}

}  // namespace llmcc
