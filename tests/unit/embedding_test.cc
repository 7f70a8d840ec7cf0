// Pooling, the embedding settings gen_config records, and /v1/embeddings' request and response.
#include <gtest/gtest.h>

#include <cmath>

#include "chat/embedding_settings.h"
#include "runtime/pooling.h"
#include "serve/api_error.h"
#include "serve/embedding_request.h"
#include "support/error.h"
#include "support/files.h"

namespace llmcc {
namespace {

TEST(Pooling, ClsMeanAndNone) {
  const std::vector<float> hidden = {1, 2, 3, 5, 7, 11};  // 3 tokens of 2
  EXPECT_EQ(pool(hidden, 2, Pooling::kCls), (std::vector<float>{1, 2}));
  EXPECT_EQ(pool(hidden, 2, Pooling::kMean), (std::vector<float>{11.0f / 3, 6}));
  EXPECT_EQ(pool(hidden, 2, Pooling::kNone), hidden);
  EXPECT_EQ(pooling_from_name("mean", "x"), Pooling::kMean);
  EXPECT_THROW(pooling_from_name("max", "--pooling"), UserError);
}

TEST(Pooling, NormalizesEachRowAndLeavesZeroRowsZero) {
  std::vector<float> rows = {3, 4, 0, 0};
  l2_normalize_rows(rows, 2);
  EXPECT_FLOAT_EQ(rows[0], 0.6f);
  EXPECT_FLOAT_EQ(rows[1], 0.8f);
  EXPECT_EQ(rows[2], 0.0f);
  EXPECT_FALSE(std::isnan(rows[3]));
}

TEST(EmbeddingSettings, ReadsMlcChatConfigAndNamesBadFields) {
  EmbeddingSettings s = EmbeddingSettings::from_json(
      {{"embedding", {{"pooling", "mean"}, {"normalize", true}, {"max_seq_length", 128}}}}, "f");
  EXPECT_EQ(s.pooling, Pooling::kMean);
  EXPECT_TRUE(s.normalize);
  EXPECT_EQ(s.max_seq_length, 128);
  // to_json is what gen_config writes; it reads back the same.
  const EmbeddingSettings back = EmbeddingSettings::from_json({{"embedding", s.to_json()}}, "f");
  EXPECT_EQ(back.pooling, Pooling::kMean);
  EXPECT_EQ(back.max_seq_length, 128);
  EXPECT_EQ(EmbeddingSettings::from_json(Json::object(), "f").pooling, Pooling::kCls);
  for (const Json& bad : {Json{{"embedding", 3}}, Json{{"embedding", {{"pooling", "max"}}}},
                          Json{{"embedding", {{"normalize", "yes"}}}},
                          Json{{"embedding", {{"max_seq_length", 1}}}}}) {
    try {
      EmbeddingSettings::from_json(bad, "cfg.json");
      ADD_FAILURE() << bad.dump();
    } catch (const UserError& e) {
      EXPECT_NE(std::string(e.what()).find("cfg.json"), std::string::npos) << e.what();
    }
  }
}

TEST(EmbeddingSettings, FollowsSentenceTransformersModules) {
  TempPath dir = make_temp_dir("llmcc-st");
  EXPECT_FALSE(sentence_transformers_settings(dir.path()).has_value());
  std::filesystem::create_directories(dir.path() / "1_Pooling");
  write_file_atomic(dir.path() / "1_Pooling" / "config.json",
                    R"({"pooling_mode_cls_token": true, "pooling_mode_mean_tokens": false})");
  auto s = sentence_transformers_settings(dir.path());
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->pooling, Pooling::kCls);
  EXPECT_FALSE(s->normalize);
  write_file_atomic(dir.path() / "modules.json",
                    R"([{"type": "sentence_transformers.models.Normalize"}])");
  write_file_atomic(dir.path() / "sentence_bert_config.json", R"({"max_seq_length": 256})");
  s = sentence_transformers_settings(dir.path());
  EXPECT_TRUE(s->normalize);
  EXPECT_EQ(s->max_seq_length, 256);
  write_file_atomic(dir.path() / "1_Pooling" / "config.json",
                    R"({"pooling_mode_max_tokens": true})");
  EXPECT_THROW(sentence_transformers_settings(dir.path()), NotImplementedError);
}

TEST(EmbeddingRequest, Base64IsRfc4648) {
  auto b64 = [](const std::string& s) {
    return serve::base64_encode(reinterpret_cast<const uint8_t*>(s.data()), s.size());
  };
  EXPECT_EQ(b64(""), "");
  EXPECT_EQ(b64("f"), "Zg==");
  EXPECT_EQ(b64("fo"), "Zm8=");
  EXPECT_EQ(b64("foo"), "Zm9v");
  EXPECT_EQ(b64("foobar"), "Zm9vYmFy");
  const float one = 1.0f;  // little-endian 00 00 80 3f
  EXPECT_EQ(serve::base64_encode(reinterpret_cast<const uint8_t*>(&one), 4), "AACAPw==");
}

TEST(EmbeddingRequest, ParsesEveryInputKindAndNamesBadFields) {
  using serve::parse_embedding_request;
  EXPECT_EQ(parse_embedding_request({{"input", "hi"}}).texts, std::vector<std::string>{"hi"});
  EXPECT_EQ(parse_embedding_request({{"input", {"a", "b"}}}).texts.size(), 2u);
  EXPECT_EQ(parse_embedding_request({{"input", {1, 2, 3}}}).token_ids,
            (std::vector<std::vector<int32_t>>{{1, 2, 3}}));
  EXPECT_EQ(parse_embedding_request({{"input", {{1}, {2, 3}}}}).token_ids.size(), 2u);
  EXPECT_TRUE(parse_embedding_request({{"input", "a"}, {"encoding_format", "base64"}}).base64);
  EXPECT_EQ(parse_embedding_request({{"input", "a"}, {"model", "m"}}).model, "m");
  const std::pair<Json, std::string> bad[] = {
      {Json{{"model", "m"}}, "input"},
      {Json{{"input", 3}}, "input"},
      {Json{{"input", Json::array()}}, "input"},
      {Json{{"input", ""}}, "input"},
      {Json{{"input", {"a", ""}}}, "input[1]"},
      {Json{{"input", {"a", 1}}}, "input[1]"},
      {Json{{"input", {{1}, Json::array()}}}, "input[1]"},
      {Json{{"input", {1, -2}}}, "input[1]"},
      {Json{{"input", "a"}, {"encoding_format", "hex"}}, "encoding_format"},
      {Json{{"input", "a"}, {"dimensions", 3}}, "dimensions"},
      {Json{{"input", "a"}, {"model", 3}}, "model"}};
  for (const auto& [body, param] : bad) {
    try {
      parse_embedding_request(body);
      ADD_FAILURE() << body.dump();
    } catch (const serve::ApiError& e) {
      EXPECT_EQ(e.status(), 400);
      EXPECT_EQ(e.param(), param) << body.dump() << ": " << e.what();
    }
  }
}

TEST(EmbeddingRequest, ResponseIsOpenAIsShape) {
  const Json r = serve::embedding_response({{{0.5f, -1.0f}, 3}, {{1.0f, 0.0f}, 2}}, "m", false);
  EXPECT_EQ(r["object"], "list");
  EXPECT_EQ(r["model"], "m");
  EXPECT_EQ(r["data"][1]["index"], 1);
  EXPECT_EQ(r["data"][1]["object"], "embedding");
  EXPECT_EQ(r["data"][0]["embedding"], (Json{0.5, -1.0}));
  EXPECT_EQ(r["usage"]["prompt_tokens"], 5);
  EXPECT_EQ(r["usage"]["total_tokens"], 5);
  const Json b = serve::embedding_response({{{1.0f}, 1}}, "m", true);
  EXPECT_EQ(b["data"][0]["embedding"], "AACAPw==");
}

}  // namespace
}  // namespace llmcc
