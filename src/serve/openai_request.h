// The fields of OpenAI's POST /v1/chat/completions and /v1/completions bodies that llmcc serves,
// parsed and checked: a wrong type or value is an ApiError 400 naming the field. Fields the API
// defines but llmcc does not act on (user, metadata, ...) are ignored, as OpenAI's own server
// ignores what it does not know; fields whose absence of effect would mislead the client
// (a schema keyword constrained decoding cannot enforce) are refused.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runtime/json_schema_matcher.h"
#include "runtime/sampler.h"
#include "serve/tool_calls.h"
#include "support/json.h"

namespace llmcc::serve {

struct ChatMessage {
  std::string role;  // system, user, assistant or tool
  std::string content;
  std::vector<ToolCall> tool_calls;  // an assistant's calls
};

struct TextRequest {
  bool chat = true;
  std::string model;                  // empty: the served model
  std::vector<ChatMessage> messages;  // chat
  // completions: each prompt is text or token ids; each gets n choices.
  struct Prompt {
    std::string text;
    std::vector<int32_t> ids;
    bool is_ids = false;
  };
  std::vector<Prompt> prompts;
  std::optional<int64_t> max_tokens;  // absent: up to the context window
  int64_t n = 1;
  std::vector<std::string> stop;
  std::vector<int32_t> stop_token_ids;  // MLC's and vLLM's extension
  SamplingParams sampling;
  bool seeded = false;
  std::vector<std::pair<int32_t, float>> logit_bias;
  bool logprobs = false;
  int64_t top_logprobs = 0;
  bool echo = false;  // completions: the prompt's text before the reply
  bool stream = false;
  bool include_usage = false;
  // response_format json_object or json_schema: the output's schema, compiled.
  std::shared_ptr<const JsonSchema> json_schema;
  // Functions the model may call, and tool_choice: "none", "auto", "required", or "function"
  // with tool_choice_name.
  std::vector<ToolSpec> tools;
  std::string tool_choice = "auto";
  std::string tool_choice_name;
  bool tools_active() const { return !tools.empty() && tool_choice != "none"; }
  // tool_choice "required" or a named function: the reply must be a call.
  bool tool_call_required() const { return tool_choice == "required" || tool_choice == "function"; }
};

// `defaults`: the model's sampling defaults (mlc-chat-config.json), which the request overrides.
TextRequest parse_chat_request(const Json& body, const SamplingParams& defaults);
TextRequest parse_completion_request(const Json& body, const SamplingParams& defaults);

}  // namespace llmcc::serve
