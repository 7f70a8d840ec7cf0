#include "targets/cpu/cpu_backend.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <optional>
#include <set>

#include "support/error.h"
#include "support/logging.h"
#include "targets/cpu/codegen.h"
#include "targets/cpu/kernel_selection.h"
#include "targets/cpu/toolchain.h"

namespace llmcc::cpu {

namespace {

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(const Target& target) : target_(target) {}

  std::string name() const override { return is_aarch64(target_) ? "aarch64 CPU" : "x86-64 CPU"; }

  void select_kernels(ir::Module& m) const override {
    cpu::select_kernels(m, isa());
    // What a machine needs to run the library; the loader checks it (runtime/cpu_features.h).
    if (m.attrs.contains("metadata")) m.attrs["metadata"]["cpu_features"] = isa().features;
    report_portable_kernels(m);
  }

  std::string emit(const ir::Module& m, const std::string& symbol_prefix) const override {
    return emit_source(m, symbol_prefix);
  }

  void build(const std::string& source, LibraryKind kind,
             const std::filesystem::path& output) const override {
    build_library(source, target_, kind, output);
  }

  std::string toolchain_identity() const override { return compiler_identity(target_); }

 private:
  // The instruction sets the compiler enables for the target (it is asked once, on first use).
  const CpuIsa& isa() const {
    if (!isa_) isa_ = cpu_isa(target_);
    return *isa_;
  }

  // The kernels without a SIMD version for this target run portable C++ that the compiler
  // vectorizes as it can: say which, so a slow library is no surprise.
  void report_portable_kernels(const ir::Module& m) const {
    std::set<std::string> portable;
    for (const auto& f : m.functions)
      for (const auto& op : f.ops) {
        const std::string kernel = op.attrs.value("kernel", "");
        if (kernel.find("/portable") != std::string::npos) portable.insert(kernel);
      }
    if (portable.empty()) return;
    log_info("Notice: {} has no SIMD kernel for {} yet; they run portable C++ (-mcpu={})", name(),
             fmt::join(portable, ", "), target_.mcpu);
  }

  Target target_;
  mutable std::optional<CpuIsa> isa_;
};

}  // namespace

bool is_x86_64_target(const Target& t) {
  return t.kind == "llvm" && t.mtriple.rfind("x86_64", 0) == 0;
}
bool is_aarch64_target(const Target& t) { return t.kind == "llvm" && is_aarch64(t); }

std::unique_ptr<Backend> make_cpu_backend(const Target& target) {
  return std::make_unique<CpuBackend>(target);
}

}  // namespace llmcc::cpu
