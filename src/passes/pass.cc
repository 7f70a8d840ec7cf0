#include "passes/pass.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "ir/printer.h"
#include "ir/verifier.h"
#include "support/error.h"
#include "support/files.h"
#include "support/logging.h"

namespace llmcc {

namespace {

void verify_after(const ir::Module& m, const std::string& what) {
  auto problems = ir::verify_module(m);
  if (!problems.empty())
    internal_error("IR is invalid after {}:\n  {}", what, fmt::join(problems, "\n  "));
}

}  // namespace

void PassManager::run(ir::Module& m, const std::optional<std::filesystem::path>& dump_dir) const {
  if (dump_dir) {
    std::filesystem::create_directories(*dump_dir);
    write_file_atomic(*dump_dir / "debug-input.ir", ir::print_module(m));
  }
  for (size_t i = 0; i < phases_.size(); ++i) {
    const Phase& phase = phases_[i];
    for (const auto& pass : phase.passes) pass.run(m);
    verify_after(m, "phase " + phase.name);
    if (dump_dir)
      write_file_atomic(*dump_dir / fmt::format("debug-phase{}-{}.ir", i, phase.name),
                        ir::print_module(m));
  }
}

void PassManager::run_passes(ir::Module& m, const std::vector<std::string>& names) const {
  for (const auto& name : names) {
    const Pass* found = nullptr;
    std::vector<std::string> known;
    for (const auto& phase : phases_)
      for (const auto& pass : phase.passes) {
        known.push_back(pass.name);
        if (pass.name == name) found = &pass;
      }
    if (!found) user_error("unknown pass '{}'; passes: {}", name, fmt::join(known, ", "));
    found->run(m);
    verify_after(m, "pass " + name);
  }
}

}  // namespace llmcc
