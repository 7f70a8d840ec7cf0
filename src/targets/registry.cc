#include "targets/registry.h"

#include <algorithm>

namespace llmcc {

std::vector<std::string> implemented_device_names() { return {"auto", "cpu", "llvm"}; }

bool is_known_unimplemented_device(const std::string& base_name) {
  static const std::vector<std::string> known = {"cuda",    "rocm",   "metal",  "vulkan",
                                                 "opencl",  "webgpu", "iphone", "macabi",
                                                 "android", "mali",   "windows"};
  return std::find(known.begin(), known.end(), base_name) != known.end();
}

std::string host_triple() {
#if defined(__x86_64__)
  return "x86_64-linux-gnu";
#elif defined(__aarch64__)
  return "aarch64-linux-gnu";
#else
  return "unknown-linux-gnu";
#endif
}

}  // namespace llmcc
