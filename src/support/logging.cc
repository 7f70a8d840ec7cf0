#include "support/logging.h"

#include <atomic>

namespace llmcc {

namespace {
std::atomic<LogLevel> g_threshold{LogLevel::kInfo};
}

LogLevel log_threshold() { return g_threshold.load(); }
void set_log_threshold(LogLevel level) { g_threshold.store(level); }

void log_line(LogLevel level, const std::string& message) {
  const char* tag = level == LogLevel::kWarning ? "[warning] "
                    : level == LogLevel::kError ? "[error] "
                                                : "";
  std::fprintf(stderr, "%s%s\n", tag, message.c_str());
}

}  // namespace llmcc
