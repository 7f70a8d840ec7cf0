#include "support/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>

namespace llmcc {

ProgressBar::ProgressBar(std::string label, int64_t total)
    : label_(std::move(label)),
      total_(total > 0 ? total : 1),
      tty_(::isatty(2) != 0),
      start_(std::chrono::steady_clock::now()) {}

void ProgressBar::update(int64_t done, const std::string& detail) {
  double frac = static_cast<double>(done) / total_;
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  if (tty_) {
    const int width = 30;
    int filled = static_cast<int>(frac * width);
    std::string bar(filled, '=');
    if (filled < width) bar += '>' + std::string(width - filled - 1, ' ');
    std::fprintf(stderr, "\r%s [%s] %3d%% %lld/%lld %.1fs %-40.40s", label_.c_str(), bar.c_str(),
                 static_cast<int>(frac * 100), static_cast<long long>(done),
                 static_cast<long long>(total_), secs, detail.c_str());
    std::fflush(stderr);
    return;
  }
  int decile = static_cast<int>(frac * 10);
  if (decile == last_decile_) return;
  last_decile_ = decile;
  std::fprintf(stderr, "%s: %d%% (%lld/%lld) %.1fs\n", label_.c_str(), decile * 10,
               static_cast<long long>(done), static_cast<long long>(total_), secs);
}

void ProgressBar::finish() {
  if (finished_) return;
  finished_ = true;
  update(total_);
  if (tty_) std::fprintf(stderr, "\n");
}

}  // namespace llmcc
