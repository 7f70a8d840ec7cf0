// llmcc generate: runs a compiled model on converted weights for one prompt of token ids.
#include <cstdio>
#include <memory>
#include <sstream>

#include "runtime/engine.h"
#include "support/error.h"
#include "support/npy.h"
#include "tools/llmcc/commands.h"

namespace llmcc::cli {

namespace {

struct Options {
  std::string model_dir;
  std::string model_lib;
  std::string prompt_ids;
  int64_t max_tokens = 32;
  SamplingParams sampling{.temperature = 0.0};
  std::string stop_ids;
  std::string logits_out;
  bool no_verify = false;
};

std::vector<int32_t> parse_ids(const std::string& text, const char* what) {
  std::vector<int32_t> ids;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');) {
    size_t start = item.find_first_not_of(' ');
    if (start == std::string::npos) continue;
    try {
      size_t used = 0;
      long long v = std::stoll(item, &used);
      if (item.find_first_not_of(' ', used) != std::string::npos) throw std::invalid_argument(item);
      if (v < INT32_MIN || v > INT32_MAX) throw std::out_of_range(item);
      ids.push_back(static_cast<int32_t>(v));
    } catch (const std::exception&) {
      user_error("{}: '{}' is not a token id", what, item);
    }
  }
  return ids;
}

int run(const Options& o) {
  std::vector<int32_t> prompt = parse_ids(o.prompt_ids, "--prompt-ids");
  if (prompt.empty()) user_error("--prompt-ids is empty; give comma-separated token ids");
  Engine engine(o.model_dir, o.model_lib, EngineOptions{.verify_md5 = !o.no_verify});
  GenerationConfig config;
  config.max_tokens = o.max_tokens;
  config.sampling = o.sampling;
  config.stop_token_ids = parse_ids(o.stop_ids, "--stop-ids");
  std::vector<std::vector<float>> logits;
  auto result = engine.generate(prompt, config, [&](int64_t step, const std::vector<float>& l, int32_t token) {
    if (!o.logits_out.empty()) logits.push_back(l);
    std::printf(step ? " %d" : "%d", token);  // streamed as they come
    std::fflush(stdout);
  });
  std::printf("\n");
  if (!o.logits_out.empty()) write_npy_f32(o.logits_out, logits);
  double decode_rate = result.tokens.size() > 1 ? (result.tokens.size() - 1) / result.decode_seconds : 0;
  std::fprintf(stderr, "prefill: %lld tokens, %.1f tok/s; decode: %zu tokens, %.1f tok/s; finish: %s\n",
               static_cast<long long>(result.prefill_tokens),
               result.prefill_tokens / std::max(result.prefill_seconds, 1e-9), result.tokens.size(),
               decode_rate, result.finish_reason.c_str());
  return 0;
}

}  // namespace

Action add_generate_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("model_dir", o->model_dir, "Folder of converted weights (tensor-cache.json)")->required();
  app.add_option("--model-lib", o->model_lib, "Compiled model library (.so)")->required();
  app.add_option("--prompt-ids", o->prompt_ids, "Prompt as comma-separated token ids")->required();
  app.add_option("--max-tokens", o->max_tokens, "Tokens to generate")->capture_default_str();
  app.add_option("--temperature", o->sampling.temperature, "0 = greedy")->capture_default_str();
  app.add_option("--top-p", o->sampling.top_p, "Nucleus sampling mass")->capture_default_str();
  app.add_option("--top-k", o->sampling.top_k, "Keep the k most likely tokens; 0 = all")->capture_default_str();
  app.add_option("--repetition-penalty", o->sampling.repetition_penalty)->capture_default_str();
  app.add_option("--presence-penalty", o->sampling.presence_penalty)->capture_default_str();
  app.add_option("--frequency-penalty", o->sampling.frequency_penalty)->capture_default_str();
  app.add_option("--seed", o->sampling.seed, "Random seed for sampling")->capture_default_str();
  app.add_option("--stop-ids", o->stop_ids, "Comma-separated token ids that end generation");
  app.add_option("--logits-out", o->logits_out,
                 "Write the logits of every step as a float32 .npy array [steps, vocab]");
  app.add_flag("--no-verify-md5", o->no_verify, "Skip the md5 check of the weight shards");
  return [o] { return run(*o); };
}

}  // namespace llmcc::cli
