// OpenAI's tools in each model family's own format. A chat request's tools are written into
// the system prompt the way the family was trained to read them; the model's tool calls are
// parsed back out of its text into OpenAI's tool_calls; assistant messages that carry tool_calls
// and the tool messages that answer them are written back in the same format.
//   Hermes (Qwen2/2.5, Hermes, chatml models): <tools>...</tools> in the system prompt, calls as
//     <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>, results as a user turn
//     holding <tool_response>...</tool_response>.
//   Llama 3.1 (llama-3_1 template): the functions as JSON in the system prompt, a call as
//     {"name": ..., "parameters": {...}}, results in the ipython role.
// tool_choice "required" or a named function constrains decoding to a call (json_schema_matcher.h).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "runtime/json_schema_matcher.h"
#include "support/json.h"

namespace llmcc::serve {

struct ToolSpec {
  std::string name, description;
  Json parameters = Json::object();  // a JSON schema of the arguments
};

struct ToolCall {
  std::string id;  // call_...
  std::string name;
  std::string arguments;  // JSON text, as OpenAI sends it
};

// The tool named `name`, or nullptr.
const ToolSpec* find_tool(const std::vector<ToolSpec>& tools, const std::string& name);

enum class ToolFormat { kHermes, kLlama31 };
ToolFormat tool_format_for_template(const std::string& conv_template_name);

// The text to append to the system message that offers `tools`.
std::string tools_system_text(const std::vector<ToolSpec>& tools, ToolFormat format);
// An assistant turn's tool calls, as the model would have written them.
std::string tool_calls_text(const std::vector<ToolCall>& calls, ToolFormat format);
// A tool result's turn content (the role it goes in is tool_result_role's).
std::string tool_result_text(const std::string& content, ToolFormat format);
std::string tool_result_role(ToolFormat format);

// The model's calls in `text`, or nullopt when it made none (or named a function not offered):
// `content` is the text outside the calls.
struct ParsedToolCalls {
  std::string content;
  std::vector<ToolCall> calls;
};
std::optional<ParsedToolCalls> parse_tool_calls(const std::string& text,
                                                const std::vector<ToolSpec>& tools,
                                                ToolFormat format);

// The schema of one call for constrained decoding: `only` names the function (tool_choice
// {"function": {"name"}}), or is empty for any of `tools` (tool_choice "required"; the
// arguments are then any object, since the schema cannot depend on the name). UserError when a
// function's parameters use a keyword the matcher cannot enforce.
std::shared_ptr<const JsonSchema> tool_call_schema(const std::vector<ToolSpec>& tools,
                                                   const std::string& only, ToolFormat format);

}  // namespace llmcc::serve
