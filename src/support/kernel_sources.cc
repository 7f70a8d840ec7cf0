#include <cstdlib>
#include <filesystem>

#include "support/embedded_sources.h"
#include "support/error.h"
#include "support/files.h"
#include "support/md5.h"

namespace llmcc {

namespace fs = std::filesystem;

SourceFiles kernel_sources() {
  const char* dir = std::getenv("LLMCC_KERNEL_SOURCE_DIR");
  if (!dir || !*dir) return embedded_sources();
  SourceFiles files;
  for (const auto& [path, text] : embedded_sources()) {
    fs::path found;
    for (const fs::path& candidate :
         {fs::path(dir) / path, fs::path(dir) / "src" / path, fs::path(dir) / "include" / path})
      if (fs::exists(candidate)) {
        found = candidate;
        break;
      }
    if (found.empty())
      user_error("LLMCC_KERNEL_SOURCE_DIR '{}' has no {} (nor src/{} or include/{})", dir, path,
                 path, path);
    files.emplace_back(path, read_file(found));
  }
  return files;
}

std::string kernel_sources_hash() {
  std::string all;
  for (const auto& [path, text] : kernel_sources()) {
    all += path;
    all += '\0';
    all += std::to_string(text.size());
    all += '\0';
    all += text;
  }
  return Md5::of(all.data(), all.size());
}

}  // namespace llmcc
