#include "chat/conversation.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "support/error.h"
#include "support/strings.h"

namespace llmcc {

namespace {

const std::string* lookup(const std::vector<std::pair<std::string, std::string>>& v,
                          const std::string& key) {
  for (const auto& [k, value] : v)
    if (k == key) return &value;
  return nullptr;
}

Conversation make(std::string name, std::string system_template, std::string system_message,
                  std::vector<std::pair<std::string, std::string>> roles,
                  std::vector<std::string> seps, std::string content_sep, std::string empty_sep,
                  std::vector<std::string> stop_str, std::vector<int32_t> stop_ids,
                  std::vector<int32_t> prefix_ids, bool role_after_system = true) {
  Conversation c;
  c.name = std::move(name);
  c.system_template = std::move(system_template);
  c.system_message = std::move(system_message);
  c.roles = std::move(roles);
  for (const auto& [role, _] : c.roles)
    c.role_templates.emplace_back(role, "{" + role + "_message}");
  c.seps = std::move(seps);
  c.role_content_sep = std::move(content_sep);
  c.role_empty_sep = std::move(empty_sep);
  c.stop_str = std::move(stop_str);
  c.stop_token_ids = std::move(stop_ids);
  c.system_prefix_token_ids = std::move(prefix_ids);
  c.add_role_after_system_message = role_after_system;
  return c;
}

// Gemma's turns; HF's templates trim each message. Gemma 3's vocabulary ends a turn with id 106
// (Gemma 1/2's with 107), and its template folds a system message into the first user turn.
Conversation gemma_template(const std::string& name, int32_t end_of_turn, bool fold_system) {
  Conversation c = make(name, "{system_message}", "",
                        {{"user", "<start_of_turn>user"}, {"assistant", "<start_of_turn>model"}},
                        {"<end_of_turn>\n"}, "\n", "\n", {"<end_of_turn>"}, {1, end_of_turn}, {2});
  c.trim_message_content = true;
  c.system_in_first_user_turn = fold_system;
  return c;
}
Conversation gemma_instruction() { return gemma_template("gemma_instruction", 107, false); }
Conversation gemma3_instruction() { return gemma_template("gemma3_instruction", 106, true); }

// MLC's templates (python/mlc_llm/conversation_template/), the ones llmcc ships.
const std::vector<Conversation>& registry() {
  static const std::vector<Conversation> templates = {
      make("llama-2", "[INST] <<SYS>>\n{system_message}\n<</SYS>>\n\n",
           "You are a helpful, respectful and honest assistant.",
           {{"user", "<s>[INST]"}, {"assistant", "[/INST]"}, {"tool", "[INST]"}}, {" ", " </s>"},
           " ", " ", {"[INST]"}, {2}, {1}, false),
      make("llama-3", "<|start_header_id|>system<|end_header_id|>\n\n{system_message}<|eot_id|>",
           "You are a helpful, respectful and honest assistant.",
           {{"user", "<|start_header_id|>user"}, {"assistant", "<|start_header_id|>assistant"}},
           {"<|eot_id|>"}, "<|end_header_id|>\n\n", "<|end_header_id|>\n\n",
           {"<|end_of_text|>", "<|eot_id|>"}, {128001, 128009}, {128000}, true),
      make("llama-3_1", "<|start_header_id|>system<|end_header_id|>\n\n{system_message}<|eot_id|>",
           "You are a helpful, respectful and honest assistant.",
           {{"user", "<|start_header_id|>user"},
            {"assistant", "<|start_header_id|>assistant"},
            {"tool", "<|start_header_id|>ipython"}},
           {"<|eot_id|>"}, "<|end_header_id|>\n\n", "<|end_header_id|>\n\n", {},
           {128001, 128008, 128009}, {128000}, true),
      make("chatml", "<|im_start|>system\n{system_message}<|im_end|>\n",
           "A conversation between a user and an LLM-based AI assistant. The assistant gives "
           "helpful "
           "and honest answers.",
           {{"user", "<|im_start|>user"}, {"assistant", "<|im_start|>assistant"}}, {"<|im_end|>\n"},
           "\n", "\n", {"<|im_end|>"}, {2}, {}),
      make("chatml_nosystem", "{system_message}", "",
           {{"user", "<|im_start|>user"}, {"assistant", "<|im_start|>assistant"}}, {"<|im_end|>\n"},
           "\n", "\n", {"<|im_end|>"}, {2}, {}),
      make("mistral_default", "[INST] {system_message}",
           "Always assist with care, respect, and truth. Respond with utmost utility yet securely. "
           "Avoid harmful, unethical, prejudiced, or negative content. Ensure replies promote "
           "fairness and positivity.",
           {{"user", "[INST]"}, {"assistant", "[/INST]"}, {"tool", "[INST]"}}, {" "}, " ", "",
           {"</s>"}, {2}, {1}, false),
      gemma_instruction(),
      gemma3_instruction(),
      make("phi-3", "<|system|>\n{system_message}",
           "You are a helpful digital assistant. Please provide safe, ethical and accurate "
           "information to the user.",
           {{"user", "<|user|>"}, {"assistant", "<|assistant|>"}}, {"<|end|>\n"}, "\n", "\n",
           {"<|endoftext|>"}, {32000, 32001, 32007}, {1}),
      make("LM", "{system_message}", "", {{"user", ""}, {"assistant", ""}}, {""}, "", "", {}, {2},
           {1}),
  };
  return templates;
}

Json pairs_to_json(const std::vector<std::pair<std::string, std::string>>& v) {
  Json j = Json::object();
  for (const auto& [k, value] : v) j[k] = value;
  return j;
}

std::vector<std::pair<std::string, std::string>> json_to_pairs(const Json& j) {
  std::vector<std::pair<std::string, std::string>> v;
  for (auto it = j.begin(); it != j.end(); ++it)
    v.emplace_back(it.key(), it.value().get<std::string>());
  return v;
}

}  // namespace

std::vector<std::string> Conversation::template_names() {
  std::vector<std::string> names;
  for (const auto& c : registry()) names.push_back(c.name);
  return names;
}

Conversation Conversation::from_template(const std::string& name) {
  for (const auto& c : registry())
    if (c.name == name) return c;
  user_error("unknown conversation template '{}'; known: {}", name,
             fmt::join(template_names(), ", "));
}

Json Conversation::to_json() const {
  Json history = Json::array();
  for (const auto& [role, content] : messages)
    history.push_back(Json::array({role, content ? Json(*content) : Json()}));
  Json j = {{"name", name},
            {"system_template", system_template},
            {"system_message", system_message},
            {"system_prefix_token_ids", system_prefix_token_ids},
            {"add_role_after_system_message", add_role_after_system_message},
            {"roles", pairs_to_json(roles)},
            {"role_templates", pairs_to_json(role_templates)},
            {"messages", history},
            {"seps", seps},
            {"role_content_sep", role_content_sep},
            {"role_empty_sep", role_empty_sep},
            {"stop_str", stop_str},
            {"stop_token_ids", stop_token_ids},
            {"function_string", function_string},
            {"use_function_calling", use_function_calling}};
  if (system_in_first_user_turn) j["system_in_first_user_turn"] = true;
  if (trim_message_content) j["trim_message_content"] = true;
  return j;
}

Conversation Conversation::from_json(const Json& j) {
  try {
    Conversation c;
    c.name = j.value("name", "");
    c.system_template = j.value("system_template", "{system_message}");
    c.system_message = j.value("system_message", "");
    if (j.contains("system_prefix_token_ids") && !j["system_prefix_token_ids"].is_null())
      c.system_prefix_token_ids = j["system_prefix_token_ids"].get<std::vector<int32_t>>();
    c.add_role_after_system_message = j.value("add_role_after_system_message", true);
    c.system_in_first_user_turn = j.value("system_in_first_user_turn", false);
    c.trim_message_content = j.value("trim_message_content", false);
    c.roles = json_to_pairs(j.at("roles"));
    if (j.contains("role_templates")) c.role_templates = json_to_pairs(j["role_templates"]);
    for (const auto& [role, _] : c.roles)
      if (!lookup(c.role_templates, role))
        c.role_templates.emplace_back(role, "{" + role + "_message}");
    if (j.contains("messages"))
      for (const auto& m : j["messages"])
        c.messages.emplace_back(
            m.at(0).get<std::string>(),
            m.at(1).is_null() ? std::nullopt : std::optional<std::string>(m.at(1)));
    c.seps = j.at("seps").get<std::vector<std::string>>();
    c.role_content_sep = j.value("role_content_sep", "");
    c.role_empty_sep = j.value("role_empty_sep", "");
    if (j.contains("stop_str")) c.stop_str = j["stop_str"].get<std::vector<std::string>>();
    if (j.contains("stop_token_ids"))
      c.stop_token_ids = j["stop_token_ids"].get<std::vector<int32_t>>();
    c.function_string = j.value("function_string", "");
    c.use_function_calling = j.value("use_function_calling", false);
    if (c.seps.empty()) user_error("conv_template '{}' has no separators", c.name);
    return c;
  } catch (const Json::exception& e) {
    user_error("malformed conv_template: {}", e.what());
  }
}

std::string Conversation::as_prompt() const {
  const bool fold = system_in_first_user_turn && !system_message.empty();
  const std::string system =
      fold ? "" : replace_all(system_template, "{system_message}", system_message);
  std::string prompt = system;
  bool folded = false;
  const std::string& user_sep = seps[0];
  const std::string& assistant_sep = seps.size() > 1 ? seps[1] : seps[0];
  for (size_t i = 0; i < messages.size(); ++i) {
    const auto& [role, content] = messages[i];
    const std::string* prefix = lookup(roles, role);
    if (!prefix) user_error("role '{}' is not a role of conversation template '{}'", role, name);
    if (!content) {
      prompt += *prefix + role_empty_sep;
      continue;
    }
    const bool bare = !add_role_after_system_message && !system.empty() && i == 0;
    const std::string* tmpl = lookup(role_templates, role);
    std::string body = replace_all(*tmpl, "{" + role + "_message}",
                                   trim_message_content ? trim(*content) : *content);
    if (fold && !folded && role == "user") {
      body = system_message + "\n\n" + body;
      folded = true;
    }
    prompt += (bare ? "" : *prefix + role_content_sep) + body +
              (role == "assistant" ? assistant_sep : user_sep);
  }
  return prompt;
}

}  // namespace llmcc
