#include "serve/completion_job.h"

#include <fmt/format.h>

#include <map>
#include <mutex>
#include <random>

#include "serve/api_error.h"
#include "support/error.h"

namespace llmcc::serve {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The engine's reasons in OpenAI's words: a full context window is a length limit too.
std::string openai_finish_reason(const std::string& engine_reason) {
  if (engine_reason == "context") return "length";
  return engine_reason;
}

// The chat prompt and its stop conditions from the model's conversation template.
// Tools, tool calls and tool results are written in the template family's format (tool_calls.h).
std::vector<int32_t> chat_prompt(const ChatConfig& chat, const Tokenizer& tokenizer,
                                 const TextRequest& request, StopConditions& stops) {
  Conversation conv = chat.conversation;
  const ToolFormat format = tool_format_for_template(conv.name);
  const std::vector<ChatMessage>& messages = request.messages;
  for (size_t i = 0; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    if (m.role == "system") {
      if (i != 0) bad_field(fmt::format("messages[{}].role", i), "a system message must be first");
      conv.system_message = m.content;
      continue;
    }
    if (m.role == "tool") {
      conv.messages.emplace_back(tool_result_role(format), tool_result_text(m.content, format));
    } else if (!m.tool_calls.empty()) {
      const std::string calls = tool_calls_text(m.tool_calls, format);
      conv.messages.emplace_back(m.role, m.content.empty() ? calls : m.content + "\n" + calls);
    } else {
      conv.messages.emplace_back(m.role, m.content);
    }
  }
  if (request.tools_active()) conv.system_message += tools_system_text(request.tools, format);
  conv.messages.emplace_back("assistant", std::nullopt);
  std::vector<int32_t> ids = conv.system_prefix_token_ids;
  const std::vector<int32_t> text = tokenizer.encode(conv.as_prompt(), false);
  ids.insert(ids.end(), text.begin(), text.end());
  stops = StopConditions::for_conversation(conv, tokenizer, chat.eos_token_ids);
  return ids;
}

// The vocabulary's bytes in a trie, for constrained decoding: built on first use (tens of
// milliseconds for 50K tokens) and kept for the tokenizer's life.
std::shared_ptr<const TokenTrie> token_trie(const Tokenizer& tokenizer) {
  static std::mutex mutex;
  static std::map<const Tokenizer*, std::shared_ptr<const TokenTrie>> tries;
  std::lock_guard<std::mutex> lock(mutex);
  auto& trie = tries[&tokenizer];
  if (!trie) {
    std::vector<std::string> bytes(static_cast<size_t>(tokenizer.vocab_size()));
    for (int32_t id = 0; id < static_cast<int32_t>(bytes.size()); ++id)
      if (!tokenizer.is_special(id)) bytes[id] = tokenizer.decode_bytes({id});
    trie = std::make_shared<TokenTrie>(bytes);
  }
  return trie;
}

}  // namespace

struct CompletionJob::Choice {
  int64_t index = 0;
  size_t prompt = 0;
  GenerationConfig config;
  std::unique_ptr<ReplyStream> reply;
  std::optional<RequestHandle> handle;
  std::vector<TokenLogprob> logprobs;  // of the shown tokens
  size_t sent_tokens = 0;              // shown tokens already in an event
  Clock::time_point last_token;
  bool finish_sent = false;
  std::string finish_reason;
  GenerationResult result;
};

CompletionJob::CompletionJob(Engine& engine, const Tokenizer& tokenizer, const ChatConfig* chat,
                             const TextRequest& request, ServerMetrics& metrics)
    : engine_(engine),
      tokenizer_(tokenizer),
      request_(request),
      metrics_(metrics),
      created_(Clock::now()) {
  const std::vector<int32_t> eos = chat ? chat->eos_token_ids : std::vector<int32_t>{};
  if (request.chat) {
    if (!chat)
      throw ApiError(400,
                     "this model has no conversation template (mlc-chat-config.json); use "
                     "/v1/completions",
                     "messages");
    prompts_.push_back(chat_prompt(*chat, tokenizer, request, stops_));
  } else {
    stops_ = StopConditions::for_text(tokenizer, eos);
    for (const auto& p : request.prompts)
      prompts_.push_back(p.is_ids ? p.ids : tokenizer.encode(p.text, true));
  }
  stops_.strings.insert(stops_.strings.end(), request.stop.begin(), request.stop.end());
  stops_.token_ids.insert(request.stop_token_ids.begin(), request.stop_token_ids.end());
  const int64_t window = engine.context_window_size();
  const char* field = request.chat ? "messages" : "prompt";
  for (const auto& ids : prompts_) {
    const int64_t n = static_cast<int64_t>(ids.size());
    if (n == 0) bad_field(field, "the prompt has no tokens");
    for (int32_t id : ids)
      if (id < 0 || id >= engine.vocab_size())
        bad_field(field, fmt::format("token {} is outside the vocabulary [0, {})", id,
                                     engine.vocab_size()));
    if (n >= window)
      throw ApiError(400,
                     fmt::format("This model's maximum context length is {} tokens, but the "
                                 "prompt has {} tokens (and at least one must be generated).",
                                 window, n),
                     field, "invalid_request_error", "context_length_exceeded");
    if (request.max_tokens && n + *request.max_tokens > window)
      throw ApiError(400,
                     fmt::format("max_tokens is {} but the prompt has {} tokens and the context "
                                 "window is {}: at most {} can be generated.",
                                 *request.max_tokens, n, window, window - n),
                     "max_tokens", "invalid_request_error", "context_length_exceeded");
  }
  for (int32_t id : request.stop_token_ids)
    if (id >= engine.vocab_size())
      bad_field("stop_token_ids", fmt::format("{} is outside the vocabulary", id));
  for (const auto& [id, bias] : request.logit_bias)
    if (id >= engine.vocab_size())
      bad_field("logit_bias", fmt::format("token {} is outside the vocabulary", id));
  // The output's schema: the response_format's, or one tool call when the request demands one.
  std::shared_ptr<const JsonSchema> schema = request.json_schema;
  if (request.chat && chat && !request.tools.empty() && request.tool_call_required()) {
    try {
      schema = tool_call_schema(request.tools, request.tool_choice_name,
                                tool_format_for_template(chat->conversation.name));
    } catch (const UserError& e) {
      bad_field("tools", e.what());
    }
  }
  std::random_device entropy;
  for (size_t p = 0; p < prompts_.size(); ++p)
    for (int64_t i = 0; i < request.n; ++i) {
      auto c = std::make_unique<Choice>();
      c->index = static_cast<int64_t>(choices_.size());
      c->prompt = p;
      c->config.max_tokens =
          request.max_tokens.value_or(window - static_cast<int64_t>(prompts_[p].size()));
      c->config.sampling = request.sampling;
      // Each choice has a seed of its own, so n seeded choices differ and reproduce.
      c->config.sampling.seed = request.seeded
                                    ? request.sampling.seed + static_cast<uint64_t>(i)
                                    : (static_cast<uint64_t>(entropy()) << 32) ^ entropy();
      c->config.logprobs = request.logprobs;
      c->config.top_logprobs = request.top_logprobs;
      c->config.logit_bias = request.logit_bias;
      if (schema) {
        c->config.json =
            std::make_shared<JsonConstraint>(JsonConstraint{schema, token_trie(tokenizer)});
        c->config.stop_token_ids.assign(stops_.token_ids.begin(), stops_.token_ids.end());
      }
      c->reply = std::make_unique<ReplyStream>(tokenizer, stops_);
      choices_.push_back(std::move(c));
    }
}

CompletionJob::~CompletionJob() {
  cancel();
  // The engine's thread may still be in a callback of ours: wait until each request has ended,
  // and count it (a stream whose client left ends here, cancelled).
  for (auto& c : choices_)
    if (c->handle && !c->finish_sent) try {
        finish_choice(*c);
      } catch (const std::exception&) {
        RequestRecord record;
        record.finish_reason = "error";
        metrics_.record(record);
      }
}

void CompletionJob::start() {
  for (auto& owned : choices_) {
    Choice* c = owned.get();
    c->last_token = Clock::now();
    auto on_step = [this, c](int64_t step, const std::vector<float>& logits, int32_t token) {
      const std::string text = c->reply->push(token);
      const auto now = Clock::now();
      if (step > 0)
        metrics_.observe_inter_token(std::chrono::duration<double>(now - c->last_token).count());
      c->last_token = now;
      std::lock_guard<std::mutex> lock(mutex_);
      const std::vector<int32_t>& shown = c->reply->tokens();
      ChoiceEvent e{c->index, text, {}, {}, std::nullopt};
      if (shown.size() > c->sent_tokens) {
        e.tokens.assign(shown.begin() + static_cast<std::ptrdiff_t>(c->sent_tokens), shown.end());
        if (request_.logprobs)
          for (int32_t t : e.tokens) {
            e.logprobs.push_back(token_logprob(logits, t, request_.top_logprobs));
            c->logprobs.push_back(e.logprobs.back());
          }
        c->sent_tokens = shown.size();
      }
      if (!e.text.empty() || !e.tokens.empty()) pending_.push_back(std::move(e));
      wake_.notify_all();
      return !c->reply->stopped();
    };
    c->handle.emplace(engine_.submit(prompts_[c->prompt], c->config, on_step));
  }
}

void CompletionJob::cancel() {
  for (auto& c : choices_)
    if (c->handle) c->handle->cancel();
}

void CompletionJob::finish_choice(Choice& c) {
  c.result = c.handle->get();  // after this the engine no longer touches c
  c.finish_reason = openai_finish_reason(c.result.finish_reason);
  if (c.reply->stopped()) c.finish_reason = "stop";
  ChoiceEvent e{c.index, c.reply->finish(), {}, {}, c.finish_reason};
  c.finish_sent = true;
  RequestRecord record;
  record.finish_reason = c.result.finish_reason;
  record.prompt_tokens = c.result.prompt_tokens;
  record.cached_tokens = c.result.cached_tokens;
  record.generation_tokens = static_cast<int64_t>(c.result.tokens.size());
  record.queue_seconds = c.result.queue_seconds;
  record.ttft_seconds = c.result.ttft_seconds;
  record.e2e_seconds = seconds_since(created_);
  if (c.result.tokens.size() > 1)
    record.tpot_seconds = c.result.decode_seconds / static_cast<double>(c.result.tokens.size() - 1);
  metrics_.record(record);
  std::lock_guard<std::mutex> lock(mutex_);
  pending_.push_back(std::move(e));
}

std::vector<ChoiceEvent> CompletionJob::next_events(std::chrono::milliseconds wait) {
  for (auto& c : choices_)
    if (!c->finish_sent && c->handle && c->handle->done()) finish_choice(*c);
  std::unique_lock<std::mutex> lock(mutex_);
  if (pending_.empty()) wake_.wait_for(lock, wait, [&] { return !pending_.empty(); });
  std::vector<ChoiceEvent> out;
  out.swap(pending_);
  return out;
}

bool CompletionJob::finished() const {
  std::lock_guard<std::mutex> lock(mutex_);
  if (!pending_.empty()) return false;
  for (const auto& c : choices_)
    if (!c->finish_sent) return false;
  return true;
}

std::vector<ChoiceResult> CompletionJob::results() {
  std::vector<ChoiceResult> out;
  for (auto& c : choices_) {
    if (!c->finish_sent) finish_choice(*c);
    out.push_back({c->reply->text(), c->reply->tokens(), c->logprobs, c->finish_reason});
  }
  return out;
}

int64_t CompletionJob::prompt_tokens() const {
  int64_t n = 0;
  for (const auto& c : choices_)
    if (c->index % request_.n == 0) n += static_cast<int64_t>(prompts_[c->prompt].size());
  return n;
}

int64_t CompletionJob::completion_tokens() const {
  int64_t n = 0;
  for (const auto& c : choices_) n += static_cast<int64_t>(c->result.tokens.size());
  return n;
}

std::string CompletionJob::prompt_text(size_t prompt) const {
  const auto& p = request_.prompts.at(prompt);
  return p.is_ids ? tokenizer_.decode(p.ids) : p.text;
}

}  // namespace llmcc::serve
