// When a reply ends. Token ids end it without being shown: the template's stop tokens, the
// model's end-of-sequence ids, the special tokens that close a turn or open the next one (a model
// that writes `<|im_start|>` is inventing the user's turn), and the tokenizer's well-known
// end-of-generation tokens. Strings end it where they appear in the reply's text.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "chat/conversation.h"
#include "tokenizer/tokenizer.h"

namespace llmcc {

struct StopConditions {
  std::set<int32_t> token_ids;
  std::vector<std::string> strings;

  bool is_stop_token(int32_t id) const { return token_ids.count(id) != 0; }

  // For a reply in `conversation`: its stop_str and stop_token_ids, `eos_token_ids`, every special
  // token in its role prefixes, separators and stop strings, and the end-of-generation tokens.
  static StopConditions for_conversation(const Conversation& conversation,
                                         const Tokenizer& tokenizer,
                                         const std::vector<int32_t>& eos_token_ids);
  // For text without a template: `eos_token_ids` and the end-of-generation tokens.
  static StopConditions for_text(const Tokenizer& tokenizer,
                                 const std::vector<int32_t>& eos_token_ids);
};

// The special tokens of `tokenizer` whose text marks the end of a generation in the common
// vocabularies (<|endoftext|>, <|im_end|>, <|eot_id|>, <end_of_turn>, </s>, ...), as llama.cpp
// also recognises them; tokens that merely share the text but are not special are left out.
std::vector<int32_t> end_of_generation_tokens(const Tokenizer& tokenizer);

}  // namespace llmcc
