#include "serve/openai_request.h"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "serve/api_error.h"
#include "support/error.h"

namespace llmcc::serve {

namespace {

std::string type_name(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer() || v.is_number_unsigned()) return "an integer";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

[[noreturn]] void wrong_type(const std::string& field, const char* expected, const Json& v) {
  bad_field(field, fmt::format("expected {}, got {}", expected, type_name(v)));
}

// The field's value, or nullptr when it is absent or null (OpenAI treats null as absent).
const Json* find(const Json& body, const char* key) {
  auto it = body.find(key);
  return it == body.end() || it->is_null() ? nullptr : &*it;
}

double number(const Json& body, const char* key, double lo, double hi, double fallback) {
  const Json* v = find(body, key);
  if (!v) return fallback;
  if (!v->is_number()) wrong_type(key, "a number", *v);
  const double x = v->get<double>();
  if (!std::isfinite(x) || x < lo || x > hi)
    bad_field(key, fmt::format("{} is outside [{}, {}]", x, lo, hi));
  return x;
}

std::optional<int64_t> integer(const Json& body, const char* key, int64_t lo, int64_t hi) {
  const Json* v = find(body, key);
  if (!v) return std::nullopt;
  if (!v->is_number_integer() && !v->is_number_unsigned()) wrong_type(key, "an integer", *v);
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(hi))
    bad_field(key, fmt::format("{} is above {}", v->get<uint64_t>(), hi));
  const int64_t x = v->get<int64_t>();
  if (x < lo || x > hi) bad_field(key, fmt::format("{} is outside [{}, {}]", x, lo, hi));
  return x;
}

bool boolean(const Json& body, const char* key, bool fallback) {
  const Json* v = find(body, key);
  if (!v) return fallback;
  if (!v->is_boolean()) wrong_type(key, "a boolean", *v);
  return v->get<bool>();
}

int32_t token_id(const Json& v, const std::string& field) {
  if (!v.is_number_integer() && !v.is_number_unsigned()) wrong_type(field, "a token id", v);
  const int64_t x = v.get<int64_t>();
  if (x < 0 || x > std::numeric_limits<int32_t>::max())
    bad_field(field, fmt::format("{} is not a token id", x));
  return static_cast<int32_t>(x);
}

// The text of a message's content: a string, or an array of {"type": "text", "text": ...} parts.
std::string content_text(const Json& content, const std::string& field) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) wrong_type(field, "a string or an array of text parts", content);
  std::string text;
  for (size_t i = 0; i < content.size(); ++i) {
    const std::string part = fmt::format("{}[{}]", field, i);
    const Json& p = content[i];
    if (!p.is_object()) wrong_type(part, "an object", p);
    const Json* type = find(p, "type");
    if (!type || !type->is_string() || type->get<std::string>() != "text")
      bad_field(part + ".type", "only \"text\" parts are supported");
    const Json* t = find(p, "text");
    if (!t || !t->is_string()) bad_field(part + ".text", "expected a string");
    text += t->get<std::string>();
  }
  return text;
}

// The fields both routes share.
void parse_common(const Json& body, const SamplingParams& defaults, TextRequest& r) {
  if (!body.is_object()) throw ApiError(400, "the request body must be a JSON object");
  if (const Json* m = find(body, "model")) {
    if (!m->is_string()) wrong_type("model", "a string", *m);
    r.model = m->get<std::string>();
  }
  r.max_tokens = integer(body, "max_tokens", 1, std::numeric_limits<int32_t>::max());
  if (auto m = integer(body, "max_completion_tokens", 1, std::numeric_limits<int32_t>::max()))
    r.max_tokens = m;
  r.n = integer(body, "n", 1, 16).value_or(1);
  if (const Json* s = find(body, "stop")) {
    if (s->is_string()) {
      r.stop.push_back(s->get<std::string>());
    } else if (s->is_array()) {
      if (s->size() > 4) bad_field("stop", "at most 4 stop sequences");
      for (size_t i = 0; i < s->size(); ++i) {
        if (!(*s)[i].is_string()) wrong_type(fmt::format("stop[{}]", i), "a string", (*s)[i]);
        r.stop.push_back((*s)[i].get<std::string>());
      }
    } else {
      wrong_type("stop", "a string or an array of strings", *s);
    }
    for (const auto& text : r.stop)
      if (text.empty()) bad_field("stop", "a stop sequence is empty");
  }
  if (const Json* s = find(body, "stop_token_ids")) {
    if (!s->is_array()) wrong_type("stop_token_ids", "an array of token ids", *s);
    for (size_t i = 0; i < s->size(); ++i)
      r.stop_token_ids.push_back(token_id((*s)[i], fmt::format("stop_token_ids[{}]", i)));
  }
  r.sampling = defaults;
  r.sampling.temperature = number(body, "temperature", 0, 2, defaults.temperature);
  r.sampling.top_p = number(body, "top_p", 0, 1, defaults.top_p);
  if (r.sampling.top_p <= 0) bad_field("top_p", "must be above 0");
  r.sampling.presence_penalty = number(body, "presence_penalty", -2, 2, defaults.presence_penalty);
  r.sampling.frequency_penalty =
      number(body, "frequency_penalty", -2, 2, defaults.frequency_penalty);
  r.sampling.repetition_penalty =
      number(body, "repetition_penalty", 0, 10, defaults.repetition_penalty);
  if (r.sampling.repetition_penalty <= 0) bad_field("repetition_penalty", "must be above 0");
  r.sampling.top_k =
      integer(body, "top_k", 0, std::numeric_limits<int32_t>::max()).value_or(defaults.top_k);
  r.sampling.min_p = number(body, "min_p", 0, 1, defaults.min_p);
  if (const Json* s = find(body, "seed")) {
    if (!s->is_number_integer() && !s->is_number_unsigned()) wrong_type("seed", "an integer", *s);
    r.sampling.seed =
        s->is_number_unsigned() ? s->get<uint64_t>() : static_cast<uint64_t>(s->get<int64_t>());
    r.seeded = true;
  }
  if (const Json* b = find(body, "logit_bias")) {
    if (!b->is_object()) wrong_type("logit_bias", "an object of token id to bias", *b);
    for (const auto& [key, value] : b->items()) {
      const std::string field = "logit_bias." + key;
      size_t used = 0;
      long long id = -1;
      try {
        id = std::stoll(key, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != key.size() || id < 0 || id > std::numeric_limits<int32_t>::max())
        bad_field(field, "keys must be token ids");
      if (!value.is_number()) wrong_type(field, "a number", value);
      const double bias = value.get<double>();
      if (!(bias >= -100 && bias <= 100)) bad_field(field, "biases are in [-100, 100]");
      r.logit_bias.emplace_back(static_cast<int32_t>(id), static_cast<float>(bias));
    }
  }
  r.stream = boolean(body, "stream", false);
  if (const Json* o = find(body, "stream_options")) {
    if (!o->is_object()) wrong_type("stream_options", "an object", *o);
    if (!r.stream) bad_field("stream_options", "only allowed when stream is true");
    r.include_usage = boolean(*o, "include_usage", false);
  }
  if (const Json* f = find(body, "response_format")) {
    if (!f->is_object()) wrong_type("response_format", "an object", *f);
    const Json* type = find(*f, "type");
    if (!type || !type->is_string()) bad_field("response_format.type", "expected a string");
    const std::string kind = type->get<std::string>();
    if (kind == "json_object") {
      r.json_schema = JsonSchema::any_object();
    } else if (kind == "json_schema") {
      const Json* js = find(*f, "json_schema");
      if (!js || !js->is_object())
        bad_field("response_format.json_schema", "required: an object with a \"schema\"");
      const Json* schema = find(*js, "schema");
      if (!schema) bad_field("response_format.json_schema.schema", "required");
      try {
        r.json_schema = JsonSchema::compile(*schema, "response_format.json_schema.schema");
      } catch (const UserError& e) {
        bad_field("response_format.json_schema.schema", e.what());
      }
    } else if (kind != "text") {
      bad_field(
          "response_format.type",
          fmt::format("\"{}\" is not one of \"text\", \"json_object\", \"json_schema\"", kind));
    }
  }
  if (const Json* t = find(body, "tools")) {
    if (!t->is_array()) wrong_type("tools", "an array", *t);
    for (size_t i = 0; i < t->size(); ++i) {
      const std::string field = fmt::format("tools[{}]", i);
      const Json& tool = (*t)[i];
      if (!tool.is_object()) wrong_type(field, "an object", tool);
      const Json* type = find(tool, "type");
      if (!type || *type != "function") bad_field(field + ".type", "only \"function\" tools exist");
      const Json* f = find(tool, "function");
      if (!f || !f->is_object()) bad_field(field + ".function", "required: an object");
      const Json* name = find(*f, "name");
      if (!name || !name->is_string() || name->get<std::string>().empty())
        bad_field(field + ".function.name", "required: a non-empty string");
      ToolSpec spec{name->get<std::string>(), "", Json::object()};
      if (find_tool(r.tools, spec.name))
        bad_field(field + ".function.name", fmt::format("'{}' is offered twice", spec.name));
      if (const Json* d = find(*f, "description")) {
        if (!d->is_string()) wrong_type(field + ".function.description", "a string", *d);
        spec.description = d->get<std::string>();
      }
      if (const Json* p = find(*f, "parameters")) {
        if (!p->is_object()) wrong_type(field + ".function.parameters", "an object", *p);
        spec.parameters = *p;
      }
      r.tools.push_back(std::move(spec));
    }
  }
  if (const Json* c = find(body, "tool_choice")) {
    if (c->is_string()) {
      r.tool_choice = c->get<std::string>();
      if (r.tool_choice != "none" && r.tool_choice != "auto" && r.tool_choice != "required")
        bad_field("tool_choice", "expected \"none\", \"auto\", \"required\" or a function");
    } else if (c->is_object()) {
      const Json* f = find(*c, "function");
      const Json* name = f && f->is_object() ? find(*f, "name") : nullptr;
      if (!name || !name->is_string()) bad_field("tool_choice.function.name", "required");
      r.tool_choice = "function";
      r.tool_choice_name = name->get<std::string>();
      if (!find_tool(r.tools, r.tool_choice_name))
        bad_field("tool_choice.function.name",
                  fmt::format("'{}' is not one of the tools", r.tool_choice_name));
    } else {
      wrong_type("tool_choice", "a string or an object", *c);
    }
    if (r.tool_call_required() && r.tools.empty()) bad_field("tool_choice", "needs tools");
  }
  if (r.json_schema && r.tool_call_required() && !r.tools.empty())
    bad_field("tool_choice", "a required tool call and a JSON response_format exclude each other");
}

}  // namespace

TextRequest parse_chat_request(const Json& body, const SamplingParams& defaults) {
  TextRequest r;
  r.chat = true;
  parse_common(body, defaults, r);
  const Json* messages = find(body, "messages");
  if (!messages) bad_field("messages", "required");
  if (!messages->is_array()) wrong_type("messages", "an array", *messages);
  if (messages->empty()) bad_field("messages", "must not be empty");
  for (size_t i = 0; i < messages->size(); ++i) {
    const std::string field = fmt::format("messages[{}]", i);
    const Json& m = (*messages)[i];
    if (!m.is_object()) wrong_type(field, "an object", m);
    const Json* role = find(m, "role");
    if (!role || !role->is_string()) bad_field(field + ".role", "expected a string");
    ChatMessage message{role->get<std::string>(), "", {}};
    if (message.role == "developer") message.role = "system";  // OpenAI's newer name
    if (message.role != "system" && message.role != "user" && message.role != "assistant" &&
        message.role != "tool")
      bad_field(field + ".role", fmt::format("'{}' is not one of system, developer, user, "
                                             "assistant, tool",
                                             message.role));
    if (const Json* calls = find(m, "tool_calls")) {
      if (message.role != "assistant")
        bad_field(field + ".tool_calls", "only an assistant message has tool calls");
      if (!calls->is_array()) wrong_type(field + ".tool_calls", "an array", *calls);
      for (size_t k = 0; k < calls->size(); ++k) {
        const std::string cf = fmt::format("{}.tool_calls[{}]", field, k);
        const Json& call = (*calls)[k];
        const Json* f = call.is_object() ? find(call, "function") : nullptr;
        const Json* name = f && f->is_object() ? find(*f, "name") : nullptr;
        const Json* args = f && f->is_object() ? find(*f, "arguments") : nullptr;
        if (!name || !name->is_string()) bad_field(cf + ".function.name", "required: a string");
        if (args && !args->is_string())
          wrong_type(cf + ".function.arguments", "a string of JSON", *args);
        const Json* id = find(call, "id");
        message.tool_calls.push_back({id && id->is_string() ? id->get<std::string>() : "",
                                      name->get<std::string>(),
                                      args ? args->get<std::string>() : "{}"});
      }
    }
    if (message.role == "tool") {
      // Required by the API; the families' formats answer calls in order, without ids.
      const Json* id = find(m, "tool_call_id");
      if (!id || !id->is_string()) bad_field(field + ".tool_call_id", "required: a string");
    }
    const Json* content = find(m, "content");
    if (!content && message.tool_calls.empty()) bad_field(field + ".content", "required");
    if (content) message.content = content_text(*content, field + ".content");
    r.messages.push_back(std::move(message));
  }
  if (r.messages.back().role == "assistant")
    bad_field("messages", "the last message must not be the assistant's");
  r.logprobs = boolean(body, "logprobs", false);
  if (auto top = integer(body, "top_logprobs", 0, 20)) {
    if (!r.logprobs) bad_field("top_logprobs", "needs logprobs: true");
    r.top_logprobs = *top;
  }
  return r;
}

TextRequest parse_completion_request(const Json& body, const SamplingParams& defaults) {
  TextRequest r;
  r.chat = false;
  parse_common(body, defaults, r);
  if (!r.tools.empty()) bad_field("tools", "only /v1/chat/completions takes tools");
  const Json* prompt = find(body, "prompt");
  if (!prompt) bad_field("prompt", "required");
  auto ids_of = [](const Json& array, const std::string& field) {
    TextRequest::Prompt p;
    p.is_ids = true;
    for (size_t i = 0; i < array.size(); ++i)
      p.ids.push_back(token_id(array[i], fmt::format("{}[{}]", field, i)));
    if (p.ids.empty()) bad_field(field, "must not be empty");
    return p;
  };
  if (prompt->is_string()) {
    r.prompts.push_back({prompt->get<std::string>(), {}, false});
  } else if (prompt->is_array() && !prompt->empty() && (*prompt)[0].is_number()) {
    r.prompts.push_back(ids_of(*prompt, "prompt"));
  } else if (prompt->is_array() && !prompt->empty()) {
    for (size_t i = 0; i < prompt->size(); ++i) {
      const Json& p = (*prompt)[i];
      const std::string field = fmt::format("prompt[{}]", i);
      if (p.is_string())
        r.prompts.push_back({p.get<std::string>(), {}, false});
      else if (p.is_array())
        r.prompts.push_back(ids_of(p, field));
      else
        wrong_type(field, "a string or an array of token ids", p);
    }
  } else {
    wrong_type("prompt", "a string, an array of strings or token ids", *prompt);
  }
  if (r.prompts.size() * r.n > 16) bad_field("prompt", "at most 16 prompts times n per request");
  if (auto top = integer(body, "logprobs", 0, 5)) {
    r.logprobs = true;
    r.top_logprobs = *top;
  }
  r.echo = boolean(body, "echo", false);
  if (r.echo && r.stream) bad_field("echo", "not supported with stream");
  return r;
}

}  // namespace llmcc::serve
