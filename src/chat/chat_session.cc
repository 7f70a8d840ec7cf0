#include "chat/chat_session.h"

#include <fmt/format.h>

#include <sstream>

#include "chat/reply_stream.h"
#include "config/key_value_list.h"
#include "support/error.h"

namespace llmcc {

ChatSession::ChatSession(Engine& engine, const Tokenizer& tokenizer, Conversation conversation,
                         SamplingParams sampling, int64_t max_tokens,
                         const std::vector<int32_t>& eos_token_ids)
    : engine_(engine),
      tokenizer_(tokenizer),
      conversation_(std::move(conversation)),
      base_messages_(conversation_.messages.size()),
      sampling_(sampling),
      max_tokens_(max_tokens),
      stops_(StopConditions::for_conversation(conversation_, tokenizer, eos_token_ids)) {}

std::vector<int32_t> ChatSession::prompt_ids() const {
  std::vector<int32_t> ids = conversation_.system_prefix_token_ids;
  std::vector<int32_t> text = tokenizer_.encode(conversation_.as_prompt(), false);
  ids.insert(ids.end(), text.begin(), text.end());
  return ids;
}

std::string ChatSession::chat(const std::string& user_message,
                              const std::function<void(const std::string&)>& on_text) {
  conversation_.messages.emplace_back("user", user_message);
  conversation_.messages.emplace_back("assistant", std::nullopt);
  std::vector<int32_t> ids = prompt_ids();
  // Keep room for the reply: drop the oldest exchanges until the prompt fits.
  const int64_t window = engine_.context_window_size();
  const int64_t room = std::min<int64_t>(max_tokens_, window / 2);
  int64_t dropped = 0;
  while (static_cast<int64_t>(ids.size()) + room > window &&
         conversation_.messages.size() > base_messages_ + 2) {
    conversation_.messages.erase(conversation_.messages.begin() + base_messages_,
                                 conversation_.messages.begin() + base_messages_ + 2);
    ++dropped;
    ids = prompt_ids();
  }
  if (dropped && on_notice)
    on_notice(
        fmt::format("[the conversation no longer fits the {}-token context window: dropped "
                    "the {} oldest exchange(s)]",
                    window, dropped));
  if (static_cast<int64_t>(ids.size()) >= window) {
    conversation_.messages.resize(conversation_.messages.size() - 2);
    user_error("the message is too long: {} tokens with the template, and the context window is {}",
               ids.size(), window);
  }
  if (on_prompt_ids) on_prompt_ids(ids);

  GenerationConfig config;
  config.sampling = sampling_;
  config.max_tokens = std::min<int64_t>(max_tokens_, window - static_cast<int64_t>(ids.size()));
  StopConditions stops = stops_;
  stops.strings.insert(stops.strings.end(), extra_stop_.begin(), extra_stop_.end());
  ReplyStream stream(tokenizer_, stops);
  auto show = [&](const std::string& text) {
    if (!text.empty()) on_text(text);
  };
  auto result =
      engine_.generate(ids, config, [&](int64_t, const std::vector<float>&, int32_t token) {
        show(stream.push(token));
        return !stream.stopped();
      });
  show(stream.finish());
  const std::string reply = stream.text();
  last_prompt_tokens_ = ids;
  last_reply_tokens_ = stream.tokens();
  conversation_.messages.back().second = reply;
  stats_ = {result.prefill_tokens, static_cast<int64_t>(result.tokens.size()),
            result.prefill_seconds, result.decode_seconds};
  return reply;
}

void ChatSession::reset() {
  conversation_.messages.resize(base_messages_);
  stats_ = {};
}

void ChatSession::set(const std::string& settings) {
  static const std::vector<std::string> keys = {"temperature",
                                                "top_p",
                                                "top_k",
                                                "min_p",
                                                "seed",
                                                "max_tokens",
                                                "stop",
                                                "repetition_penalty",
                                                "presence_penalty",
                                                "frequency_penalty"};
  SamplingParams next = sampling_;
  int64_t max_tokens = max_tokens_;
  std::vector<std::string> stop = extra_stop_;
  for (const auto& [key, value] : parse_key_value_list(settings, keys, "/set")) {
    try {
      if (key == "temperature")
        next.temperature = std::stod(value);
      else if (key == "top_p")
        next.top_p = std::stod(value);
      else if (key == "top_k")
        next.top_k = std::stoll(value);
      else if (key == "min_p")
        next.min_p = std::stod(value);
      else if (key == "seed")
        next.seed = std::stoull(value);
      else if (key == "max_tokens")
        max_tokens = std::stoll(value);
      else if (key == "repetition_penalty")
        next.repetition_penalty = std::stod(value);
      else if (key == "presence_penalty")
        next.presence_penalty = std::stod(value);
      else if (key == "frequency_penalty")
        next.frequency_penalty = std::stod(value);
      else if (key == "stop") {
        stop.clear();
        std::stringstream in(value);
        for (std::string s; std::getline(in, s, ',');)
          if (!s.empty()) stop.push_back(s);
      }
    } catch (const std::exception&) {
      user_error("/set: '{}' is not a valid value for {}", value, key);
    }
  }
  if (max_tokens < 1) user_error("/set: max_tokens must be at least 1");
  try {
    validate_sampling(next);
  } catch (const UserError& e) {
    user_error("/set: {}", e.what());
  }
  sampling_ = next;
  max_tokens_ = max_tokens;
  extra_stop_ = stop;
}

std::string ChatSession::settings_text() const {
  const SamplingParams& p = sampling_;
  std::string text = fmt::format(
      "temperature={};top_p={};top_k={};min_p={};repetition_penalty={};presence_penalty={};"
      "frequency_penalty={};seed={};max_tokens={}",
      p.temperature, p.top_p, p.top_k, p.min_p, p.repetition_penalty, p.presence_penalty,
      p.frequency_penalty, p.seed, max_tokens_);
  if (!extra_stop_.empty()) text += fmt::format(";stop={}", fmt::join(extra_stop_, ","));
  return text;
}

std::string ChatSession::stats_text() const {
  auto rate = [](int64_t n, double s) { return s > 0 ? n / s : 0.0; };
  return fmt::format(
      "prefill: {:.1f} tok/s ({} tokens), decode: {:.1f} tok/s ({} tokens)",
      rate(stats_.prefill_tokens, stats_.prefill_seconds), stats_.prefill_tokens,
      rate(stats_.decode_tokens > 1 ? stats_.decode_tokens - 1 : 0, stats_.decode_seconds),
      stats_.decode_tokens);
}

}  // namespace llmcc
