// MLC's conversation protocol (protocol/conversation_protocol.py): a template of system prompt,
// roles and separators, the message history, and how they become one prompt string plus prefix
// token ids. The registry holds MLC's templates by name.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "support/json.h"

namespace llmcc {

struct Conversation {
  std::string name;
  std::string system_template = "{system_message}";
  std::string system_message;
  std::vector<int32_t> system_prefix_token_ids;
  bool add_role_after_system_message = true;
  // Gemma 3's chat template: there is no system turn; a system message opens the first user
  // message, followed by a blank line. (Not an MLC field; written only when set.)
  bool system_in_first_user_turn = false;
  // Gemma's chat templates strip each message's leading and trailing whitespace (Jinja's trim).
  // (Not an MLC field; written only when set.)
  bool trim_message_content = false;
  std::vector<std::pair<std::string, std::string>> roles;           // role -> prefix, in order
  std::vector<std::pair<std::string, std::string>> role_templates;  // role -> "{user_message}"
  std::vector<std::pair<std::string, std::optional<std::string>>> messages;
  std::vector<std::string> seps;
  std::string role_content_sep, role_empty_sep;
  std::vector<std::string> stop_str;
  std::vector<int32_t> stop_token_ids;
  std::string function_string;
  bool use_function_calling = false;

  // A registered template by name; UserError listing the names for an unknown one.
  static Conversation from_template(const std::string& name);
  static std::vector<std::string> template_names();
  // MLC's JSON (the conv_template object of mlc-chat-config.json).
  static Conversation from_json(const Json& j);
  Json to_json() const;

  // MLC's as_prompt: the system text, then each message with its role prefix and separator;
  // a message whose content is empty-optional is the open turn the model completes.
  std::string as_prompt() const;
};

}  // namespace llmcc
