#include "serve/tool_calls.h"

#include <fmt/format.h>

#include <random>

#include "support/error.h"

namespace llmcc::serve {

namespace {

constexpr const char* kOpen = "<tool_call>";
constexpr const char* kClose = "</tool_call>";

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::string new_call_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  return fmt::format("call_{:016x}{:08x}", rng(), static_cast<uint32_t>(rng()));
}

Json function_json(const ToolSpec& t) {
  Json f = {{"name", t.name}};
  if (!t.description.empty()) f["description"] = t.description;
  f["parameters"] = t.parameters;
  return f;
}

// One call's JSON, {"name", "arguments"} (Hermes) or {"name", "parameters"} (Llama 3.1); the
// arguments may come as an object or as a string of JSON.
std::optional<ToolCall> call_from_json(const std::string& text,
                                       const std::vector<ToolSpec>& tools) {
  const Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("name") || !j["name"].is_string())
    return std::nullopt;
  const std::string name = j["name"].get<std::string>();
  if (!find_tool(tools, name)) return std::nullopt;
  const char* key = j.contains("arguments") ? "arguments" : "parameters";
  Json args = j.value(key, Json::object());
  if (args.is_string()) args = Json::parse(args.get<std::string>(), nullptr, false);
  if (args.is_discarded() || !args.is_object()) return std::nullopt;
  return ToolCall{new_call_id(), name, args.dump()};
}

}  // namespace

const ToolSpec* find_tool(const std::vector<ToolSpec>& tools, const std::string& name) {
  for (const ToolSpec& t : tools)
    if (t.name == name) return &t;
  return nullptr;
}

ToolFormat tool_format_for_template(const std::string& name) {
  return name.rfind("llama-3_1", 0) == 0 ? ToolFormat::kLlama31 : ToolFormat::kHermes;
}

std::string tools_system_text(const std::vector<ToolSpec>& tools, ToolFormat format) {
  std::string lines;
  for (const ToolSpec& t : tools)
    lines += Json{{"type", "function"}, {"function", function_json(t)}}.dump() + "\n";
  if (format == ToolFormat::kLlama31)
    return "\n\nYou can call these functions. To call one, answer with only a JSON object "
           "{\"name\": function name, \"parameters\": an object of its arguments}.\n\n" +
           lines;
  return "\n\n# Tools\n\nYou may call functions to help with the request. Their signatures are "
         "within <tools></tools> XML tags:\n<tools>\n" +
         lines +
         "</tools>\n\nFor each call, write a JSON object with the function's name and arguments "
         "within <tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, "
         "\"arguments\": <args-json-object>}\n</tool_call>";
}

std::string tool_calls_text(const std::vector<ToolCall>& calls, ToolFormat format) {
  std::string out;
  for (const ToolCall& c : calls) {
    Json args = Json::parse(c.arguments, nullptr, false);
    if (args.is_discarded()) args = c.arguments;  // kept as the client sent it
    if (!out.empty()) out += "\n";
    if (format == ToolFormat::kLlama31)
      out += Json{{"name", c.name}, {"parameters", args}}.dump();
    else
      out += std::string(kOpen) + "\n" + Json{{"name", c.name}, {"arguments", args}}.dump() + "\n" +
             kClose;
  }
  return out;
}

std::string tool_result_text(const std::string& content, ToolFormat format) {
  if (format == ToolFormat::kLlama31) return content;
  return "<tool_response>\n" + content + "\n</tool_response>";
}

std::string tool_result_role(ToolFormat format) {
  return format == ToolFormat::kLlama31 ? "tool" : "user";
}

std::optional<ParsedToolCalls> parse_tool_calls(const std::string& text,
                                                const std::vector<ToolSpec>& tools,
                                                ToolFormat format) {
  ParsedToolCalls parsed;
  std::string outside;
  size_t at = 0;
  if (format == ToolFormat::kHermes) {
    while (true) {
      const size_t open = text.find(kOpen, at);
      if (open == std::string::npos) break;
      outside += text.substr(at, open - at);
      const size_t body = open + std::string(kOpen).size();
      size_t close = text.find(kClose, body);
      const bool closed = close != std::string::npos;
      if (!closed) close = text.size();  // the reply ended inside the call
      auto call = call_from_json(trim(text.substr(body, close - body)), tools);
      if (!call) return std::nullopt;
      parsed.calls.push_back(*call);
      at = closed ? close + std::string(kClose).size() : text.size();
    }
  }
  outside += text.substr(std::min(at, text.size()));
  if (parsed.calls.empty()) {
    // No tags: a reply that is exactly one call's JSON (Llama 3.1's form, and what models
    // without tags write), after Llama's optional <|python_tag|>.
    std::string body = trim(outside);
    const std::string tag = "<|python_tag|>";
    if (body.rfind(tag, 0) == 0) body = trim(body.substr(tag.size()));
    auto call = call_from_json(body, tools);
    if (!call) return std::nullopt;
    parsed.calls.push_back(*call);
    outside.clear();
  }
  parsed.content = trim(outside);
  return parsed;
}

std::shared_ptr<const JsonSchema> tool_call_schema(const std::vector<ToolSpec>& tools,
                                                   const std::string& only, ToolFormat format) {
  Json name, arguments = {{"type", "object"}};
  std::string where = "tools";
  if (!only.empty()) {
    name = {{"const", only}};
    if (const ToolSpec* t = find_tool(tools, only)) {
      arguments = t->parameters;
      where = fmt::format("tools[{}].function.parameters", t - tools.data());
    }
  } else {
    Json names = Json::array();
    for (const ToolSpec& t : tools) names.push_back(t.name);
    name = {{"enum", names}};
  }
  const char* key = format == ToolFormat::kLlama31 ? "parameters" : "arguments";
  const Json schema = {{"type", "object"},
                       {"properties", {{"name", name}, {key, arguments}}},
                       {"required", {"name", key}}};
  if (format == ToolFormat::kLlama31) return JsonSchema::compile(schema, where);
  return JsonSchema::compile(schema, where, std::string(kOpen) + "\n", std::string("\n") + kClose);
}

}  // namespace llmcc::serve
