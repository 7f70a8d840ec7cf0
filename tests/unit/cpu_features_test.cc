// The runtime's view of this CPU: read from the CPU itself, so a library is refused only for
// what the machine truly lacks.
#include "runtime/cpu_features.h"

#include <gtest/gtest.h>

#include "runtime/elf_file.h"
#include "support/files.h"
#include "support/host_arch.h"

namespace llmcc {
namespace {

TEST(CpuFeatures, TheCpuAndTheKernelAgreeOnEveryNameBothKnow) {
  const std::set<std::string> cpu = cpu_flags_from_the_cpu(), proc = cpu_flags_from_proc_cpuinfo();
#if defined(__x86_64__)
  ASSERT_TRUE(cpu.count("sse4_2")) << "CPUID read nothing";
  // Linux names for what CPUID reports; where the kernel lists one, CPUID must find it.
  for (const char* name : {"avx", "avx2", "fma", "f16c", "bmi2", "avx512f", "avx512bw", "avx512vl",
                           "avx512_vnni", "avx512_bf16", "amx_tile", "amx_int8"}) {
    if (proc.empty()) break;
    EXPECT_EQ(cpu.count(name), proc.count(name)) << name;
  }
  EXPECT_EQ(cpu.count("avx2") == 1, __builtin_cpu_supports("avx2") != 0);
  EXPECT_EQ(cpu.count("avx512f") == 1, __builtin_cpu_supports("avx512f") != 0);
#elif defined(__aarch64__)
  EXPECT_TRUE(cpu.count("asimd")) << "every aarch64 Linux machine has Advanced SIMD";
#endif
}

TEST(CpuFeatures, MissingNamesAreReported) {
  EXPECT_TRUE(missing_cpu_features({}).empty());
  auto missing = missing_cpu_features({"no_such_extension"});
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0], "no_such_extension");
}

TEST(CpuFeatures, ElfMachineOfALibrary) {
  EXPECT_EQ(elf_machine("/proc/self/exe"), host_arch());
  TempPath dir = make_temp_dir("llmcc-elf");
  write_file_atomic(dir.path() / "not_elf.so", "hello");
  EXPECT_EQ(elf_machine(dir.path() / "not_elf.so"), "");
  // A 64-bit little-endian ELF header whose e_machine is 183 (AArch64).
  std::string header(20, '\0');
  header.replace(0, 4,
                 "\x7f"
                 "ELF");
  header[4] = 2;
  header[5] = 1;
  header[18] = static_cast<char>(183);
  write_file_atomic(dir.path() / "arm.so", header);
  EXPECT_EQ(elf_machine(dir.path() / "arm.so"), "aarch64");
}

TEST(CpuFeatures, ElfSectionsReadWithoutLoading) {
  // GCC records itself in .comment of everything it links.
  auto comment = elf_section("/proc/self/exe", ".comment");
  ASSERT_TRUE(comment.has_value());
  EXPECT_NE(comment->find("GCC"), std::string::npos) << *comment;
  EXPECT_FALSE(elf_section("/proc/self/exe", ".no_such_section").has_value());
  EXPECT_FALSE(elf_section("/proc/self/status", ".comment").has_value());
}

}  // namespace
}  // namespace llmcc
