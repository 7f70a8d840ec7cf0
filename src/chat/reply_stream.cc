#include "chat/reply_stream.h"

#include <algorithm>

namespace llmcc {

ReplyStream::ReplyStream(const Tokenizer& tokenizer, const StopConditions& stops)
    : stops_(stops), decoder_(tokenizer, /*skip_special_tokens=*/true) {}

std::string ReplyStream::push(int32_t token) {
  if (stopped_) return "";
  if (stops_.is_stop_token(token)) {
    stopped_ = true;
    pending_ += decoder_.finish();
    return release(/*final=*/true);
  }
  tokens_.push_back(token);
  pending_ += decoder_.push(token);
  return release(/*final=*/false);
}

std::string ReplyStream::finish() {
  if (stopped_) return "";
  pending_ += decoder_.finish();
  return release(/*final=*/true);
}

std::string ReplyStream::release(bool final) {
  // The earliest stop string in the pending text ends the reply there.
  size_t cut = std::string::npos;
  for (const auto& s : stops_.strings) cut = std::min(cut, pending_.find(s));
  if (cut != std::string::npos) {
    pending_.resize(cut);
    stopped_ = final = true;
  }
  // Hold back the longest tail that could still grow into a stop string.
  size_t keep = 0;
  if (!final)
    for (const auto& s : stops_.strings)
      for (size_t n = std::min(s.size() - 1, pending_.size()); n > keep; --n)
        if (pending_.compare(pending_.size() - n, n, s, 0, n) == 0) {
          keep = n;
          break;
        }
  std::string out = pending_.substr(0, pending_.size() - keep);
  pending_.erase(0, pending_.size() - keep);
  text_ += out;
  return out;
}

}  // namespace llmcc
