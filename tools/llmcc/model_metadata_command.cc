// llmcc model_metadata: MLC's `python -m mlc_llm.cli.model_metadata LIB [--memory-only]`.
#include <cstdio>
#include <memory>

#include "compile/memory_report.h"
#include "runtime/elf_file.h"
#include "runtime/model_library.h"
#include "support/error.h"
#include "support/host_arch.h"
#include "tools/llmcc/commands.h"

namespace llmcc::cli {

Action add_model_metadata_command(CLI::App& app) {
  auto lib = std::make_shared<std::string>();
  auto memory_only = std::make_shared<bool>(false);
  app.add_option("model_lib", *lib, "A compiled model library (.so)")->required();
  app.add_flag("--memory-only", *memory_only, "Print only the memory usage estimate");
  return [lib, memory_only] {
    // A library for another architecture cannot be loaded here; its file still holds the
    // metadata.
    Json metadata;
    const std::string machine = elf_machine(*lib);
    if (!machine.empty() && machine != host_arch()) {
      auto text = elf_section(*lib, ".llmcc_metadata");
      if (!text)
        user_error("'{}' is built for {} and has no .llmcc_metadata section to read here", *lib,
                   machine);
      try {
        metadata = Json::parse(*text);
      } catch (const std::exception& e) {
        user_error("model library '{}' has malformed metadata: {}", *lib, e.what());
      }
    } else {
      metadata = ModelLibrary(*lib).metadata();
    }
    if (*memory_only) {
      for (const auto& line : memory_report_lines(metadata)) std::printf("%s\n", line.c_str());
    } else {
      std::printf("%s\n", metadata.dump(2).c_str());
    }
    return 0;
  };
}

}  // namespace llmcc::cli
