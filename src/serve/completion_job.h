// One OpenAI request running on the engine: its prompt (from the conversation template for chat,
// or the text / ids of a completion), its n choices, each with a ReplyStream that hides special
// tokens and ends at stop tokens and stop strings, and the events a streaming response sends.
// Tokens arrive on the engine's thread; the HTTP thread takes them with next_events().
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "chat/chat_config.h"
#include "chat/reply_stream.h"
#include "runtime/engine.h"
#include "serve/openai_request.h"
#include "serve/server_metrics.h"
#include "tokenizer/tokenizer.h"

namespace llmcc::serve {

// The engine's tokens for one choice, as they were shown: text, and per token its logprob.
struct ChoiceEvent {
  int64_t index = 0;
  std::string text;
  std::vector<int32_t> tokens;         // the tokens whose text this is
  std::vector<TokenLogprob> logprobs;  // one per token, when asked for
  std::optional<std::string> finish;   // set on the choice's last event
};

struct ChoiceResult {
  std::string text;
  std::vector<int32_t> tokens;  // shown tokens (no stop token)
  std::vector<TokenLogprob> logprobs;
  std::string finish_reason;  // OpenAI's: stop or length
};

class CompletionJob {
 public:
  // Builds the prompt(s) and checks them against the context window (ApiError 400).
  CompletionJob(Engine& engine, const Tokenizer& tokenizer, const ChatConfig* chat,
                const TextRequest& request, ServerMetrics& metrics);
  ~CompletionJob();  // cancels what still runs

  // Submits every choice to the engine.
  void start();
  void cancel();
  // Waits up to `wait` for events; empty when none came. Choices that ended have an event with
  // `finish` once, after their last text.
  std::vector<ChoiceEvent> next_events(std::chrono::milliseconds wait);
  bool finished() const;  // every choice has sent its finish event
  // After every choice is done: the results, in choice order (index = prompt * n + choice).
  std::vector<ChoiceResult> results();

  int64_t prompt_tokens() const;  // over all prompts
  int64_t completion_tokens() const;
  size_t num_choices() const { return choices_.size(); }
  const std::vector<int32_t>& prompt_ids(size_t prompt) const { return prompts_[prompt]; }
  std::string prompt_text(size_t prompt) const;

 private:
  struct Choice;
  void finish_choice(Choice& c);

  Engine& engine_;
  const Tokenizer& tokenizer_;
  TextRequest request_;
  ServerMetrics& metrics_;
  StopConditions stops_;
  std::vector<std::vector<int32_t>> prompts_;
  std::vector<std::unique_ptr<Choice>> choices_;
  std::chrono::steady_clock::time_point created_;

  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<ChoiceEvent> pending_;
};

}  // namespace llmcc::serve
