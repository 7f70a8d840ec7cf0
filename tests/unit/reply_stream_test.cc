// What a reply shows and where it ends: the stop conditions built from a template, the model's
// eos ids and the vocabulary; the reply stream that hides special tokens and holds back possible
// stop strings; and mlc-chat-config.json's sampling fields as chat reads them.
#include "chat/reply_stream.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "chat/chat_config.h"
#include "chat/stop_conditions.h"
#include "support/error.h"

namespace llmcc {
namespace {

namespace fs = std::filesystem;

// chat_tiny's vocabulary: byte-level BPE with the special tokens <|endoftext|> (0), <|im_start|>
// (1) and <|im_end|> (2), as SmolLM2's.
std::unique_ptr<Tokenizer> chatml_tokenizer() {
  return Tokenizer::from_json_file(fs::path(LLMCC_SOURCE_DIR) /
                                   "tests/data/models/chat_tiny/tokenizer.json");
}

std::vector<int32_t> ids(const Tokenizer& t, const std::string& text) {
  return t.encode(text, false);
}

TEST(StopConditions, ChatmlEndsAtTurnEndNextTurnAndEndOfText) {
  auto tok = chatml_tokenizer();
  Conversation chatml = Conversation::from_template("chatml");
  chatml.stop_token_ids.clear();  // MLC's [2] would hide whether the rules find <|im_end|>
  auto stops = StopConditions::for_conversation(chatml, *tok, {});
  EXPECT_TRUE(stops.is_stop_token(0));  // <|endoftext|>: end of generation
  EXPECT_TRUE(stops.is_stop_token(1));  // <|im_start|>: the model would invent the next turn
  EXPECT_TRUE(stops.is_stop_token(2));  // <|im_end|>: the stop string, a special token
  EXPECT_EQ(stops.strings, std::vector<std::string>{"<|im_end|>"});
  for (int32_t id : ids(*tok, "Hello, world")) EXPECT_FALSE(stops.is_stop_token(id));
}

TEST(StopConditions, PlainTextEndsAtEosAndEndOfGenerationTokensOnly) {
  auto tok = chatml_tokenizer();
  EXPECT_EQ(end_of_generation_tokens(*tok), (std::vector<int32_t>{0, 2}));
  auto stops = StopConditions::for_text(*tok, {7});
  EXPECT_EQ(stops.token_ids, (std::set<int32_t>{0, 2, 7}));
  EXPECT_TRUE(stops.strings.empty());
}

TEST(StopConditions, LlamaVocabularyEndsAtEndOfSentence) {
  auto llama = Tokenizer::from_json_file(fs::path(LLMCC_SOURCE_DIR) /
                                         "tests/data/tokenizers/llama/tokenizer.json");
  auto eos = llama->token_to_id("</s>");
  ASSERT_TRUE(eos);
  EXPECT_EQ(end_of_generation_tokens(*llama), std::vector<int32_t>{*eos});
}

TEST(ReplyStream, HidesSpecialTokensAndStopsAtAStopToken) {
  auto tok = chatml_tokenizer();
  StopConditions stops;
  stops.token_ids = {2};
  ReplyStream reply(*tok, stops);
  std::string shown;
  for (int32_t id : ids(*tok, "Hi")) shown += reply.push(id);
  shown += reply.push(0);  // special, not a stop: not shown
  for (int32_t id : ids(*tok, " there")) shown += reply.push(id);
  EXPECT_FALSE(reply.stopped());
  shown += reply.push(2);
  EXPECT_TRUE(reply.stopped());
  for (int32_t id : ids(*tok, "ignored")) shown += reply.push(id);
  shown += reply.finish();
  EXPECT_EQ(shown, "Hi there");
  EXPECT_EQ(reply.text(), "Hi there");
  EXPECT_EQ(reply.tokens().size(), ids(*tok, "Hi").size() + 1 + ids(*tok, " there").size());
}

TEST(ReplyStream, HoldsBackWhatMayBeAStopStringAndCutsAtIt) {
  auto tok = chatml_tokenizer();
  StopConditions stops;
  stops.strings = {"User:"};
  ReplyStream reply(*tok, stops);
  std::string shown;
  // Byte by byte, so the stop string arrives in pieces.
  for (char c : std::string("Sure. Use")) {
    shown += reply.push(ids(*tok, std::string(1, c)).at(0));
    EXPECT_EQ(shown.find("Use"), std::string::npos) << "'Use' may begin 'User:'";
  }
  EXPECT_EQ(shown, "Sure. ");
  for (char c : std::string("r: what")) shown += reply.push(ids(*tok, std::string(1, c)).at(0));
  EXPECT_TRUE(reply.stopped());
  EXPECT_EQ(shown + reply.finish(), "Sure. ");
  // A prefix that never completes is released at the end.
  ReplyStream other(*tok, stops);
  std::string text;
  for (int32_t id : ids(*tok, "Use it")) text += other.push(id);
  text += other.push(0);
  text += other.finish();
  EXPECT_EQ(text, "Use it");
  EXPECT_FALSE(other.stopped());
}

TEST(ChatConfig, SamplingFieldsWithMlcDefaultsAndLlmccAdditions) {
  Json config = {{"conv_template", Conversation::from_template("chatml").to_json()}};
  ChatConfig c = ChatConfig::from_json(config, "x.json");
  EXPECT_EQ(c.sampling.temperature, 1.0);  // MLC's defaults when absent
  EXPECT_EQ(c.sampling.top_p, 1.0);
  EXPECT_EQ(c.sampling.top_k, 0);
  EXPECT_EQ(c.sampling.min_p, 0.0);
  EXPECT_TRUE(c.eos_token_ids.empty());
  config.update({{"temperature", 0.8},
                 {"top_p", 0.95},
                 {"top_k", 40},
                 {"min_p", 0.05},
                 {"repetition_penalty", 1.1},
                 {"eos_token_id", Json::array({2, 7})}});
  c = ChatConfig::from_json(config, "x.json");
  EXPECT_EQ(c.sampling.temperature, 0.8);
  EXPECT_EQ(c.sampling.top_p, 0.95);
  EXPECT_EQ(c.sampling.top_k, 40);
  EXPECT_EQ(c.sampling.min_p, 0.05);
  EXPECT_EQ(c.sampling.repetition_penalty, 1.1);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int32_t>{2, 7}));
  config["eos_token_id"] = 5;
  EXPECT_EQ(ChatConfig::from_json(config, "x.json").eos_token_ids, std::vector<int32_t>{5});
}

TEST(ChatConfig, BadFieldsAreUserErrorsNamingFileAndField) {
  const Json base = {{"conv_template", Conversation::from_template("chatml").to_json()}};
  auto error_of = [&](const Json& patch) {
    Json config = base;
    config.update(patch);
    try {
      ChatConfig::from_json(config, "model/mlc-chat-config.json");
    } catch (const UserError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(error_of({{"temperature", "hot"}}).find("model/mlc-chat-config.json: 'temperature'"),
            std::string::npos);
  EXPECT_NE(error_of({{"min_p", 2}}).find("min_p must be in [0, 1]"), std::string::npos);
  EXPECT_NE(error_of({{"top_k", 2.5}}).find("'top_k' must be a whole number"), std::string::npos);
  EXPECT_NE(error_of({{"eos_token_id", "</s>"}}).find("'eos_token_id'"), std::string::npos);
  EXPECT_THROW(ChatConfig::from_json(Json::object(), "m.json"), UserError);
  EXPECT_THROW(ChatConfig::load(fs::path(LLMCC_SOURCE_DIR) / "tests"), UserError);
}

}  // namespace
}  // namespace llmcc
