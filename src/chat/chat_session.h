// A multi-turn conversation with a model: templating, trimming the history to the context window,
// streaming detokenization, stop tokens and stop strings, and speed statistics.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "chat/conversation.h"
#include "runtime/engine.h"
#include "tokenizer/tokenizer.h"

namespace llmcc {

struct ChatStats {
  int64_t prefill_tokens = 0, decode_tokens = 0;
  double prefill_seconds = 0, decode_seconds = 0;
};

class ChatSession {
 public:
  ChatSession(Engine& engine, const Tokenizer& tokenizer, Conversation conversation,
              SamplingParams sampling, int64_t max_tokens);

  // Runs one user turn; `on_text` receives the reply as it streams. Returns the reply.
  std::string chat(const std::string& user_message,
                   const std::function<void(const std::string&)>& on_text);
  void reset();
  // "temperature=0.5;top_p=0.8;seed=23;max_tokens=100;stop=a,b" (also top_k and the penalties).
  void set(const std::string& settings);
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
  std::vector<std::string> extra_stop_;
  ChatStats stats_;
};

}  // namespace llmcc
