// Passes and the pass manager. A pass is a named function over a module; passes are grouped into
// phases, the IR is verified after each phase, and --debug-dump writes it out.
#pragma once

#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ir/module.h"

namespace llmcc {

struct Pass {
  std::string name;
  std::function<void(ir::Module&)> run;
};

struct Phase {
  std::string name;
  std::vector<Pass> passes;
};

class PassManager {
 public:
  void add_phase(Phase phase) { phases_.push_back(std::move(phase)); }
  const std::vector<Phase>& phases() const { return phases_; }
  // Runs every phase in order. With `dump_dir`, writes debug-phase<N>-<name>.ir after phase N
  // and the builder's output to debug-input.ir first.
  void run(ir::Module& m,
           const std::optional<std::filesystem::path>& dump_dir = std::nullopt) const;
  // Runs only the named passes, in the given order (llmcc-opt --passes=a,b).
  void run_passes(ir::Module& m, const std::vector<std::string>& names) const;

 private:
  std::vector<Phase> phases_;
};

}  // namespace llmcc
