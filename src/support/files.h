// File helpers. Every output llmcc produces appears atomically: it is written under a temporary
// name in the destination folder and renamed into place, and temporaries are removed when the
// process fails or is interrupted.
#pragma once

#include <filesystem>
#include <string>

namespace llmcc {

std::string read_file(const std::filesystem::path& path);

// A path that is deleted (file or folder) when this object dies, at exit, or on SIGINT/SIGTERM,
// unless release() is called first.
class TempPath {
 public:
  explicit TempPath(std::filesystem::path path);
  ~TempPath();
  TempPath(const TempPath&) = delete;
  TempPath& operator=(const TempPath&) = delete;
  const std::filesystem::path& path() const { return path_; }
  void release();

 private:
  std::filesystem::path path_;
  bool released_ = false;
};

// A fresh private folder under the system temp dir, removed when the returned object dies.
TempPath make_temp_dir(const std::string& stem);

// Writes `contents` to `path` atomically.
void write_file_atomic(const std::filesystem::path& path, const std::string& contents);

// Moves `from` (anywhere) to `to` atomically: copies to a temporary beside `to`, then renames.
void install_file_atomic(const std::filesystem::path& from, const std::filesystem::path& to);

// Raises a UserError unless `path`'s parent folder exists and `path` is not a folder.
void check_output_path(const std::filesystem::path& path);

}  // namespace llmcc
