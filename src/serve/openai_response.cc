#include "serve/openai_response.h"

#include <fmt/format.h>

#include <chrono>
#include <random>

namespace llmcc::serve {

namespace {

// A token's text as the API shows it, and its bytes (which need not be valid UTF-8 alone).
Json token_entry(const Tokenizer& tokenizer, int32_t token, float logprob) {
  const std::string bytes = tokenizer.decode_bytes({token});
  Json list = Json::array();
  for (unsigned char b : bytes) list.push_back(static_cast<int>(b));
  return {{"token", bytes}, {"logprob", logprob}, {"bytes", list}};
}

}  // namespace

ResponseIds new_response_ids(const std::string& prefix, const std::string& model) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  ResponseIds ids;
  ids.id = fmt::format("{}-{:016x}{:08x}", prefix, rng(), static_cast<uint32_t>(rng()));
  ids.created = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  ids.model = model;
  return ids;
}

Json usage_json(int64_t prompt_tokens, int64_t completion_tokens) {
  return {{"prompt_tokens", prompt_tokens},
          {"completion_tokens", completion_tokens},
          {"total_tokens", prompt_tokens + completion_tokens}};
}

Json chat_logprobs(const Tokenizer& tokenizer, const std::vector<int32_t>& tokens,
                   const std::vector<TokenLogprob>& logprobs) {
  Json content = Json::array();
  for (size_t i = 0; i < tokens.size() && i < logprobs.size(); ++i) {
    Json entry = token_entry(tokenizer, tokens[i], logprobs[i].logprob);
    Json top = Json::array();
    for (const auto& [t, lp] : logprobs[i].top) top.push_back(token_entry(tokenizer, t, lp));
    entry["top_logprobs"] = top;
    content.push_back(entry);
  }
  return {{"content", content}};
}

Json completion_logprobs(const Tokenizer& tokenizer, const std::vector<int32_t>& tokens,
                         const std::vector<TokenLogprob>& logprobs, size_t text_offset) {
  Json texts = Json::array(), lps = Json::array(), tops = Json::array(), offsets = Json::array();
  size_t offset = text_offset;
  for (size_t i = 0; i < tokens.size() && i < logprobs.size(); ++i) {
    const std::string text = tokenizer.decode_bytes({tokens[i]});
    texts.push_back(text);
    lps.push_back(logprobs[i].logprob);
    Json top = Json::object();
    for (const auto& [t, lp] : logprobs[i].top) top[tokenizer.decode_bytes({t})] = lp;
    tops.push_back(top);
    offsets.push_back(offset);
    offset += text.size();
  }
  return {
      {"tokens", texts}, {"token_logprobs", lps}, {"top_logprobs", tops}, {"text_offset", offsets}};
}

Json assistant_message(const std::string& text, const std::vector<ToolSpec>& tools,
                       ToolFormat format, std::string& finish_reason, bool delta) {
  Json message = delta ? Json::object() : Json{{"role", "assistant"}};
  std::optional<ParsedToolCalls> parsed;
  if (!tools.empty()) parsed = parse_tool_calls(text, tools, format);
  if (!parsed) {
    message["content"] = text;
    return message;
  }
  message["content"] = parsed->content.empty() ? Json(nullptr) : Json(parsed->content);
  Json calls = Json::array();
  for (size_t i = 0; i < parsed->calls.size(); ++i) {
    const ToolCall& c = parsed->calls[i];
    Json call = {{"id", c.id},
                 {"type", "function"},
                 {"function", {{"name", c.name}, {"arguments", c.arguments}}}};
    if (delta) call["index"] = i;
    calls.push_back(call);
  }
  message["tool_calls"] = calls;
  finish_reason = "tool_calls";
  return message;
}

Json chat_completion(const ResponseIds& ids, const std::vector<ChoiceResult>& choices,
                     bool logprobs, const Tokenizer& tokenizer, const Json& usage,
                     const std::vector<ToolSpec>& tools, ToolFormat format) {
  Json list = Json::array();
  for (size_t i = 0; i < choices.size(); ++i) {
    const ChoiceResult& c = choices[i];
    std::string finish = c.finish_reason;
    const Json message = assistant_message(c.text, tools, format, finish);
    list.push_back(
        {{"index", i},
         {"message", message},
         {"logprobs", logprobs ? chat_logprobs(tokenizer, c.tokens, c.logprobs) : Json(nullptr)},
         {"finish_reason", finish}});
  }
  return {{"id", ids.id},
          {"object", "chat.completion"},
          {"created", ids.created},
          {"model", ids.model},
          {"choices", list},
          {"usage", usage},
          {"system_fingerprint", nullptr}};
}

Json text_completion(const ResponseIds& ids, const std::vector<ChoiceResult>& choices,
                     bool logprobs, const Tokenizer& tokenizer, const Json& usage,
                     const std::vector<std::string>& echoed) {
  Json list = Json::array();
  for (size_t i = 0; i < choices.size(); ++i) {
    const ChoiceResult& c = choices[i];
    const std::string& prefix = i < echoed.size() ? echoed[i] : std::string();
    list.push_back(
        {{"text", prefix + c.text},
         {"index", i},
         {"logprobs", logprobs ? completion_logprobs(tokenizer, c.tokens, c.logprobs, prefix.size())
                               : Json(nullptr)},
         {"finish_reason", c.finish_reason}});
  }
  return {{"id", ids.id},
          {"object", "text_completion"},
          {"created", ids.created},
          {"model", ids.model},
          {"choices", list},
          {"usage", usage},
          {"system_fingerprint", nullptr}};
}

Json chat_chunk(const ResponseIds& ids, const Json& choices) {
  return {{"id", ids.id},       {"object", "chat.completion.chunk"}, {"created", ids.created},
          {"model", ids.model}, {"system_fingerprint", nullptr},     {"choices", choices}};
}

Json completion_chunk(const ResponseIds& ids, const Json& choices) {
  return {{"id", ids.id},       {"object", "text_completion"},   {"created", ids.created},
          {"model", ids.model}, {"system_fingerprint", nullptr}, {"choices", choices}};
}

std::string dump_json(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

std::string sse_event(const Json& payload) { return "data: " + dump_json(payload) + "\n\n"; }

}  // namespace llmcc::serve
