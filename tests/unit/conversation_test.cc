// Conversation templates render the prompts of the models' own Hugging Face chat templates.
#include "chat/conversation.h"

#include <gtest/gtest.h>

namespace llmcc {
namespace {

Conversation with_turns(Conversation c) {
  c.messages = {{"user", "Hi"}, {"assistant", "Hello"}, {"user", "More"}, {"assistant", {}}};
  return c;
}

// What Gemma's chat template writes after {{ bos_token }} (which the template sends as an id).
TEST(Conversation, GemmaInstructionMatchesGemmasChatTemplate) {
  Conversation c = with_turns(Conversation::from_template("gemma_instruction"));
  EXPECT_EQ(c.as_prompt(),
            "<start_of_turn>user\nHi<end_of_turn>\n<start_of_turn>model\nHello<end_of_turn>\n"
            "<start_of_turn>user\nMore<end_of_turn>\n<start_of_turn>model\n");
  EXPECT_EQ(c.system_prefix_token_ids, std::vector<int32_t>{2});
  EXPECT_EQ(c.stop_token_ids, (std::vector<int32_t>{1, 107}));
}

// Gemma 3's template has no system turn: the system message opens the first user message.
TEST(Conversation, Gemma3FoldsTheSystemMessageIntoTheFirstUserTurn) {
  Conversation c = with_turns(Conversation::from_template("gemma3_instruction"));
  c.system_message = "Be brief.";
  const std::string want =
      "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello"
      "<end_of_turn>\n<start_of_turn>user\nMore<end_of_turn>\n<start_of_turn>model\n";
  EXPECT_EQ(c.as_prompt(), want);
  EXPECT_EQ(c.stop_token_ids, (std::vector<int32_t>{1, 106}));
  // The behaviour survives mlc-chat-config.json.
  EXPECT_EQ(Conversation::from_json(c.to_json()).as_prompt(), want);
  // Messages are trimmed, as the template's `| trim`.
  c.messages[1].second = "  Hello \n";
  EXPECT_EQ(c.as_prompt(), want);
  // Without a system message nothing is folded in.
  c.system_message.clear();
  EXPECT_EQ(c.as_prompt().substr(0, 23), "<start_of_turn>user\nHi<");
  // Templates that do not fold keep MLC's JSON unchanged.
  EXPECT_FALSE(Conversation::from_template("gemma_instruction")
                   .to_json()
                   .contains("system_in_first_user_turn"));
}

}  // namespace
}  // namespace llmcc
