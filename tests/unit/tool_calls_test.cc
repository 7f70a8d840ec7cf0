// Tool calls in each family's format: written into prompts and parsed back out of replies.
#include "serve/tool_calls.h"

#include <gtest/gtest.h>

namespace llmcc::serve {
namespace {

const std::vector<ToolSpec> kTools = {
    {"get_weather", "Weather now",
     Json::parse(
         R"({"type":"object","properties":{"city":{"type":"string"}},"required":["city"]})")},
    {"add", "", Json::parse(R"({"type":"object","properties":{"a":{"type":"integer"}}})")}};

TEST(ToolCalls, ParsesHermesTagsWithTheTextAroundThem) {
  const std::string text =
      "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": "
      "\"Oslo\"}}\n</tool_call>\n<tool_call>{\"name\":\"add\",\"arguments\":\"{\\\"a\\\":1}\"}"
      "</tool_call>";
  auto parsed = parse_tool_calls(text, kTools, ToolFormat::kHermes);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->content, "Let me check.");
  ASSERT_EQ(parsed->calls.size(), 2u);
  EXPECT_EQ(parsed->calls[0].name, "get_weather");
  EXPECT_EQ(Json::parse(parsed->calls[0].arguments), Json::parse(R"({"city":"Oslo"})"));
  EXPECT_EQ(Json::parse(parsed->calls[1].arguments), Json::parse(R"({"a":1})"));
  EXPECT_EQ(parsed->calls[0].id.rfind("call_", 0), 0u);
  EXPECT_NE(parsed->calls[0].id, parsed->calls[1].id);
}

TEST(ToolCalls, ParsesLlamaJsonAndItsPythonTag) {
  auto parsed = parse_tool_calls("<|python_tag|>{\"name\": \"add\", \"parameters\": {\"a\": 2}}",
                                 kTools, ToolFormat::kLlama31);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->content, "");
  ASSERT_EQ(parsed->calls.size(), 1u);
  EXPECT_EQ(Json::parse(parsed->calls[0].arguments), Json::parse(R"({"a":2})"));
}

TEST(ToolCalls, PlainRepliesAndUnknownFunctionsAreNotCalls) {
  EXPECT_FALSE(parse_tool_calls("It is sunny.", kTools, ToolFormat::kHermes));
  EXPECT_FALSE(
      parse_tool_calls("{\"name\": \"rm_rf\", \"arguments\": {}}", kTools, ToolFormat::kLlama31));
  EXPECT_FALSE(parse_tool_calls("<tool_call>{not json}</tool_call>", kTools, ToolFormat::kHermes));
}

TEST(ToolCalls, AWrittenCallParsesBackToItself) {
  for (ToolFormat format : {ToolFormat::kHermes, ToolFormat::kLlama31}) {
    const std::vector<ToolCall> calls = {{"call_1", "get_weather", R"({"city":"Rome"})"}};
    auto parsed = parse_tool_calls(tool_calls_text(calls, format), kTools, format);
    ASSERT_TRUE(parsed);
    ASSERT_EQ(parsed->calls.size(), 1u);
    EXPECT_EQ(parsed->calls[0].name, "get_weather");
    EXPECT_EQ(parsed->calls[0].arguments, R"({"city":"Rome"})");
  }
  EXPECT_NE(tools_system_text(kTools, ToolFormat::kHermes).find("\"name\":\"get_weather\""),
            std::string::npos);
}

TEST(ToolCalls, TheRequiredCallSchemaTakesOnlyCalls) {
  // A named choice fixes the function and its arguments' schema; the call's tags are required.
  auto named = tool_call_schema(kTools, "get_weather", ToolFormat::kHermes);
  JsonSchemaMatcher m(*named);
  EXPECT_TRUE(m.feed("<tool_call>\n{\"name\":\"get_weather\",\"arguments\":{\"city\":\"X\"}}"));
  EXPECT_FALSE(m.complete());
  EXPECT_TRUE(m.feed("\n</tool_call>"));
  EXPECT_TRUE(m.complete());
  JsonSchemaMatcher wrong(*named);
  EXPECT_FALSE(wrong.feed("<tool_call>\n{\"name\":\"add\""));
  // "required" over several tools: any of their names, arguments any object.
  auto any = tool_call_schema(kTools, "", ToolFormat::kLlama31);
  JsonSchemaMatcher a(*any);
  EXPECT_TRUE(a.feed("{\"name\":\"add\",\"parameters\":{\"z\":[1]}}"));
  EXPECT_TRUE(a.complete());
}

}  // namespace
}  // namespace llmcc::serve
