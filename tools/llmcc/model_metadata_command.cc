// llmcc model_metadata: MLC's `python -m mlc_llm.cli.model_metadata LIB [--memory-only]`.
#include <cstdio>
#include <memory>

#include "compile/memory_report.h"
#include "runtime/model_library.h"
#include "tools/llmcc/commands.h"

namespace llmcc::cli {

Action add_model_metadata_command(CLI::App& app) {
  auto lib = std::make_shared<std::string>();
  auto memory_only = std::make_shared<bool>(false);
  app.add_option("model_lib", *lib, "A compiled model library (.so)")->required();
  app.add_flag("--memory-only", *memory_only, "Print only the memory usage estimate");
  return [lib, memory_only] {
    ModelLibrary library(*lib);
    if (*memory_only) {
      for (const auto& line : memory_report_lines(library.metadata()))
        std::printf("%s\n", line.c_str());
    } else {
      std::printf("%s\n", library.metadata().dump(2).c_str());
    }
    return 0;
  };
}

}  // namespace llmcc::cli
