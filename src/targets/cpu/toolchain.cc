#include "targets/cpu/toolchain.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>

#include "support/embedded_sources.h"
#include "support/error.h"
#include "support/files.h"
#include "support/host_arch.h"
#include "support/logging.h"

namespace llmcc::cpu {

namespace fs = std::filesystem;

namespace {

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Runs a command, returning its exit status and combined output.
std::pair<int, std::string> run(const std::vector<std::string>& argv) {
  std::string cmd;
  for (const auto& a : argv) cmd += shell_quote(a) + " ";
  cmd += "2>&1";
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe) internal_error("cannot run '{}'", cmd);
  std::string output;
  std::array<char, 4096> buf;
  while (size_t n = std::fread(buf.data(), 1, buf.size(), pipe)) output.append(buf.data(), n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : 128, output};
}

std::string compiler() {
  const char* cxx = std::getenv("CXX");
  return cxx && *cxx ? cxx : "c++";
}

}  // namespace

bool is_aarch64(const Target& target) { return target.mtriple.rfind("aarch64", 0) == 0; }

bool is_cross(const Target& target) {
  return target.mtriple.substr(0, target.mtriple.find('-')) != host_arch();
}

std::string compiler_for(const Target& target) {
  if (!is_cross(target)) return compiler();
  // Debian's cross compilers are named by their triple (g++-aarch64-linux-gnu).
  const char* cross = std::getenv("LLMCC_CROSS_CXX");
  return cross && *cross ? cross : target.mtriple + "-g++";
}

std::string compiler_identity(const Target& target) {
  const std::string cxx = compiler_for(target);
  auto [status, version] = run({cxx, "--version"});
  const std::string first = version.substr(0, version.find('\n'));
  return cxx + ": " + (status == 0 ? first : "(does not run)");
}

std::vector<std::string> cpu_flags(const Target& target) {
  if (is_aarch64(target)) {
    // GCC spells aarch64 extensions as -mcpu=NAME+ext+noext; TVM's +neon is GCC's simd. A
    // generic CPU is an architecture level instead: GCC's intrinsics for dotprod, fp16, i8mm
    // and bf16 are declared for Armv8.2-A and up and do not inline into plain Armv8-A code.
    std::string exts;
    bool beyond_v8 = false;
    for (const auto& attr : target.mattr) {
      const std::string name = attr.substr(1) == "neon" ? "simd" : attr.substr(1);
      exts += (attr[0] == '+' ? "+" : "+no") + name;
      beyond_v8 |= attr[0] == '+' && name != "simd" && name != "fp" && name != "crc";
    }
    if (target.mcpu == "generic")
      return {std::string(beyond_v8 ? "-march=armv8.2-a" : "-march=armv8-a") + exts};
    return {"-mcpu=" + target.mcpu + exts};
  }
  std::vector<std::string> flags = {"-march=" + target.mcpu};
  for (const auto& attr : target.mattr)
    flags.push_back((attr[0] == '+' ? "-m" : "-mno-") + attr.substr(1));
  return flags;
}

namespace {

[[noreturn]] void no_compiler(const Target& target, const std::string& log) {
  if (is_cross(target))
    user_error(
        "no C++ compiler for {}: '{}' does not run; install Debian's g++-{} or set "
        "LLMCC_CROSS_CXX ({})",
        target.mtriple, compiler_for(target), target.mtriple, log);
  user_error("no C++ compiler found: install g++ or set $CXX ({})", log);
}

}  // namespace

CpuIsa cpu_isa(const Target& target) {
  std::vector<std::string> cc = {compiler_for(target), "-dM", "-E", "-x", "c++"};
  for (const auto& f : cpu_flags(target)) cc.push_back(f);
  cc.push_back("/dev/null");
  auto [status, macros] = run(cc);
  if (status == 127) no_compiler(target, macros);
  if (status != 0)
    user_error("the host compiler rejected the CPU options {} of target '{}':\n{}",
               fmt::join(cpu_flags(target), " "), target.device, macros);
  auto has = [&](const char* macro) {
    return macros.find(std::string("#define ") + macro + " ") != std::string::npos;
  };
  CpuIsa isa;
  isa.avx2 = has("__AVX2__");
  isa.fma = has("__FMA__");
  isa.f16c = has("__F16C__");
  isa.avx512_vnni = has("__AVX512F__") && has("__AVX512BW__") && has("__AVX512VNNI__");
  isa.neon = has("__ARM_NEON");
  isa.dotprod = has("__ARM_FEATURE_DOTPROD");
  // The compiler's feature macros and the names Linux gives the same extensions.
  static const std::pair<const char*, const char*> kFeatures[] = {
      {"__SSE3__", "pni"},
      {"__SSSE3__", "ssse3"},
      {"__SSE4_1__", "sse4_1"},
      {"__SSE4_2__", "sse4_2"},
      {"__POPCNT__", "popcnt"},
      {"__AVX__", "avx"},
      {"__AVX2__", "avx2"},
      {"__FMA__", "fma"},
      {"__F16C__", "f16c"},
      {"__BMI__", "bmi1"},
      {"__BMI2__", "bmi2"},
      {"__LZCNT__", "abm"},
      {"__MOVBE__", "movbe"},
      {"__AVXVNNI__", "avx_vnni"},
      {"__AVX512F__", "avx512f"},
      {"__AVX512CD__", "avx512cd"},
      {"__AVX512BW__", "avx512bw"},
      {"__AVX512DQ__", "avx512dq"},
      {"__AVX512VL__", "avx512vl"},
      {"__AVX512VNNI__", "avx512_vnni"},
      {"__AVX512BF16__", "avx512_bf16"},
      {"__AVX512FP16__", "avx512_fp16"},
      {"__AVX512VBMI__", "avx512vbmi"},
      {"__AVX512VBMI2__", "avx512_vbmi2"},
      {"__AVX512IFMA__", "avx512ifma"},
      {"__AVX512BITALG__", "avx512_bitalg"},
      {"__AVX512VPOPCNTDQ__", "avx512_vpopcntdq"},
      {"__AVX512ER__", "avx512er"},
      {"__AVX512PF__", "avx512pf"},
      {"__AMX_TILE__", "amx_tile"},
      {"__AMX_INT8__", "amx_int8"},
      {"__AMX_BF16__", "amx_bf16"},
      {"__GFNI__", "gfni"},
      {"__VAES__", "vaes"},
      {"__VPCLMULQDQ__", "vpclmulqdq"},
      // aarch64, by the names of Linux's HWCAP bits.
      {"__ARM_FP", "fp"},
      {"__ARM_NEON", "asimd"},
      {"__ARM_FEATURE_FP16_VECTOR_ARITHMETIC", "asimdhp"},
      {"__ARM_FEATURE_QRDMX", "asimdrdm"},
      {"__ARM_FEATURE_DOTPROD", "asimddp"},
      {"__ARM_FEATURE_MATMUL_INT8", "i8mm"},
      {"__ARM_FEATURE_BF16_VECTOR_ARITHMETIC", "bf16"},
      {"__ARM_FEATURE_SVE", "sve"},
      {"__ARM_FEATURE_SVE2", "sve2"}};
  for (const auto& [macro, flag] : kFeatures)
    if (has(macro)) isa.features.push_back(flag);
  return isa;
}

void build_library(const std::string& source, const Target& target, LibraryKind kind,
                   const fs::path& output) {
  check_output_path(output);
  TempPath dir = make_temp_dir("llmcc-build");
  for (const auto& [path, text] : kernel_sources()) {
    fs::path p = dir.path() / "include" / path;
    fs::create_directories(p.parent_path());
    write_file_atomic(p, text);
  }
  fs::path src = dir.path() / "model.cc", obj = dir.path() / "lib0.o";
  write_file_atomic(src, source);

  std::vector<std::string> cc = {
      compiler_for(target),  "-std=c++17",     "-O2", "-fPIC", "-pthread",
      "-fvisibility=hidden", "-fno-math-errno"};
  for (const auto& f : cpu_flags(target)) cc.push_back(f);
  cc.insert(cc.end(),
            {"-I", (dir.path() / "include").string(), "-c", src.string(), "-o", obj.string()});
  auto [status, log] = run(cc);
  if (status != 0) {
    if (log.find("march") != std::string::npos ||
        log.find("unrecognized command-line option '-m") != std::string::npos)
      user_error("the host compiler rejected the CPU options {} of target '{}':\n{}",
                 fmt::join(cpu_flags(target), " "), target.device, log);
    if (status == 127) no_compiler(target, log);
    internal_error("the generated model source failed to compile (an llmcc bug):\n{}", log);
  }

  fs::path built = dir.path() / (kind == LibraryKind::kShared ? "lib.so" : "lib.tar");
  if (kind == LibraryKind::kShared) {
    auto [link_status, link_log] =
        run({compiler_for(target), "-shared", "-pthread", obj.string(), "-o", built.string()});
    if (link_status != 0) internal_error("linking the model library failed:\n{}", link_log);
  } else {
    auto [tar_status, tar_log] =
        run({"tar", "-cf", built.string(), "-C", dir.path().string(), "lib0.o"});
    if (tar_status != 0) user_error("writing the static library with tar failed:\n{}", tar_log);
  }
  install_file_atomic(built, output);
}

}  // namespace llmcc::cpu
