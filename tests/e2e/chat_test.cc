// A scripted chat session, end to end: gen_config -> convert_weight -> compile -> `llmcc chat` on
// stdin. The prompt ids each turn sends to the model, and the greedy replies, must equal what
// Hugging Face transformers and tokenizers give for MLC's chatml template
// (tools/python/make_chat_goldens.py).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <tuple>

#include "support/files.h"
#include "support/json.h"
#include "tests/e2e/command.h"

namespace llmcc {
namespace {

namespace fs = std::filesystem;
const fs::path kData = fs::path(LLMCC_SOURCE_DIR) / "tests/data";

std::pair<int, std::string> run(const std::string& args, const std::string& stdin_text = "") {
  TempPath input = make_temp_dir("llmcc-chat-in");
  write_file_atomic(input.path() / "in.txt", stdin_text);
  auto r = testing::run_llmcc(args + " < " + (input.path() / "in.txt").string());
  return {r.status, r.output};
}

// chat_tiny with MLC's chatml template, as q0f32, compiled into OUT/lib.so.
void make_chat_tiny(const std::string& out) {
  const std::string model = (kData / "models" / "chat_tiny").string();
  auto [s1, o1] =
      run("gen_config " + model + " --quantization q0f32 --conv-template chatml -o " + out);
  ASSERT_EQ(s1, 0) << o1;
  auto [s2, o2] = run("convert_weight " + model + " --quantization q0f32 -o " + out);
  ASSERT_EQ(s2, 0) << o2;
  auto [s3, o3] = run("compile " + out + " -o " + out + "/lib.so");
  ASSERT_EQ(s3, 0) << o3;
}

// Chats with the compiled model in `out` greedily, sending the golden's user turns (then
// `extra_commands`): each turn's logged prompt ids and printed reply must be the golden's.
void expect_golden_session(const std::string& out, const Json& golden,
                           const std::string& extra_commands, std::string& output) {
  std::string script =
      "/set temperature=0;max_tokens=" + std::to_string(golden["max_tokens"].get<int>()) + "\n";
  for (const auto& turn : golden["turns"]) script += turn["user"].get<std::string>() + "\n";
  script += extra_commands + "/exit\n";
  TempPath logs = make_temp_dir("llmcc-chat-log");
  const std::string log = (logs.path() / "ids.jsonl").string();
  int status = 0;
  std::tie(status, output) =
      run("chat " + out + " --model-lib " + out + "/lib.so --log-prompt-ids " + log, script);
  ASSERT_EQ(status, 0) << output;
  std::istringstream lines(read_file(log));
  std::string line;
  for (const auto& turn : golden["turns"]) {
    ASSERT_TRUE(std::getline(lines, line)) << "fewer turns logged than sent";
    EXPECT_EQ(Json::parse(line), turn["prompt_ids"]) << "turn: " << turn["user"];
    EXPECT_NE(output.find(turn["reply"].get<std::string>()), std::string::npos)
        << "reply " << turn["reply"] << " not in:\n"
        << output;
  }
}

TEST(Chat, ScriptedSessionSendsTheTemplatedIdsOfHuggingFace) {
  Json golden = read_json_file(kData / "goldens" / "chat_tiny.json");
  TempPath dir = make_temp_dir("llmcc-chat");
  const std::string model = (kData / "models" / "chat_tiny").string(),
                    out = (dir.path() / "m").string();
  auto [s1, o1] =
      run("gen_config " + model + " --quantization q0f32 --conv-template chatml -o " + out);
  ASSERT_EQ(s1, 0) << o1;
  Json chat_config = read_json_file(dir.path() / "m" / "mlc-chat-config.json");
  EXPECT_EQ(chat_config["conv_template"]["name"], "chatml");
  EXPECT_EQ(chat_config["tokenizer_files"], Json::array({"tokenizer.json"}));
  EXPECT_EQ(chat_config["tokenizer_info"]["token_postproc_method"], "byte_level");
  EXPECT_EQ(chat_config["model_config"]["max_batch_size"], 128);
  auto [s2, o2] = run("convert_weight " + model + " --quantization q0f32 -o " + out);
  ASSERT_EQ(s2, 0) << o2;
  auto [s3, o3] = run("compile " + out + " -o " + out + "/lib.so");  // reads mlc-chat-config.json
  ASSERT_EQ(s3, 0) << o3;

  std::string output;
  ASSERT_NO_FATAL_FAILURE(expect_golden_session(out, golden, "/stats\n/help\n", output));
  // /stats after turn 2: the session's cached prefix was not prefilled again.
  size_t at = output.find("prefill: ");
  ASSERT_NE(at, std::string::npos) << output;
  size_t open = output.find('(', at);
  const int64_t prefilled = std::stoll(output.substr(open + 1));
  EXPECT_LT(prefilled, static_cast<int64_t>(golden["turns"][1]["prompt_ids"].size()) / 2) << output;
  EXPECT_NE(output.find("/reset"), std::string::npos) << output;  // /help
}

TEST(Chat, HistoryIsTrimmedWhenTheContextFills) {
  TempPath dir = make_temp_dir("llmcc-chat-trim");
  const std::string model = (kData / "models" / "chat_tiny").string(),
                    out = (dir.path() / "m").string();
  // A 160-token window: the chatml system prompt alone is about 30 tokens.
  ASSERT_EQ(run("gen_config " + model +
                " --quantization q0f32 --conv-template chatml "
                "--context-window-size 160 -o " +
                out)
                .first,
            0);
  ASSERT_EQ(run("convert_weight " + model + " --quantization q0f32 -o " + out).first, 0);
  ASSERT_EQ(run("compile " + out + " -o " + out + "/lib.so").first, 0);
  std::string script = "/set temperature=0;max_tokens=8\n";
  for (int i = 0; i < 8; ++i) script += "Tell me something about rivers and mills, please.\n";
  auto [status, output] = run("chat " + out + " --model-lib " + out + "/lib.so", script);
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find("dropped the 1 oldest exchange"), std::string::npos) << output;
  EXPECT_EQ(output.find("error"), std::string::npos) << output;
}

TEST(Chat, SetShowsAndChecksTheSamplingSettings) {
  TempPath dir = make_temp_dir("llmcc-chat-set");
  const std::string out = (dir.path() / "m").string();
  ASSERT_NO_FATAL_FAILURE(make_chat_tiny(out));
  auto [status, output] = run("chat " + out + " --model-lib " + out + "/lib.so",
                              "/set\n/set min_p=0.1;top_k=5\n/set min_p=3\n/set top_k=x\n");
  EXPECT_EQ(status, 0) << output;
  // An HF folder without sampling fields in generation_config.json: MLC's defaults, filters off.
  EXPECT_NE(output.find("temperature=1;top_p=1;top_k=0;min_p=0;"), std::string::npos) << output;
  EXPECT_NE(output.find("[settings updated] temperature=1;top_p=1;top_k=5;min_p=0.1;"),
            std::string::npos)
      << output;
  EXPECT_NE(output.find("error: /set: min_p must be in [0, 1]"), std::string::npos) << output;
  EXPECT_NE(output.find("error: /set: 'x' is not a valid value for top_k"), std::string::npos)
      << output;
}

TEST(Chat, GenerateTakesTextPrompts) {
  TempPath dir = make_temp_dir("llmcc-gen-text");
  const std::string out = (dir.path() / "m").string();
  ASSERT_NO_FATAL_FAILURE(make_chat_tiny(out));
  Json golden = read_json_file(kData / "goldens" / "chat_tiny.json");
  auto [status, output] = run("generate " + out + " --model-lib " + out + "/lib.so --prompt '" +
                              golden["turns"][0]["user"].get<std::string>() + "' --max-tokens 8");
  EXPECT_EQ(status, 0) << output;
  EXPECT_NE(output.find(golden["turns"][0]["reply"].get<std::string>()), std::string::npos)
      << output;
}

// Gemma 3 and Gemma 2 from their HF folders and from their GGUF twins, each in its own chat
// template: gemma3_instruction with a system message (which Gemma 3's template folds into the
// first user turn), gemma_instruction trimming the replies it sends back (Gemma 2's replies start
// with newlines), the SentencePiece vocabulary (the GGUF's rebuilt from pieces and scores), and
// sliding layers that the second turn's prompt reaches past. Each must send the ids
// transformers' apply_chat_template gives and print its greedy replies
// (tools/python/make_chat_goldens.py).
class GemmaChat : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(GemmaChat, ScriptedSessionMatchesTheModelsChatTemplate) {
  const auto& [name, source] = GetParam();
  Json golden = read_json_file(kData / "goldens" / (name + ".json"));
  TempPath dir = make_temp_dir("llmcc-chat-gemma");
  const std::string out = (dir.path() / "m").string();
  if (source == "hf") {
    const std::string model = (kData / "models" / name).string();
    auto [s1, o1] = run("gen_config " + model + " --quantization q0f32 -o " + out);
    ASSERT_EQ(s1, 0) << o1;
    auto [s2, o2] = run("convert_weight " + model + " --quantization q0f32 -o " + out);
    ASSERT_EQ(s2, 0) << o2;
  } else {
    auto [s, o] = run("convert_weight " + (kData / "gguf" / (name + ".gguf")).string() +
                      " --quantization q0f32 -o " + out);
    ASSERT_EQ(s, 0) << o;
  }
  // The system message, set in mlc-chat-config.json as an MLC user would.
  const fs::path config_path = fs::path(out) / "mlc-chat-config.json";
  Json config = read_json_file(config_path);
  ASSERT_EQ(config["conv_template"]["name"], golden["template"]);
  if (golden.contains("system")) config["conv_template"]["system_message"] = golden["system"];
  write_file_atomic(config_path, config.dump(2));
  auto [s3, o3] = run("compile " + out + " -o " + out + "/lib.so");
  ASSERT_EQ(s3, 0) << o3;

  std::string output;
  expect_golden_session(out, golden, "", output);
}

INSTANTIATE_TEST_SUITE_P(
    Sources, GemmaChat,
    ::testing::Values(std::pair<std::string, std::string>{"chat_gemma3", "hf"},
                      std::pair<std::string, std::string>{"chat_gemma3", "gguf"},
                      std::pair<std::string, std::string>{"chat_gemma2", "hf"},
                      std::pair<std::string, std::string>{"chat_gemma2", "gguf"}),
    [](const auto& info) { return info.param.first + "_" + info.param.second; });

}  // namespace
}  // namespace llmcc
