// The OpenAI request parser and the Prometheus exposition, without a server: each bad field is
// refused with a 400 naming it, defaults come from the model, and the metrics text has the
// format's invariants (HELP/TYPE, cumulative buckets ending in +Inf = count).
#include <gtest/gtest.h>

#include <sstream>

#include "serve/api_error.h"
#include "serve/openai_request.h"
#include "serve/server_metrics.h"

namespace llmcc::serve {
namespace {

Json chat_body() { return Json::parse(R"({"messages": [{"role": "user", "content": "hi"}]})"); }

// The `param` of the ApiError that parsing `body` throws ("" when it does not throw).
std::string refused_field(const Json& body, bool chat = true) {
  try {
    chat ? parse_chat_request(body, {}) : parse_completion_request(body, {});
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 400) << e.what();
    if (!e.param().empty()) {
      EXPECT_EQ(e.body()["error"]["param"], e.param());
    }
    return e.param();
  }
  return "";
}

TEST(OpenAIRequest, ParsesTheFieldsItServes) {
  Json body = chat_body();
  body["messages"].push_back({{"role", "assistant"}, {"content", "hello"}});
  body["messages"].push_back({{"role", "user"},
                              {"content", Json::array({{{"type", "text"}, {"text", "a"}},
                                                       {{"type", "text"}, {"text", "b"}}})}});
  body["max_completion_tokens"] = 7;
  body["n"] = 2;
  body["stop"] = "END";
  body["seed"] = 42;
  body["temperature"] = 0.5;
  body["logit_bias"] = {{"17", -5.5}};
  body["logprobs"] = true;
  body["top_logprobs"] = 3;
  body["stream"] = true;
  body["stream_options"] = {{"include_usage", true}};
  body["user"] = "ignored";
  SamplingParams defaults;
  defaults.top_p = 0.9;
  const TextRequest r = parse_chat_request(body, defaults);
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[2].content, "ab");
  EXPECT_EQ(r.max_tokens, 7);
  EXPECT_EQ(r.n, 2);
  EXPECT_EQ(r.stop, std::vector<std::string>{"END"});
  EXPECT_TRUE(r.seeded);
  EXPECT_EQ(r.sampling.seed, 42u);
  EXPECT_EQ(r.sampling.temperature, 0.5);
  EXPECT_EQ(r.sampling.top_p, 0.9) << "the model's default, since the request has none";
  ASSERT_EQ(r.logit_bias.size(), 1u);
  EXPECT_EQ(r.logit_bias[0].first, 17);
  EXPECT_TRUE(r.logprobs);
  EXPECT_EQ(r.top_logprobs, 3);
  EXPECT_TRUE(r.stream && r.include_usage);
}

TEST(OpenAIRequest, RefusesEachBadFieldByName) {
  auto with = [](const char* key, const Json& value) {
    Json b = chat_body();
    b[key] = value;
    return b;
  };
  EXPECT_EQ(refused_field(Json::array()), "");  // not an object: 400 without a field
  EXPECT_EQ(refused_field(Json::object()), "messages");
  EXPECT_EQ(refused_field(with("messages", Json::array())), "messages");
  EXPECT_EQ(refused_field(with("temperature", "hot")), "temperature");
  EXPECT_EQ(refused_field(with("temperature", 2.5)), "temperature");
  EXPECT_EQ(refused_field(with("top_p", 0)), "top_p");
  EXPECT_EQ(refused_field(with("max_tokens", 0)), "max_tokens");
  EXPECT_EQ(refused_field(with("max_tokens", 1.5)), "max_tokens");
  EXPECT_EQ(refused_field(with("n", 17)), "n");
  EXPECT_EQ(refused_field(with("stop", Json::array({"a", "b", "c", "d", "e"}))), "stop");
  EXPECT_EQ(refused_field(with("stop", Json::array({1}))), "stop[0]");
  EXPECT_EQ(refused_field(with("seed", "x")), "seed");
  EXPECT_EQ(refused_field(with("logit_bias", {{"abc", 1}})), "logit_bias.abc");
  EXPECT_EQ(refused_field(with("logit_bias", {{"5", 101}})), "logit_bias.5");
  EXPECT_EQ(refused_field(with("top_logprobs", 2)), "top_logprobs") << "needs logprobs";
  EXPECT_EQ(refused_field(with("stream_options", {{"include_usage", true}})), "stream_options");
  EXPECT_EQ(refused_field(with("response_format", {{"type", "yaml"}})), "response_format.type");
  EXPECT_EQ(refused_field(with("response_format", {{"type", "json_schema"}})),
            "response_format.json_schema");
  EXPECT_EQ(
      refused_field(with("response_format",
                         {{"type", "json_schema"},
                          {"json_schema", {{"schema", {{"type", "string"}, {"format", "x"}}}}}})),
      "response_format.json_schema.schema");
  EXPECT_EQ(refused_field(with("tools", Json::array({{{"type", "function"}}}))),
            "tools[0].function");
  EXPECT_EQ(refused_field(with("tools", Json::array({{{"type", "retrieval"}}}))), "tools[0].type");
  EXPECT_EQ(refused_field(with("tool_choice", "required")), "tool_choice") << "needs tools";
  EXPECT_EQ(
      refused_field(with("tool_choice", {{"type", "function"}, {"function", {{"name", "nope"}}}})),
      "tool_choice.function.name");
  EXPECT_EQ(refused_field(with("stop_token_ids", Json::array({-1}))), "stop_token_ids[0]");
  EXPECT_EQ(refused_field(with("messages", Json::array({{{"role", "wizard"}, {"content", ""}}}))),
            "messages[0].role");
  EXPECT_EQ(refused_field(with("messages", Json::array({{{"role", "user"}}}))),
            "messages[0].content");
  EXPECT_EQ(refused_field(with("messages", Json::array({{{"role", "user"}, {"content", 5}}}))),
            "messages[0].content");
  EXPECT_EQ(
      refused_field(with("messages", Json::array({{{"role", "assistant"}, {"content", "x"}}}))),
      "messages");
  EXPECT_EQ(refused_field(with("temperature", nullptr)), "") << "null is absent";
}

TEST(OpenAIRequest, CompletionPromptsAndLogprobs) {
  TextRequest r = parse_completion_request(
      Json::parse(R"({"prompt": ["a", [1, 2]], "n": 2, "logprobs": 3, "echo": true})"), {});
  ASSERT_EQ(r.prompts.size(), 2u);
  EXPECT_EQ(r.prompts[0].text, "a");
  EXPECT_TRUE(r.prompts[1].is_ids);
  EXPECT_EQ(r.prompts[1].ids, (std::vector<int32_t>{1, 2}));
  EXPECT_TRUE(r.logprobs);
  EXPECT_EQ(r.top_logprobs, 3);
  EXPECT_TRUE(r.echo);
  EXPECT_EQ(refused_field(Json::parse(R"({"prompt": 5})"), false), "prompt");
  EXPECT_EQ(refused_field(Json::parse(R"({"prompt": [1, "a"]})"), false), "prompt[1]");
  EXPECT_EQ(refused_field(Json::parse(R"({"prompt": "a", "logprobs": 6})"), false), "logprobs");
  EXPECT_EQ(refused_field(Json::parse(R"({"prompt": "a", "n": 9, "stream": false})"), false), "");
  EXPECT_EQ(refused_field(Json::parse(R"({"prompt": ["a","b","c"], "n": 6})"), false), "prompt");
}

TEST(ApiError, HasOpenAIsBody) {
  const Json body =
      ApiError(404, "no such model", "model", "invalid_request_error", "model_not_found").body();
  EXPECT_EQ(body, Json::parse(R"({"error": {"message": "no such model",
      "type": "invalid_request_error", "param": "model", "code": "model_not_found"}})"));
  EXPECT_TRUE(ApiError(500, "x").body()["error"]["param"].is_null());
}

TEST(ServerMetrics, ExpositionIsWellFormedAndCumulative) {
  ServerMetrics m;
  RequestRecord r;
  r.finish_reason = "stop";
  r.prompt_tokens = 10;
  r.generation_tokens = 5;
  r.ttft_seconds = 0.03;
  r.tpot_seconds = 0.5;
  r.e2e_seconds = 3;
  m.record(r);
  r.ttft_seconds = 100;  // past every bucket
  m.record(r);
  m.count_http(200);
  const std::string text = m.exposition({.running = 2, .kv_cache_usage = 0.25});
  std::istringstream lines(text);
  std::string line, typed;
  std::vector<double> buckets;
  while (std::getline(lines, line)) {
    ASSERT_FALSE(line.empty());
    if (line.rfind("# TYPE ", 0) == 0) {
      typed = line.substr(7, line.find(' ', 7) - 7);
      continue;
    }
    if (line[0] == '#') continue;
    // Every sample belongs to the family announced last.
    EXPECT_EQ(line.rfind(typed, 0), 0u) << line << " after TYPE " << typed;
    if (line.rfind("llmcc_time_to_first_token_seconds_bucket", 0) == 0)
      buckets.push_back(std::stod(line.substr(line.rfind(' ') + 1)));
  }
  ASSERT_GT(buckets.size(), 2u);
  for (size_t i = 1; i < buckets.size(); ++i) EXPECT_GE(buckets[i], buckets[i - 1]);
  EXPECT_EQ(buckets.back(), 2);
  EXPECT_EQ(buckets[buckets.size() - 2], 1) << "100 s is only in +Inf";
  EXPECT_NE(text.find("llmcc_time_to_first_token_seconds_count 2\n"), std::string::npos);
  EXPECT_NE(text.find("llmcc_requests_total{finish_reason=\"stop\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("llmcc_generation_tokens_total 10\n"), std::string::npos);
  EXPECT_NE(text.find("llmcc_kv_cache_usage_ratio 0.25\n"), std::string::npos);
  EXPECT_NE(text.find("llmcc_num_requests_running 2\n"), std::string::npos);
}

}  // namespace
}  // namespace llmcc::serve
