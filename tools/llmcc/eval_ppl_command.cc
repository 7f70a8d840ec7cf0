// llmcc eval_ppl: perplexity of a compiled model on a text file, and its KL divergence and top-1
// agreement against a base model (for example q0f32) on the same tokens.
#include <cstdio>
#include <memory>

#include "runtime/quality.h"
#include "support/error.h"
#include "support/files.h"
#include "tools/llmcc/commands.h"

namespace llmcc::cli {

namespace {

struct Options {
  std::string model_dir, model_lib, base_dir, base_lib, text;
  int64_t window = 128;
  int64_t max_tokens = 0;
  bool json = false;
};

// Until llmcc has a tokenizer, text is scored as its UTF-8 bytes, one token per byte; this needs a
// vocabulary of at least 256 and is what the committed test models (vocab 256) were made for.
std::vector<int32_t> byte_tokens(const std::string& text, int64_t vocab, int64_t max_tokens) {
  if (vocab < 256) user_error("byte tokens need a vocabulary of at least 256, the model has {}", vocab);
  std::vector<int32_t> ids;
  for (unsigned char c : text) ids.push_back(c);
  if (max_tokens > 0 && static_cast<int64_t>(ids.size()) > max_tokens) ids.resize(max_tokens);
  return ids;
}

int run(const Options& o) {
  if (o.base_dir.empty() != o.base_lib.empty())
    user_error("give both --base-model-dir and --base-model-lib, or neither");
  std::string text = read_file(o.text);
  Engine model(o.model_dir, o.model_lib);
  std::unique_ptr<Engine> base;
  if (!o.base_dir.empty()) base = std::make_unique<Engine>(o.base_dir, o.base_lib);
  auto tokens = byte_tokens(text, model.vocab_size(), o.max_tokens);
  QualityReport r = evaluate_quality(model, base.get(), tokens, o.window);
  if (o.json) {
    std::printf("{\"predictions\": %lld, \"ppl\": %.6g", static_cast<long long>(r.predictions), r.ppl);
    if (r.has_base)
      std::printf(", \"base_ppl\": %.6g, \"ppl_ratio\": %.6g, \"kld\": %.6g, \"top1_agreement\": %.6g",
                  r.base_ppl, r.ppl / r.base_ppl, r.kld, r.top1);
    std::printf("}\n");
    return 0;
  }
  std::printf("predictions: %lld\nperplexity: %.4f\n", static_cast<long long>(r.predictions), r.ppl);
  if (r.has_base)
    std::printf("base perplexity: %.4f\nperplexity ratio: %.5f\nmean KL divergence: %.6f nats\n"
                "top-1 agreement: %.2f%%\n",
                r.base_ppl, r.ppl / r.base_ppl, r.kld, 100 * r.top1);
  return 0;
}

}  // namespace

Action add_eval_ppl_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("model_dir", o->model_dir, "Folder of converted weights")->required();
  app.add_option("--model-lib", o->model_lib, "Compiled model library (.so)")->required();
  app.add_option("--text", o->text, "Text file to score (scored as UTF-8 bytes for now)")->required();
  app.add_option("--base-model-dir", o->base_dir, "Weights of the reference model, e.g. its q0f32");
  app.add_option("--base-model-lib", o->base_lib, "Library of the reference model");
  app.add_option("--window", o->window, "Tokens per independently scored window")->capture_default_str();
  app.add_option("--max-tokens", o->max_tokens, "Score at most this many tokens (0 = all)")
      ->capture_default_str();
  app.add_flag("--json", o->json, "Print one JSON object");
  return [o] { return run(*o); };
}

}  // namespace llmcc::cli
