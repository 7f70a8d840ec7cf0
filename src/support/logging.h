// Logging to stderr. Tools print results to stdout; everything a user reads as progress or warning
// goes here, so stdout stays machine-readable.
#pragma once

#include <fmt/format.h>

#include <cstdio>

namespace llmcc {

enum class LogLevel { kDebug, kInfo, kWarning, kError };

LogLevel log_threshold();
void set_log_threshold(LogLevel level);
void log_line(LogLevel level, const std::string& message);

template <typename... Args>
void log_info(fmt::format_string<Args...> format, Args&&... args) {
  if (log_threshold() <= LogLevel::kInfo)
    log_line(LogLevel::kInfo, fmt::format(format, std::forward<Args>(args)...));
}

template <typename... Args>
void log_warning(fmt::format_string<Args...> format, Args&&... args) {
  if (log_threshold() <= LogLevel::kWarning)
    log_line(LogLevel::kWarning, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace llmcc
