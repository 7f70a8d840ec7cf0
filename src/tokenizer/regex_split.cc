#include "tokenizer/regex_split.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "support/error.h"

namespace llmcc {

struct Regex::Impl {
  pcre2_code* code = nullptr;
};

Regex::Regex(const std::string& pattern) : impl_(std::make_unique<Impl>()) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                              PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &error, &offset, nullptr);
  if (!impl_->code) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof message);
    user_error("tokenizer regex '{}' does not compile at offset {}: {}", pattern, offset,
               reinterpret_cast<const char*>(message));
  }
  pcre2_jit_compile(impl_->code, PCRE2_JIT_COMPLETE);  // optional speed-up; falls back silently
}

Regex::~Regex() { pcre2_code_free(impl_->code); }

std::vector<std::pair<size_t, size_t>> Regex::find_all(const std::string& text) const {
  std::vector<std::pair<size_t, size_t>> out;
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
  size_t start = 0;
  while (start <= text.size()) {
    int rc = pcre2_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(text.data()), text.size(), start,
                         0, md, nullptr);
    if (rc < 0) break;
    PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    size_t b = ov[0], e = ov[1];
    if (e == b) {  // empty match: step over one character
      if (b >= text.size()) break;
      size_t step = 1;
      while (b + step < text.size() && (static_cast<unsigned char>(text[b + step]) & 0xC0) == 0x80)
        ++step;
      start = b + step;
      continue;
    }
    out.emplace_back(b, e);
    start = e;
  }
  pcre2_match_data_free(md);
  return out;
}

std::vector<std::string> split_by(const std::string& text, const Regex& regex,
                                  SplitBehavior behavior, bool invert) {
  // (piece, is_match) spans covering the whole text.
  std::vector<std::pair<std::string, bool>> spans;
  size_t prev = 0;
  for (auto [b, e] : regex.find_all(text)) {
    if (b > prev) spans.emplace_back(text.substr(prev, b - prev), false);
    spans.emplace_back(text.substr(b, e - b), true);
    prev = e;
  }
  if (prev < text.size()) spans.emplace_back(text.substr(prev), false);
  if (invert)
    for (auto& s : spans) s.second = !s.second;

  std::vector<std::string> out;
  switch (behavior) {
    case SplitBehavior::kRemoved:
      for (auto& [s, m] : spans)
        if (!m) out.push_back(s);
      break;
    case SplitBehavior::kIsolated:
      for (auto& [s, m] : spans) out.push_back(s);
      break;
    case SplitBehavior::kMergedWithPrevious:
      for (auto& [s, m] : spans) {
        if (m && !out.empty())
          out.back() += s;
        else
          out.push_back(s);
      }
      break;
    case SplitBehavior::kMergedWithNext: {
      std::string pending;
      for (auto& [s, m] : spans) {
        if (m) {
          if (!pending.empty()) out.push_back(pending);
          pending = s;
        } else {
          out.push_back(pending + s);
          pending.clear();
        }
      }
      if (!pending.empty()) out.push_back(pending);
      break;
    }
    case SplitBehavior::kContiguous:
      for (size_t i = 0; i < spans.size(); ++i) {
        if (!out.empty() && spans[i].second && i > 0 && spans[i - 1].second)
          out.back() += spans[i].first;
        else
          out.push_back(spans[i].first);
      }
      break;
  }
  return out;
}

}  // namespace llmcc
