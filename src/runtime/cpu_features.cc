#include "runtime/cpu_features.h"

#include <fstream>
#include <sstream>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__aarch64__)
#include <sys/auxv.h>
#endif

namespace llmcc {

namespace {

#if defined(__x86_64__) || defined(__i386__)
// Which register of which CPUID leaf holds a feature bit.
enum Reg { kEbx, kEcx, kEdx, kEax };
enum State { kScalar, kAvx, kAvx512, kAmx };  // the register state the OS must save (XCR0)
struct CpuidBit {
  const char* name;
  unsigned leaf, subleaf;
  Reg reg;
  int bit;
  State state;
};
constexpr CpuidBit kCpuidBits[] = {
    {"pni", 1, 0, kEcx, 0, kScalar},
    {"ssse3", 1, 0, kEcx, 9, kScalar},
    {"fma", 1, 0, kEcx, 12, kAvx},
    {"sse4_1", 1, 0, kEcx, 19, kScalar},
    {"sse4_2", 1, 0, kEcx, 20, kScalar},
    {"movbe", 1, 0, kEcx, 22, kScalar},
    {"popcnt", 1, 0, kEcx, 23, kScalar},
    {"avx", 1, 0, kEcx, 28, kAvx},
    {"f16c", 1, 0, kEcx, 29, kAvx},
    {"abm", 0x80000001u, 0, kEcx, 5, kScalar},
    {"bmi1", 7, 0, kEbx, 3, kScalar},
    {"avx2", 7, 0, kEbx, 5, kAvx},
    {"bmi2", 7, 0, kEbx, 8, kScalar},
    {"avx512f", 7, 0, kEbx, 16, kAvx512},
    {"avx512dq", 7, 0, kEbx, 17, kAvx512},
    {"avx512ifma", 7, 0, kEbx, 21, kAvx512},
    {"avx512pf", 7, 0, kEbx, 26, kAvx512},
    {"avx512er", 7, 0, kEbx, 27, kAvx512},
    {"avx512cd", 7, 0, kEbx, 28, kAvx512},
    {"avx512bw", 7, 0, kEbx, 30, kAvx512},
    {"avx512vl", 7, 0, kEbx, 31, kAvx512},
    {"avx512vbmi", 7, 0, kEcx, 1, kAvx512},
    {"avx512_vbmi2", 7, 0, kEcx, 6, kAvx512},
    {"gfni", 7, 0, kEcx, 8, kScalar},
    {"vaes", 7, 0, kEcx, 9, kAvx},
    {"vpclmulqdq", 7, 0, kEcx, 10, kAvx},
    {"avx512_vnni", 7, 0, kEcx, 11, kAvx512},
    {"avx512_bitalg", 7, 0, kEcx, 12, kAvx512},
    {"avx512_vpopcntdq", 7, 0, kEcx, 14, kAvx512},
    {"amx_bf16", 7, 0, kEdx, 22, kAmx},
    {"avx512_fp16", 7, 0, kEdx, 23, kAvx512},
    {"amx_tile", 7, 0, kEdx, 24, kAmx},
    {"amx_int8", 7, 0, kEdx, 25, kAmx},
    {"avx_vnni", 7, 1, kEax, 4, kAvx},
    {"avx512_bf16", 7, 1, kEax, 5, kAvx512},
};

void add_cpuid_flags(std::set<std::string>& out) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d)) return;
  const bool osxsave = c & (1u << 27);
  unsigned long long xcr0 = 0;
  if (osxsave) {
    unsigned lo, hi;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = (static_cast<unsigned long long>(hi) << 32) | lo;
  }
  auto enabled = [&](State s) {
    switch (s) {
      case kScalar:
        return true;
      case kAvx:
        return (xcr0 & 0x6) == 0x6;
      case kAvx512:
        return (xcr0 & 0xe6) == 0xe6;
      case kAmx:
        return (xcr0 & 0x60000) == 0x60000;
    }
    return false;
  };
  const unsigned max_leaf = __get_cpuid_max(0, nullptr);
  const unsigned max_ext = __get_cpuid_max(0x80000000u, nullptr);
  for (const CpuidBit& f : kCpuidBits) {
    if (f.leaf >= 0x80000000u ? f.leaf > max_ext : f.leaf > max_leaf) continue;
    unsigned r[4] = {0, 0, 0, 0};  // ebx, ecx, edx, eax
    __cpuid_count(f.leaf, f.subleaf, r[3], r[0], r[1], r[2]);
    if ((r[f.reg] >> f.bit & 1u) && enabled(f.state)) out.insert(f.name);
  }
}
#endif

#if defined(__aarch64__)
void add_hwcap_flags(std::set<std::string>& out) {
  // Bits of AT_HWCAP / AT_HWCAP2 (Linux's arch/arm64/include/uapi/asm/hwcap.h).
  const unsigned long hw = getauxval(AT_HWCAP), hw2 = getauxval(AT_HWCAP2);
  const std::pair<const char*, int> kHwcap[] = {{"fp", 0},       {"asimd", 1},     {"fphp", 9},
                                                {"asimdhp", 10}, {"asimdrdm", 12}, {"asimddp", 20},
                                                {"sve", 22}};
  for (const auto& [name, bit] : kHwcap)
    if (hw >> bit & 1ul) out.insert(name);
  const std::pair<const char*, int> kHwcap2[] = {{"sve2", 1}, {"i8mm", 13}, {"bf16", 14}};
  for (const auto& [name, bit] : kHwcap2)
    if (hw2 >> bit & 1ul) out.insert(name);
}
#endif

void add_proc_cpuinfo_flags(std::set<std::string>& out) {
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    // x86 calls the list "flags", aarch64 "Features".
    if (line.rfind("flags", 0) != 0 && line.rfind("Features", 0) != 0) continue;
    std::istringstream words(line.substr(line.find(':') + 1));
    for (std::string w; words >> w;) out.insert(w);
    break;  // every core reports the same
  }
}

}  // namespace

std::set<std::string> cpu_flags_from_the_cpu() {
  std::set<std::string> out;
#if defined(__x86_64__) || defined(__i386__)
  add_cpuid_flags(out);
#endif
#if defined(__aarch64__)
  add_hwcap_flags(out);
#endif
  return out;
}

std::set<std::string> cpu_flags_from_proc_cpuinfo() {
  std::set<std::string> out;
  add_proc_cpuinfo_flags(out);
  return out;
}

const std::set<std::string>& host_cpu_flags() {
  static const std::set<std::string> flags = [] {
    std::set<std::string> out = cpu_flags_from_the_cpu();
    out.merge(cpu_flags_from_proc_cpuinfo());
    return out;
  }();
  return flags;
}

std::vector<std::string> missing_cpu_features(const std::vector<std::string>& needed) {
  const std::set<std::string>& have = host_cpu_flags();
  std::vector<std::string> missing;
  for (const auto& f : needed)
    if (!have.count(f)) missing.push_back(f);
  return missing;
}

}  // namespace llmcc
