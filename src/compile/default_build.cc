// The build function a target gets when the caller does not pass one, and its select-kernels
// pass: both ask the target's Backend (targets/backend.h), never a target directly.
#include <memory>

#include "ir/printer.h"
#include "llmcc/compile.h"
#include "support/error.h"
#include "support/files.h"
#include "support/logging.h"
#include "targets/backend.h"

namespace llmcc {

std::function<void(ir::Module&)> kernel_selector(const Target& target) {
  std::shared_ptr<const Backend> backend = make_backend(target);
  return [backend](ir::Module& m) { backend->select_kernels(m); };
}

BuildFunc default_build_func(const Target& target) {
  std::shared_ptr<const Backend> backend = make_backend(target);
  return [backend](ir::Module& module, const CompileArgs& args, const PassManager& pipeline) {
    log_info("Running llmcc graph-level optimizations");
    pipeline.run(module, args.debug_dump);
    log_info("Generating code for the {} (-mcpu={})", backend->name(), args.target.mcpu);
    std::string source = backend->emit(module, args.system_lib_prefix);
    if (args.debug_dump) write_file_atomic(*args.debug_dump / "model.cc", source);
    log_info("Compiling with {}", backend->toolchain_identity());
    backend->build(source, library_kind_for(args.output), args.output);
  };
}

}  // namespace llmcc
