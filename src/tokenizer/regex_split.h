// Regex splitting with PCRE2 (UTF and Unicode properties), as tokenizers' Split pre-tokenizer.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace llmcc {

class Regex {
 public:
  // Throws UserError naming the pattern when it does not compile.
  explicit Regex(const std::string& pattern);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;
  // Non-overlapping matches, left to right, as [begin, end) byte offsets.
  std::vector<std::pair<size_t, size_t>> find_all(const std::string& text) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// How a Split pre-tokenizer treats the matches (tokenizers' SplitDelimiterBehavior).
enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

// Splits `text` around the matches of `regex` (or, with invert, keeps only the matches).
std::vector<std::string> split_by(const std::string& text, const Regex& regex,
                                  SplitBehavior behavior, bool invert);

}  // namespace llmcc
