#include "support/process_memory.h"

#include <fstream>
#include <string>

namespace llmcc {

int64_t peak_rss_bytes() {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6)) * 1024;  // "N kB"
  return 0;
}

}  // namespace llmcc
