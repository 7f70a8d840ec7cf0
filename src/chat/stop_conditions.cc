#include "chat/stop_conditions.h"

#include <algorithm>

namespace llmcc {

namespace {

// Texts of the tokens that end a generation in the vocabularies llmcc meets: GPT-2/SmolLM/Qwen,
// ChatML, Llama 3, Gemma, Phi-3, Llama 2/Mistral, and the code models' end-of-text.
constexpr const char* kEndOfGenerationTexts[] = {
    "<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|eom_id|>",    "<|end_of_text|>",
    "<end_of_turn>", "<|end|>",    "</s>",       "<|endofturn|>", "<EOT>"};

void add_special_tokens_of(const std::string& text, const Tokenizer& tokenizer,
                           std::set<int32_t>& out) {
  if (text.empty()) return;
  for (int32_t id : tokenizer.encode(text, /*add_special_tokens=*/false))
    if (tokenizer.is_special(id)) out.insert(id);
}

}  // namespace

std::vector<int32_t> end_of_generation_tokens(const Tokenizer& tokenizer) {
  std::vector<int32_t> ids;
  for (const char* text : kEndOfGenerationTexts)
    if (auto id = tokenizer.token_to_id(text); id && tokenizer.is_special(*id)) ids.push_back(*id);
  return ids;
}

StopConditions StopConditions::for_text(const Tokenizer& tokenizer,
                                        const std::vector<int32_t>& eos_token_ids) {
  StopConditions s;
  s.token_ids.insert(eos_token_ids.begin(), eos_token_ids.end());
  for (int32_t id : end_of_generation_tokens(tokenizer)) s.token_ids.insert(id);
  return s;
}

StopConditions StopConditions::for_conversation(const Conversation& conversation,
                                                const Tokenizer& tokenizer,
                                                const std::vector<int32_t>& eos_token_ids) {
  StopConditions s = for_text(tokenizer, eos_token_ids);
  s.token_ids.insert(conversation.stop_token_ids.begin(), conversation.stop_token_ids.end());
  // Special tokens can never match as text (they are not shown), so a stop string that is one
  // ends the reply as a token; the others are matched in the text.
  for (const auto& stop : conversation.stop_str) {
    add_special_tokens_of(stop, tokenizer, s.token_ids);
    if (!stop.empty()) s.strings.push_back(stop);
  }
  // A special token in a separator closes a turn; one in a role prefix opens the next.
  for (const auto& sep : conversation.seps) add_special_tokens_of(sep, tokenizer, s.token_ids);
  for (const auto& [role, prefix] : conversation.roles)
    add_special_tokens_of(prefix, tokenizer, s.token_ids);
  return s;
}

}  // namespace llmcc
