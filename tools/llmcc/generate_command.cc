// llmcc generate: runs a compiled model on converted weights for one prompt, given as text (shown
// back as text) or as token ids (shown back as ids). Greedy unless sampling flags say otherwise,
// so runs are reproducible; `chat` starts from the model's sampling defaults instead.
#include <algorithm>
#include <cstdio>
#include <memory>

#include "chat/chat_config.h"
#include "chat/reply_stream.h"
#include "runtime/engine.h"
#include "support/error.h"
#include "support/npy.h"
#include "tokenizer/tokenizer.h"
#include "tools/llmcc/commands.h"
#include "tools/llmcc/model_lib_resolver.h"
#include "tools/llmcc/token_ids.h"

namespace llmcc::cli {

namespace {

struct Options {
  std::string model_dir;
  ModelLibOptions lib;
  std::string prompt_ids;
  std::string prompt;
  bool raw = false;
  int64_t max_tokens = 32;
  SamplingParams sampling{.temperature = 0.0};
  std::string stop_ids;
  std::string logits_out;
  bool no_verify = false;
};

int run(const Options& o) {
  const std::filesystem::path dir = o.model_dir;
  if (o.prompt.empty() == o.prompt_ids.empty())
    user_error("give exactly one of --prompt and --prompt-ids");
  validate_sampling(o.sampling);  // before any compile or load
  GenerationConfig config;
  config.max_tokens = o.max_tokens;
  config.sampling = o.sampling;
  config.stop_token_ids = parse_token_ids(o.stop_ids, "--stop-ids");
  // Text prompts go through the tokenizer and, unless --raw, the model's conversation template;
  // their replies are shown as text and end at the template's and the model's stop tokens.
  std::unique_ptr<Tokenizer> tokenizer;
  StopConditions stops;
  std::vector<int32_t> prompt;
  if (!o.prompt.empty()) {
    tokenizer = Tokenizer::from_dir(dir);
    std::optional<ChatConfig> chat;
    if (std::filesystem::exists(dir / "mlc-chat-config.json")) chat = ChatConfig::load(dir);
    const std::vector<int32_t> eos = chat ? chat->eos_token_ids : std::vector<int32_t>{};
    if (!o.raw && chat) {
      Conversation conv = chat->conversation;
      conv.messages.emplace_back("user", o.prompt);
      conv.messages.emplace_back("assistant", std::nullopt);
      prompt = conv.system_prefix_token_ids;
      auto text = tokenizer->encode(conv.as_prompt());
      prompt.insert(prompt.end(), text.begin(), text.end());
      stops = StopConditions::for_conversation(conv, *tokenizer, eos);
    } else {
      prompt = tokenizer->encode(o.prompt, /*add_special_tokens=*/true);
      stops = StopConditions::for_text(*tokenizer, eos);
    }
    stops.token_ids.insert(config.stop_token_ids.begin(), config.stop_token_ids.end());
    config.stop_token_ids.clear();  // the reply stream stops on them, and on stop strings
  } else {
    prompt = parse_token_ids(o.prompt_ids, "--prompt-ids");
    if (prompt.empty()) user_error("--prompt-ids is empty; give comma-separated token ids");
  }
  Engine engine(dir, resolve_model_lib(dir, o.lib), EngineOptions{.verify_md5 = !o.no_verify});
  std::vector<std::vector<float>> logits;
  std::unique_ptr<ReplyStream> reply;
  if (tokenizer) reply = std::make_unique<ReplyStream>(*tokenizer, stops);
  auto result = engine.generate(
      prompt, config, [&](int64_t step, const std::vector<float>& l, int32_t token) {
        if (!o.logits_out.empty()) logits.push_back(l);
        if (reply)
          std::fputs(reply->push(token).c_str(), stdout);
        else
          std::printf(step ? " %d" : "%d", token);  // streamed as they come
        std::fflush(stdout);
        return !reply || !reply->stopped();
      });
  if (reply) std::fputs(reply->finish().c_str(), stdout);
  std::printf("\n");
  if (!o.logits_out.empty()) write_npy_f32(o.logits_out, logits);
  double decode_rate =
      result.tokens.size() > 1 ? (result.tokens.size() - 1) / result.decode_seconds : 0;
  std::fprintf(stderr,
               "prefill: %lld tokens, %.1f tok/s; decode: %zu tokens, %.1f tok/s; finish: %s\n",
               static_cast<long long>(result.prefill_tokens),
               result.prefill_tokens / std::max(result.prefill_seconds, 1e-9), result.tokens.size(),
               decode_rate, result.finish_reason.c_str());
  return 0;
}

}  // namespace

Action add_generate_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option(
         "model_dir", o->model_dir,
         "Folder of converted weights (tensor-cache.json), and for text prompts the tokenizer")
      ->required();
  add_model_lib_options(app, o->lib);
  app.add_option("--prompt", o->prompt,
                 "Prompt text, put in the model's conversation template (mlc-chat-config.json)");
  app.add_flag("--raw", o->raw, "Tokenize --prompt as it is, without the conversation template");
  app.add_option("--prompt-ids", o->prompt_ids, "Prompt as comma-separated token ids");
  app.add_option("--max-tokens", o->max_tokens, "Tokens to generate")->capture_default_str();
  app.add_option("--temperature", o->sampling.temperature,
                 "0 = greedy (generate's default; chat uses the model's)")
      ->capture_default_str();
  app.add_option("--top-p", o->sampling.top_p, "Nucleus sampling mass")->capture_default_str();
  app.add_option("--top-k", o->sampling.top_k, "Keep the k most likely tokens; 0 = all")
      ->capture_default_str();
  app.add_option("--min-p", o->sampling.min_p,
                 "Drop tokens less likely than min-p times the most likely one; 0 = off")
      ->capture_default_str();
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
