// Turns the tokens of a reply into the text a person sees, as they arrive: special tokens are not
// shown (Hugging Face's skip_special_tokens), a stop token or stop string ends the reply, and
// text that might be the start of a stop string is held back until it is known not to be.
#pragma once

#include <string>
#include <vector>

#include "chat/stop_conditions.h"
#include "tokenizer/tokenizer.h"

namespace llmcc {

class ReplyStream {
 public:
  ReplyStream(const Tokenizer& tokenizer, const StopConditions& stops);

  // Feeds the next generated token; returns the text it makes safe to show (often empty). After
  // the reply has stopped, further tokens are ignored.
  std::string push(int32_t token);
  // The text still held back, once generation has ended for another reason (length, context).
  std::string finish();

  bool stopped() const { return stopped_; }
  // Everything shown so far, and the tokens that made it (without the stop token).
  const std::string& text() const { return text_; }
  const std::vector<int32_t>& tokens() const { return tokens_; }

 private:
  std::string release(bool final);

  const StopConditions& stops_;
  StreamDecoder decoder_;
  std::string pending_, text_;
  std::vector<int32_t> tokens_;
  bool stopped_ = false;
};

}  // namespace llmcc
