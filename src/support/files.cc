#include "support/files.h"

#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>
#include <set>
#include <sstream>

#include "support/error.h"

namespace llmcc {
namespace fs = std::filesystem;

namespace {

// Paths to remove if the process dies. Plain C strings so the signal handler can use them.
std::mutex g_mutex;
std::set<std::string>& pending() {
  static auto* paths = new std::set<std::string>();
  return *paths;
}

void remove_pending() {
  std::lock_guard lock(g_mutex);
  std::error_code ec;
  for (const auto& p : pending()) fs::remove_all(p, ec);
  pending().clear();
}

void on_signal(int sig) {
  // Not strictly async-signal-safe, but the process is about to die and leaving a half-written
  // model library behind is worse.
  for (const auto& p : pending()) {
    std::error_code ec;
    fs::remove_all(p, ec);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

void install_handlers_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    std::atexit(remove_pending);
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
  });
}

std::string random_suffix() {
  static std::mt19937_64 rng(std::random_device{}() ^ static_cast<uint64_t>(::getpid()));
  return fmt::format("{:012x}", rng() & 0xffffffffffffull);
}

}  // namespace

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) user_error("cannot read file '{}': {}", path.string(), std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TempPath::TempPath(fs::path path) : path_(std::move(path)) {
  install_handlers_once();
  std::lock_guard lock(g_mutex);
  pending().insert(path_.string());
}

TempPath::~TempPath() {
  if (released_) return;
  std::error_code ec;
  fs::remove_all(path_, ec);
  std::lock_guard lock(g_mutex);
  pending().erase(path_.string());
}

void TempPath::release() {
  released_ = true;
  std::lock_guard lock(g_mutex);
  pending().erase(path_.string());
}

TempPath make_temp_dir(const std::string& stem) {
  std::string pattern = (fs::temp_directory_path() / (stem + "-XXXXXX")).string();
  if (::mkdtemp(pattern.data()) == nullptr)
    user_error("cannot create a temporary folder in {}: {}", fs::temp_directory_path().string(),
               std::strerror(errno));
  return TempPath(pattern);
}

void check_output_path(const fs::path& path) {
  if (path.empty()) user_error("the output path is empty");
  if (fs::is_directory(path))
    user_error("output '{}' is a folder; give a file name", path.string());
  fs::path parent = path.parent_path();
  if (parent.empty()) parent = ".";
  if (!fs::is_directory(parent))
    user_error("the folder of output '{}' does not exist: '{}'", path.string(), parent.string());
}

void write_file_atomic(const fs::path& path, const std::string& contents) {
  check_output_path(path);
  TempPath tmp(path.parent_path() / ("." + path.filename().string() + ".tmp-" + random_suffix()));
  {
    std::ofstream out(tmp.path(), std::ios::binary);
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    if (!out) user_error("cannot write '{}': {}", tmp.path().string(), std::strerror(errno));
  }
  fs::rename(tmp.path(), path);
  tmp.release();
}

void install_file_atomic(const fs::path& from, const fs::path& to) {
  check_output_path(to);
  TempPath tmp(to.parent_path() / ("." + to.filename().string() + ".tmp-" + random_suffix()));
  std::error_code ec;
  fs::copy_file(from, tmp.path(), fs::copy_options::overwrite_existing, ec);
  if (ec) user_error("cannot write '{}': {}", tmp.path().string(), ec.message());
  fs::rename(tmp.path(), to, ec);
  if (ec) user_error("cannot move the output into place at '{}': {}", to.string(), ec.message());
  tmp.release();
}

}  // namespace llmcc
