// The JSON-schema matcher behind constrained decoding, and the token masks it gives: texts the
// schema accepts are fed whole, texts it does not are refused at the first byte that leaves it,
// and the trie's masks equal feeding every token on its own.
#include "runtime/json_schema_matcher.h"

#include <gtest/gtest.h>

#include <random>

#include "support/error.h"

namespace llmcc {
namespace {

const Json kPerson = Json::parse(R"({
  "type": "object", "title": "person",
  "properties": {
    "name": {"type": "string", "maxLength": 8},
    "age": {"type": "integer"},
    "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "maxItems": 3},
    "ok": {"type": "boolean"},
    "score": {"type": "number"},
    "extra": {"type": "null"}
  },
  "required": ["name", "age"]
})");

// How many bytes of `text` the matcher takes (text.size() if all), and whether it is complete.
std::pair<size_t, bool> run(const JsonSchema& schema, const std::string& text) {
  JsonSchemaMatcher m(schema);
  for (size_t i = 0; i < text.size(); ++i)
    if (!m.feed(static_cast<uint8_t>(text[i]))) return {i, false};
  return {text.size(), m.complete()};
}

TEST(JsonSchemaMatcher, AcceptsTextsTheSchemaAccepts) {
  auto schema = JsonSchema::compile(kPerson, "schema");
  for (const char* text : {
           R"({"name":"Bo","age":42})",
           R"({"age": -7, "name": "x\u00e9\n", "ok":true})",
           R"({"name":"","age":0,"tags":["a", "b"],"extra":null})",
           R"({"name":"héllo","age":1,"score":-0.5e+10})",
           R"({"score":3.25,"tags":[],"name":"12345678","age":123456789012345})",
       }) {
    auto [taken, complete] = run(*schema, text);
    EXPECT_EQ(taken, strlen(text)) << text;
    EXPECT_TRUE(complete) << text;
  }
}

TEST(JsonSchemaMatcher, RefusesTheFirstByteThatLeavesTheSchema) {
  auto schema = JsonSchema::compile(kPerson, "schema");
  // Each text is refused exactly at its last byte.
  for (const char* text : {
           R"({"name":"Bo"})",                             // a required key is missing
           R"({"x)",                                       // not a property
           R"({"name":"123456789)",                        // longer than maxLength
           R"({"age":")",                                  // a string for an integer
           R"({"age":4.)",                                 // an integer has no fraction
           R"({"age":01)",                                 // no leading zeros
           R"({"age":1,"a)",                               // a key twice
           R"({"name":"a","age":1,"tags":["a","b","a",)",  // past maxItems
           R"({"name":"a","age":1,"tags":["c)",            // not in the enum
           R"({"name":"a","age":1}})",                     // text after the value
           R"({"name":  )",                                // two spaces
           R"({ )",                                        // a space where none may be
           R"({"ok":tru )",                                // a literal cut short
           R"({"name":"a)"
           "\x01",  // a control character in a string
           R"({"name":")"
           "\xc3\x28",  // a lead byte without its continuation
           R"({"name":")"
           "\xed\xa0",  // a UTF-16 surrogate, which UTF-8 may not encode
       }) {
    const std::string t = text;
    auto [taken, complete] = run(*schema, t);
    EXPECT_EQ(taken, t.size() - 1) << t;
  }
}

TEST(JsonSchemaMatcher, IsCompleteOnlyAtTheEndOfAValue) {
  auto schema = JsonSchema::compile(kPerson, "schema");
  EXPECT_FALSE(run(*schema, R"({"name":"Bo","age":4)").second);
  EXPECT_FALSE(run(*schema, "").second);
  // A top-level number or literal ends with the text.
  auto number = JsonSchema::compile(Json::parse(R"({"type":"number"})"), "n");
  EXPECT_TRUE(run(*number, "3.25e-2").second);
  EXPECT_FALSE(run(*number, "3.").second);
  EXPECT_FALSE(run(*number, "-").second);
  auto choice = JsonSchema::compile(Json::parse(R"({"enum":[1, 10, "x", null, {"a":[1]}]})"), "e");
  for (const char* text : {"1", "10", "\"x\"", "null", "{\"a\":[1]}"})
    EXPECT_TRUE(run(*choice, text).second) << text;
  EXPECT_EQ(run(*choice, "11").first, 1u);
}

TEST(JsonSchemaMatcher, WrapsTheValueInItsPrefixAndSuffix) {
  // A tool call's tags: the text must open with the prefix and may end only after the suffix.
  auto schema = JsonSchema::compile(Json::parse(R"({"type":"integer"})"), "s", "<call>", "</call>");
  EXPECT_EQ(run(*schema, "<call>42</call>"), std::make_pair(size_t{15}, true));
  EXPECT_FALSE(run(*schema, "<call>42").second);
  EXPECT_FALSE(run(*schema, "<call>42</ca").second);
  EXPECT_EQ(run(*schema, "42").first, 0u);
  EXPECT_EQ(run(*schema, "<call>42</call>x").first, 15u);
}

TEST(JsonSchemaMatcher, JsonObjectModeTakesAnyObject) {
  auto schema = JsonSchema::any_object();
  const std::string text = R"({"a":[1,{"b":null},"c",true,-2.5],"d":{},"e":"f"})";
  EXPECT_EQ(run(*schema, text), std::make_pair(text.size(), true));
  EXPECT_EQ(run(*schema, "[1]").first, 0u);
  EXPECT_EQ(run(*schema, R"({"a":1,})").first, 7u);
}

TEST(JsonSchemaMatcher, RefusesSchemasItCannotEnforceNamingTheKeyword) {
  auto error = [](const char* schema) -> std::string {
    try {
      JsonSchema::compile(Json::parse(schema), "response_format.json_schema.schema");
    } catch (const UserError& e) {
      return e.what();
    }
    return "no error";
  };
  const std::string pattern =
      error(R"({"type":"object","properties":{"id":{"type":"string","pattern":"^a"}}})");
  EXPECT_NE(pattern.find("'pattern'"), std::string::npos) << pattern;
  EXPECT_NE(pattern.find("response_format.json_schema.schema.properties.id"), std::string::npos)
      << pattern;
  EXPECT_NE(error(R"({"type":"date"})").find("\"date\" is not supported"), std::string::npos);
  EXPECT_NE(error(R"({"type":"object","properties":{"a":{}},"required":["b"]})").find("\"b\""),
            std::string::npos);
  EXPECT_NE(error(R"({"type":"array","minItems":3,"maxItems":2})").find("maxItems"),
            std::string::npos);
}

// A vocabulary of every printable ASCII byte and some multi-byte JSON-ish pieces.
std::vector<std::string> test_vocabulary() {
  std::vector<std::string> vocab = {"",    "{\"",   "\":",    "\",\"", "name", "\"name\":\"",
                                    "age", "true",  "tr",     "ue}",   "null", "12",
                                    "-0.", "e+",    "[\"a\"", "\"]",   "}",    ", ",
                                    "é",   "\\u00", "\\n",    "\xc3",  "\xa9"};
  for (int c = 0x20; c < 0x7f; ++c) vocab.push_back(std::string(1, static_cast<char>(c)));
  return vocab;
}

TEST(TokenTrie, MasksEqualFeedingEveryTokenAndNeverDeadEnd) {
  // Random walks: at every state the trie's mask must equal feeding each token's bytes to a copy,
  // some token must be allowed until the value is complete, and every walk must end in text that
  // parses and keeps to the schema.
  auto schema = JsonSchema::compile(kPerson, "schema");
  const auto vocab = test_vocabulary();
  const TokenTrie trie(vocab);
  std::mt19937 rng(7);
  std::vector<bool> mask;
  for (int walk = 0; walk < 40; ++walk) {
    JsonSchemaMatcher m(*schema);
    std::string text;
    for (int step = 0; step < 400 && !m.complete(); ++step) {
      trie.allowed(m, mask);
      std::vector<int32_t> allowed;
      for (size_t id = 0; id < vocab.size(); ++id) {
        JsonSchemaMatcher copy = m;
        const bool fits = !vocab[id].empty() && copy.feed(vocab[id]);
        ASSERT_EQ(mask[id], fits) << "token '" << vocab[id] << "' after '" << text << "'";
        if (fits) allowed.push_back(static_cast<int32_t>(id));
      }
      ASSERT_FALSE(allowed.empty()) << "dead end after '" << text << "'";
      const int32_t id = allowed[rng() % allowed.size()];
      ASSERT_TRUE(m.feed(vocab[id]));
      text += vocab[id];
    }
    ASSERT_TRUE(m.complete()) << text;
    const Json value = Json::parse(text);  // throws if it is not JSON
    ASSERT_TRUE(value.is_object()) << text;
    ASSERT_TRUE(value.contains("name") && value["name"].is_string()) << text;
    ASSERT_TRUE(value.contains("age") && value["age"].is_number_integer()) << text;
    for (const auto& [key, v] : value.items()) ASSERT_TRUE(kPerson["properties"].contains(key));
    if (value.contains("tags")) ASSERT_LE(value["tags"].size(), 3u) << text;
  }
}

}  // namespace
}  // namespace llmcc
