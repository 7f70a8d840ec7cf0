// End to end against Hugging Face transformers: convert_weight -> compile -> generate on the tiny
// random-weight checkpoints of tests/data/models, compared with the logits and greedy tokens that
// tools/python/make_goldens.py recorded from transformers.
#include <gtest/gtest.h>

#include <filesystem>

#include "config/config_source.h"
#include "convert/convert_weight.h"
#include "llmcc/compile.h"
#include "runtime/engine.h"
#include "support/files.h"
#include "tests/e2e/command.h"

namespace llmcc {
namespace {

namespace fs = std::filesystem;

const fs::path kData = fs::path(LLMCC_SOURCE_DIR) / "tests" / "data";

struct ParityCase {
  std::string model;
  std::string quantization;
  // Bound on max |logit - golden| / max |golden| over all steps. q0f32: the 1e-4. q0f16:
  // activations are stored in f16 (unit roundoff 2^-11 = 4.9e-4) after every op, about 10 ops per
  // layer plus embedding and head, each error relative to values up to ~10x the logit scale in
  // the residual stream; measured worst case is 6.4e-3 on the Llama models and 1.4e-2 on
  // qwen2_odd_sizes (bf16 weights, random q/k/v biases of scale 0.5), and 2e-2 keeps
  // identical greedy tokens meaningful because the goldens' top-2 margins are >= 1e-2 (relative)
  // by construction.
  double bound;
};

std::string name_of(const ::testing::TestParamInfo<ParityCase>& info) {
  return info.param.model + "_" + info.param.quantization;
}

// max |row - golden| over the golden's first `steps` logit rows, golden step i against
// rows[first_row + i].
double max_logit_diff(const Json& golden, const std::vector<std::vector<float>>& rows, size_t steps,
                      size_t first_row = 0, const char* key = "logits") {
  double diff = 0;
  for (size_t step = 0; step < steps; ++step) {
    const Json& ref = golden[key][step];
    EXPECT_EQ(ref.size(), rows.at(first_row + step).size());
    for (size_t i = 0; i < ref.size(); ++i)
      diff = std::max(diff, std::abs(double(rows[first_row + step][i]) - ref[i].get<double>()));
  }
  return diff;
}

// max |golden logit| over the first `steps` rows, the scale the bounds are relative to.
double max_golden_logit(const Json& golden, size_t steps) {
  double m = 0;
  for (size_t step = 0; step < steps; ++step)
    for (const Json& v : golden["logits"][step]) m = std::max(m, std::abs(v.get<double>()));
  return m;
}

// Greedy generation from the golden's prompt for as many tokens as it has, keeping each step's
// logits.
// `pages`, when given, gets the most KV pages held at any step.
// `local_pages`, the most pages of the sliding layers' own group (Gemma 2/3).
GenerationResult greedy_from_golden_prompt(Engine& engine, const Json& golden,
                                           std::vector<std::vector<float>>& logits,
                                           int64_t* pages = nullptr,
                                           int64_t* local_pages = nullptr) {
  GenerationConfig config;
  config.max_tokens = static_cast<int64_t>(golden["tokens"].size());
  config.sampling.temperature = 0;
  return engine.generate(golden["prompt"].get<std::vector<int32_t>>(), config,
                         [&](int64_t, const std::vector<float>& l, int32_t) {
                           logits.push_back(l);
                           if (pages) *pages = std::max(*pages, engine.kv_pages_in_use());
                           if (local_pages)
                             *local_pages = std::max(*local_pages, engine.kv_local_pages_in_use());
                           return true;
                         });
}

class HfParity : public ::testing::TestWithParam<ParityCase> {};

TEST_P(HfParity, GreedyTokensAndLogitsMatchTransformers) {
  const ParityCase& c = GetParam();
  // gemma3_multimodal is gemma3_local_global's text model inside Gemma3ForConditionalGeneration
  // (tools/python/make_multimodal_layout.py): the same logits.
  const std::string golden_name = c.model == "gemma3_multimodal" ? "gemma3_local_global" : c.model;
  Json golden = read_json_file(kData / "goldens" / (golden_name + ".json"));
  TempPath dir = make_temp_dir("llmcc-parity");
  fs::path weights = dir.path() / "weights", lib = dir.path() / "lib.so";

  ConfigSource source = load_config_source((kData / "models" / c.model).string());
  const Quantization& q = Quantization::from_name(c.quantization);
  const Model& model = Model::from_name(detect_model_type("auto", source));
  convert_weight(source, q, model, {.output = weights});
  compile(source.dict, q, model, Target::from_device("cpu"), OptimizationFlags::from_str("O2"),
          nullptr, "auto", lib, ModelConfigOverride::from_str(""));

  // Sliding-window models run on 4-token pages, so the 44-token sequence spans many pages and
  // those that fall out of the window must be released while the logits still match. Where
  // sliding layers mix with full ones (Gemma 2/3, layer_types), the windows are per layer.
  const Json hf_config = read_json_file(kData / "models" / c.model / "config.json");
  const Json hf_window = hf_config.value("sliding_window", Json());
  const int64_t window = hf_window.is_number_integer() ? hf_window.get<int64_t>() : 0;
  const bool every_layer_slides = window > 0 && !hf_config.contains("layer_types");
  const int64_t page_size = window > 0 ? 4 : 16;
  Engine engine(weights, lib, {.page_size = page_size});
  std::vector<std::vector<float>> logits;
  int64_t max_pages = 0, max_local_pages = 0;
  const GenerationResult result =
      greedy_from_golden_prompt(engine, golden, logits, &max_pages, &max_local_pages);

  EXPECT_EQ(result.tokens, golden["tokens"].get<std::vector<int32_t>>());
  if (every_layer_slides) {
    // The window plus the page being filled and one partly outside the window.
    const int64_t bound = (window - 1) / page_size + 2;
    const int64_t length = static_cast<int64_t>(golden["prompt"].size() + result.tokens.size());
    std::printf(
        "[parity] %s: %lld tokens, window %lld: at most %lld pages of %lld held (bound %lld, "
        "%lld without release)\n",
        c.model.c_str(), static_cast<long long>(length), static_cast<long long>(window),
        static_cast<long long>(max_pages), static_cast<long long>(page_size),
        static_cast<long long>(bound),
        static_cast<long long>((length + page_size - 1) / page_size));
    EXPECT_LE(max_pages, bound);
  } else if (window > 0) {
    // Per-layer windows: the sliding layers' pages hold the window (plus the page being filled
    // and the one the prompt's chunk reached into), the full layers' the whole sequence.
    const int64_t length = static_cast<int64_t>(golden["prompt"].size() + result.tokens.size());
    const int64_t prompt = static_cast<int64_t>(golden["prompt"].size());
    const int64_t bound = (window - 1 + prompt + page_size - 1) / page_size + 1;
    std::printf(
        "[parity] %s: %lld tokens, window %lld: sliding layers held at most %lld pages of %lld "
        "(bound %lld), full layers %lld\n",
        c.model.c_str(), static_cast<long long>(length), static_cast<long long>(window),
        static_cast<long long>(max_local_pages), static_cast<long long>(page_size),
        static_cast<long long>(bound), static_cast<long long>(max_pages));
    EXPECT_GT(max_local_pages, 0);
    EXPECT_LE(max_local_pages, bound);
    EXPECT_GE(max_pages, (length - 1) / page_size);
  }
  ASSERT_EQ(logits.size(), result.tokens.size());
  const double max_ref = max_golden_logit(golden, logits.size());
  const double max_diff = max_logit_diff(golden, logits, logits.size());
  // The whole golden sequence at once (prefill through batch_verify): every position's logits
  // too, which puts a sliding window across many query rows of one call.
  std::vector<int32_t> sequence = golden["prompt"].get<std::vector<int32_t>>();
  const size_t prompt_len = sequence.size();
  for (const Json& t : golden["tokens"]) sequence.push_back(t.get<int32_t>());
  // One forward over the whole sequence: longrope then uses its long factors everywhere, so such
  // a golden records that forward's logits separately.
  const char* key = golden.contains("teacher_forced_logits") ? "teacher_forced_logits" : "logits";
  const double prefill_diff =
      max_logit_diff(golden, engine.score(sequence), golden[key].size(), prompt_len - 1, key);
  EXPECT_LE(prefill_diff, c.bound * max_ref) << "teacher-forced prefill of the golden sequence";
  RecordProperty("max_abs_logit_diff", std::to_string(max_diff));
  std::printf("[parity] %s %s: max |dlogit| = %.3g, relative %.3g (bound %.0e)\n", c.model.c_str(),
              c.quantization.c_str(), max_diff, max_diff / max_ref, c.bound);
  EXPECT_LE(max_diff, c.bound * max_ref);
}

std::vector<ParityCase> cases() {
  std::vector<ParityCase> out;
  for (const char* m : {"llama_mha",           "llama_gqa_tied",    "llama3_rope_scaling",
                        "llama_odd_sizes",     "qwen2_gqa_tied",    "qwen2_odd_sizes",
                        "qwen3_head_dim",      "qwen3_tied",        "mistral_sliding_window",
                        "phi3_fused",          "phi3_longrope",     "qwen2_yarn",
                        "llama_linear_rope",   "gemma_head_dim",    "gemma2_softcap_window",
                        "gemma3_local_global", "gemma3_multimodal", "gpt2_learned_positions",
                        "gpt2_odd_sizes",      "gpt_neox_parallel", "gpt_neox_sequential"}) {
    out.push_back({m, "q0f32", 1e-4});
    out.push_back({m, "q0f16", 2e-2});
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Goldens, HfParity, ::testing::ValuesIn(cases()), name_of);

// Each family's folder through the CLI as a user runs it: the family and its chat template are
// found from config.json, the settings survive mlc-chat-config.json (Mistral's and Phi-3's
// sliding windows), and generate gives transformers' greedy tokens.
class Families : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(Families, FolderThroughTheCommandLine) {
  const auto& [name, conv_template] = GetParam();
  const std::string model = (kData / "models" / name).string();
  Json golden = read_json_file(kData / "goldens" / (name + ".json"));
  TempPath dir = make_temp_dir("llmcc-family");
  const std::string out = (dir.path() / "m").string();
  const std::string llmcc = LLMCC_BINARY;
  for (const std::string& step : {" gen_config " + model + " --quantization q0f32 -o " + out,
                                  " convert_weight " + model + " --quantization q0f32 -o " + out,
                                  " compile " + out + " -o " + out + "/lib.so"}) {
    auto r = testing::run_command(llmcc + step);
    ASSERT_EQ(r.status, 0) << step << "\n" << r.output;
  }
  Json chat = read_json_file(fs::path(out) / "mlc-chat-config.json");
  Json hf = read_json_file(fs::path(model) / "config.json");
  EXPECT_EQ(chat["model_type"], hf["model_type"]);
  EXPECT_EQ(chat["conv_template"]["name"], conv_template);
  if (hf["model_type"] == "mistral" || hf["model_type"] == "phi3")  // Qwen's needs a flag
    EXPECT_EQ(chat["sliding_window_size"],
              hf["sliding_window"].is_null() ? Json(-1) : hf["sliding_window"]);
  // The rope scaling survives too, resolved (Phi-3's longrope with its attention factor).
  const Json hf_rope = hf.value("rope_parameters", Json::object());
  if (hf_rope.value("rope_type", "default") != "default") {
    EXPECT_EQ(chat["model_config"]["rope_scaling"]["rope_type"], hf_rope["rope_type"]);
    if (hf_rope.contains("partial_rotary_factor"))
      EXPECT_EQ(chat["model_config"]["partial_rotary_factor"], hf_rope["partial_rotary_factor"]);
  }
  std::string prompt, expected;
  for (const Json& t : golden["prompt"]) prompt += (prompt.empty() ? "" : ",") + t.dump();
  for (const Json& t : golden["tokens"]) expected += (expected.empty() ? "" : " ") + t.dump();
  auto r = testing::run_command(llmcc + " generate " + out + " --model-lib " + out +
                                "/lib.so --max-tokens 32 --prompt-ids " + prompt);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find(expected), std::string::npos) << r.output;
}

INSTANTIATE_TEST_SUITE_P(
    Goldens, Families,
    ::testing::Values(
        std::pair<std::string, std::string>{"qwen2_gqa_tied", "chatml"},
        std::pair<std::string, std::string>{"qwen3_tied", "chatml"},
        std::pair<std::string, std::string>{"mistral_sliding_window", "mistral_default"},
        std::pair<std::string, std::string>{"phi3_fused", "phi-3"},
        std::pair<std::string, std::string>{"phi3_longrope", "phi-3"},
        std::pair<std::string, std::string>{"gemma_head_dim", "gemma_instruction"},
        std::pair<std::string, std::string>{"gemma2_softcap_window", "gemma_instruction"},
        std::pair<std::string, std::string>{"gemma3_local_global", "gemma3_instruction"},
        // Base models: plain text continuation.
        std::pair<std::string, std::string>{"gpt2_odd_sizes", "LM"},
        std::pair<std::string, std::string>{"gpt_neox_sequential", "LM"}));

// A GGUF written from a committed checkpoint (tools/python/make_gguf_twin.py, llama.cpp's names
// and layout) imports to the same model: transformers' greedy tokens and logits.
class GgufTwin : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufTwin, ImportMatchesTheSafetensorsTwin) {
  const std::string& name = GetParam();
  Json golden = read_json_file(kData / "goldens" / (name + ".json"));
  TempPath dir = make_temp_dir("llmcc-gguf-twin");
  const std::string out = (dir.path() / "m").string(), llmcc = LLMCC_BINARY;
  for (const std::string& step :
       {" convert_weight " + (kData / "gguf" / (name + ".gguf")).string() +
            " --quantization q0f32 -o " + out,
        " compile " + out + " -o " + out + "/lib.so"}) {
    auto r = testing::run_command(llmcc + step);
    ASSERT_EQ(r.status, 0) << step << "\n" << r.output;
  }
  EXPECT_EQ(read_json_file(fs::path(out) / "config.json")["model_type"],
            read_json_file(kData / "models" / name / "config.json")["model_type"]);
  // Gemma's chat templates (in tokenizer.chat_template) are recognised: Gemma 3's folds a system
  // message into the first user turn, Gemma 1 and 2's refuse one.
  if (name.rfind("gemma", 0) == 0)
    EXPECT_EQ(read_json_file(fs::path(out) / "mlc-chat-config.json")["conv_template"]["name"],
              name.rfind("gemma3", 0) == 0 ? "gemma3_instruction" : "gemma_instruction");
  Engine engine(out, fs::path(out) / "lib.so");
  std::vector<std::vector<float>> logits;
  const GenerationResult result = greedy_from_golden_prompt(engine, golden, logits);
  ASSERT_EQ(logits.size(), result.tokens.size());
  const double max_ref = max_golden_logit(golden, logits.size());
  const double max_diff = max_logit_diff(golden, logits, logits.size());
  EXPECT_EQ(result.tokens, golden["tokens"].get<std::vector<int32_t>>());
  std::printf("[gguf twin] %s: max |dlogit| = %.3g, relative %.3g\n", name.c_str(), max_diff,
              max_diff / max_ref);
  EXPECT_LE(max_diff, 1e-4 * max_ref);
}

INSTANTIATE_TEST_SUITE_P(Goldens, GgufTwin,
                         ::testing::Values("qwen2_gqa_tied", "qwen3_head_dim", "gemma_head_dim",
                                           "gemma2_softcap_window", "gemma3_local_global"));

}  // namespace
}  // namespace llmcc
