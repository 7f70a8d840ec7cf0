#include "runtime/cpu_features.h"

#include <fstream>
#include <sstream>

namespace llmcc {

const std::set<std::string>& host_cpu_flags() {
  static const std::set<std::string> flags = [] {
    std::set<std::string> out;
    std::ifstream in("/proc/cpuinfo");
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("flags", 0) != 0) continue;
      std::istringstream words(line.substr(line.find(':') + 1));
      for (std::string w; words >> w;) out.insert(w);
      break;  // every core reports the same
    }
    return out;
  }();
  return flags;
}

std::vector<std::string> missing_cpu_features(const std::vector<std::string>& needed) {
  const std::set<std::string>& have = host_cpu_flags();
  std::vector<std::string> missing;
  if (have.empty()) return missing;
  for (const auto& f : needed)
    if (!have.count(f)) missing.push_back(f);
  return missing;
}

}  // namespace llmcc
