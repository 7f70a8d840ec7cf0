// OpenAI's response objects: chat.completion, chat.completion.chunk and text_completion, their
// logprobs in each route's shape, usage, and the server-sent-event framing of a stream.
#pragma once

#include <string>
#include <vector>

#include "runtime/sampler.h"
#include "serve/completion_job.h"
#include "serve/tool_calls.h"
#include "support/json.h"
#include "tokenizer/tokenizer.h"

namespace llmcc::serve {

struct ResponseIds {
  std::string id;  // chatcmpl-... or cmpl-...
  int64_t created = 0;
  std::string model;
};

// A fresh id with OpenAI's prefix ("chatcmpl" or "cmpl"), and the time now.
ResponseIds new_response_ids(const std::string& prefix, const std::string& model);

Json usage_json(int64_t prompt_tokens, int64_t completion_tokens);

// Chat's logprobs: {"content": [{token, logprob, bytes, top_logprobs: [...]}, ...]}.
Json chat_logprobs(const Tokenizer& tokenizer, const std::vector<int32_t>& tokens,
                   const std::vector<TokenLogprob>& logprobs);
// Completions' logprobs: {tokens, token_logprobs, top_logprobs: [{text: lp}], text_offset}.
Json completion_logprobs(const Tokenizer& tokenizer, const std::vector<int32_t>& tokens,
                         const std::vector<TokenLogprob>& logprobs, size_t text_offset);

// With `tools` (the request's, when tool calls are on), a reply that calls them becomes
// tool_calls with finish_reason "tool_calls".
Json chat_completion(const ResponseIds& ids, const std::vector<ChoiceResult>& choices,
                     bool logprobs, const Tokenizer& tokenizer, const Json& usage,
                     const std::vector<ToolSpec>& tools = {},
                     ToolFormat format = ToolFormat::kHermes);

// A chat message (or a stream's delta) for a finished reply: content, or tool_calls when
// `tools` is non-empty and the reply calls them; `finish_reason` becomes "tool_calls" then.
Json assistant_message(const std::string& text, const std::vector<ToolSpec>& tools,
                       ToolFormat format, std::string& finish_reason, bool delta = false);
Json text_completion(const ResponseIds& ids, const std::vector<ChoiceResult>& choices,
                     bool logprobs, const Tokenizer& tokenizer, const Json& usage,
                     const std::vector<std::string>& echoed);

// One chunk of a stream. `choices` may be empty (the usage chunk).
Json chat_chunk(const ResponseIds& ids, const Json& choices);
Json completion_chunk(const ResponseIds& ids, const Json& choices);

// "data: <json>\n\n", and the stream's last event.
std::string sse_event(const Json& payload);
inline constexpr const char* kSseDone = "data: [DONE]\n\n";

// JSON text that never throws on invalid UTF-8 (a token may end inside a character).
std::string dump_json(const Json& j);

}  // namespace llmcc::serve
