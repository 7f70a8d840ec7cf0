// A progress bar on stderr: redrawn in place on a terminal, a line per 10% otherwise (logs, CI).
#pragma once

#include <chrono>
#include <string>

namespace llmcc {

class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total);
  void update(int64_t done, const std::string& detail = "");
  void finish();

 private:
  std::string label_;
  int64_t total_;
  bool tty_;
  int last_decile_ = -1;
  bool finished_ = false;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace llmcc
