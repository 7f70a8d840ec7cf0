// A multi-turn conversation with a model: templating, trimming the history to the context window,
// streaming detokenization, stop tokens and stop strings, and speed statistics.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "chat/conversation.h"
#include "chat/stop_conditions.h"
#include "runtime/engine.h"
#include "tokenizer/tokenizer.h"

namespace llmcc {

struct ChatStats {
  int64_t prefill_tokens = 0, decode_tokens = 0;
  double prefill_seconds = 0, decode_seconds = 0;
};

class ChatSession {
 public:
  // `eos_token_ids` (from mlc-chat-config.json) end a reply, with the template's own stops.
  ChatSession(Engine& engine, const Tokenizer& tokenizer, Conversation conversation,
              SamplingParams sampling, int64_t max_tokens,
              const std::vector<int32_t>& eos_token_ids = {});

  // Runs one user turn; `on_text` receives the reply as it streams, without special tokens and
  // ending before any stop token or string. Returns the reply.
  std::string chat(const std::string& user_message,
                   const std::function<void(const std::string&)>& on_text);
  void reset();
  // "temperature=0.5;top_p=0.8;seed=23;max_tokens=100;stop=a,b" (also top_k, min_p and the
  // penalties).
  void set(const std::string& settings);
  // The current settings in /set's syntax.
  std::string settings_text() const;
  // The tokens of the last reply as generated (without the stop token), and its prompt.
  const std::vector<int32_t>& last_reply_tokens() const { return last_reply_tokens_; }
  const std::vector<int32_t>& last_prompt_tokens() const { return last_prompt_tokens_; }
  const ChatStats& last_stats() const { return stats_; }
  std::string stats_text() const;

  // Called with each turn's prompt token ids, and with notices (history trimmed).
  std::function<void(const std::vector<int32_t>&)> on_prompt_ids;
  std::function<void(const std::string&)> on_notice;

 private:
  std::vector<int32_t> prompt_ids() const;

  Engine& engine_;
  const Tokenizer& tokenizer_;
  Conversation conversation_;
  const size_t base_messages_;  // messages that came with the template, never trimmed
  SamplingParams sampling_;
  int64_t max_tokens_;
  StopConditions stops_;
  std::vector<std::string> extra_stop_;
  std::vector<int32_t> last_reply_tokens_, last_prompt_tokens_;
  ChatStats stats_;
};

}  // namespace llmcc
