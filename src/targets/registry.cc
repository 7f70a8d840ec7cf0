#include "targets/registry.h"

#include <fmt/format.h>

#include <algorithm>

#include "support/error.h"
#include "support/host_arch.h"
#include "support/logging.h"
#include "targets/backend.h"
#include "targets/cpu/cpu_backend.h"

namespace llmcc {

// Every target llmcc builds for. A new one (CUDA) is a Backend and a line here.
const std::vector<TargetEntry>& target_entries() {
  static const std::vector<TargetEntry> entries = {
      {"x86-64 CPU", "llvm -mtriple=x86_64-linux-gnu", cpu::is_x86_64_target,
       cpu::make_cpu_backend},
      {"aarch64 CPU", "llvm -mtriple=aarch64-linux-gnu", cpu::is_aarch64_target,
       cpu::make_cpu_backend},
  };
  return entries;
}

std::unique_ptr<Backend> make_backend(const Target& target) {
  for (const TargetEntry& e : target_entries())
    if (e.accepts(target)) return e.make(target);
  std::string known;
  for (const TargetEntry& e : target_entries())
    known +=
        fmt::format("{}{} (--device \"{}\")", known.empty() ? "" : ", ", e.name, e.device_example);
  user_error("no target builds for kind '{}' and triple '{}'; the targets are: {}", target.kind,
             target.mtriple, known);
}

LibraryKind library_kind_for(const std::filesystem::path& output) {
  std::string ext = output.extension().string();
  if (ext == ".tar" || ext == ".lib") return LibraryKind::kStatic;
  if (ext != ".so" && ext != ".dylib" && ext != ".dll")
    log_warning("Unknown output suffix '{}'. Assuming shared library.", ext);
  return LibraryKind::kShared;
}

std::vector<std::string> implemented_device_names() { return {"auto", "cpu", "llvm"}; }

bool is_known_unimplemented_device(const std::string& base_name) {
  static const std::vector<std::string> known = {"cuda",    "rocm",   "metal",  "vulkan",
                                                 "opencl",  "webgpu", "iphone", "macabi",
                                                 "android", "mali",   "windows"};
  return std::find(known.begin(), known.end(), base_name) != known.end();
}

std::string host_triple() { return std::string(host_arch()) + "-linux-gnu"; }

}  // namespace llmcc
