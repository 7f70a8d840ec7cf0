// llmcc cache: the on-demand compilation cache (see src/jit/jit.h).
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "jit/jit.h"
#include "tools/llmcc/commands.h"

namespace llmcc::cli {

Action add_cache_command(CLI::App& app) {
  auto what = std::make_shared<std::string>("list");
  auto hash = std::make_shared<std::string>();
  app.add_option("action", *what, "list (entries and sizes), clear [HASH] (all, or one), or dir")
      ->check(CLI::IsMember({"list", "clear", "dir"}))
      ->capture_default_str();
  app.add_option("hash", *hash, "With clear: the entry to remove");
  return [what, hash] {
    if (*what == "dir") {
      std::printf("%s\n", jit_cache_dir().string().c_str());
    } else if (*what == "clear") {
      std::printf("removed %d entr%s\n", clear_cache(*hash), "ies");
    } else {
      uintmax_t total = 0;
      auto entries = list_cache();
      for (const auto& e : entries) {
        total += e.bytes;
        std::string what_it_is =
            e.info.is_null() ? std::string("(no record: will be rebuilt)")
                             : fmt::format("{} {} from {}", e.info["key"].value("model_type", "?"),
                                           e.info["key"].value("quantization", "?"),
                                           e.info.value("model_dir", "?"));
        std::printf("%s  %8.2f MB  %s\n", e.hash.c_str(), e.bytes / 1e6, what_it_is.c_str());
      }
      std::printf("%zu entries, %.2f MB in %s\n", entries.size(), total / 1e6,
                  (jit_cache_dir() / "model_lib").string().c_str());
    }
    return 0;
  };
}

}  // namespace llmcc::cli
