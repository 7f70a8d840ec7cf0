#include "runtime/cpu_features.h"

#include <cstring>
#include <fstream>
#include <sstream>
#include <tuple>

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

std::string elf_machine(const std::filesystem::path& library) {
  std::ifstream in(library, std::ios::binary);
  unsigned char header[20] = {};
  if (!in.read(reinterpret_cast<char*>(header), sizeof(header))) return "";
  if (header[0] != 0x7f || header[1] != 'E' || header[2] != 'L' || header[3] != 'F') return "";
  // e_machine at offset 18, in the byte order that e_ident[5] names (1: little endian).
  const unsigned machine =
      header[5] == 1 ? header[18] | header[19] << 8 : header[18] << 8 | header[19];
  switch (machine) {
    case 62:
      return "x86_64";
    case 183:
      return "aarch64";
    case 3:
      return "i386";
    case 40:
      return "arm";
    case 243:
      return "riscv";
    default:
      return "ELF machine " + std::to_string(machine);
  }
}

std::optional<std::string> elf_section(const std::filesystem::path& file, const std::string& name) {
  std::ifstream in(file, std::ios::binary);
  auto read_at = [&](uint64_t offset, uint64_t n) -> std::optional<std::string> {
    std::string out(n, '\0');
    in.seekg(static_cast<std::streamoff>(offset));
    if (!in.read(out.data(), static_cast<std::streamsize>(n))) return std::nullopt;
    return out;
  };
  auto u = [](const std::string& b, size_t at, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(b[at + i]);
    return v;
  };
  const auto header = read_at(0, 64);
  // ELFCLASS64, ELFDATA2LSB: what llmcc builds for (x86-64, aarch64).
  if (!header ||
      header->compare(0, 4,
                      "\x7f"
                      "ELF") != 0 ||
      (*header)[4] != 2 || (*header)[5] != 1)
    return std::nullopt;
  const uint64_t shoff = u(*header, 0x28, 8), entsize = u(*header, 0x3a, 2);
  const uint64_t count = u(*header, 0x3c, 2), names_index = u(*header, 0x3e, 2);
  if (entsize < 64 || names_index >= count || count > 65535) return std::nullopt;
  const auto sections = read_at(shoff, count * entsize);
  if (!sections) return std::nullopt;
  auto section = [&](uint64_t i) {
    const size_t at = static_cast<size_t>(i * entsize);
    return std::make_tuple(u(*sections, at, 4), u(*sections, at + 24, 8), u(*sections, at + 32, 8));
  };
  const auto [unused, names_offset, names_size] = section(names_index);
  const auto names = read_at(names_offset, names_size);
  if (!names) return std::nullopt;
  for (uint64_t i = 0; i < count; ++i) {
    const auto [name_at, offset, size] = section(i);
    if (name_at >= names->size() || names->c_str() + name_at != name) continue;
    auto bytes = read_at(offset, size);
    if (bytes) bytes->resize(std::strlen(bytes->c_str()));
    return bytes;
  }
  return std::nullopt;
}

std::string host_elf_machine() {
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
  return "";
#endif
}

}  // namespace llmcc
