// The build function each target kind gets when the caller does not pass one.
#include "ir/printer.h"
#include "llmcc/compile.h"
#include "support/error.h"
#include "support/files.h"
#include "support/logging.h"
#include "targets/cpu/codegen.h"
#include "targets/cpu/kernel_selection.h"
#include "targets/cpu/toolchain.h"

namespace llmcc {

namespace {

void build_cpu(ir::Module& module, const CompileArgs& args, const PassManager& pipeline) {
  log_info("Running llmcc graph-level optimizations");
  pipeline.run(module, args.debug_dump);
  log_info("Generating C++ for {}", args.target.mcpu);
  std::string source = cpu::emit_source(module, args.system_lib_prefix);
  if (args.debug_dump) write_file_atomic(*args.debug_dump / "model.cc", source);
  log_info("Compiling with the host C++ compiler");
  cpu::build_library(source, args.target, cpu::library_kind_for(args.output), args.output);
}

}  // namespace

std::function<void(ir::Module&)> kernel_selector(const Target& target) {
  if (target.kind != "llvm") return nullptr;
  return [target](ir::Module& m) {
    const cpu::CpuIsa isa = cpu::cpu_isa(target);
    cpu::select_kernels(m, isa);
    // What a machine needs to run the library; the loader checks it (runtime/cpu_features.h).
    if (m.attrs.contains("metadata")) m.attrs["metadata"]["cpu_features"] = isa.features;
  };
}

BuildFunc default_build_func(const Target& target) {
  if (target.kind == "llvm") return build_cpu;
  throw NotImplementedError("no build function for target kind '" + target.kind + "'");
}

}  // namespace llmcc
