// llmcc chat: an interactive conversation with a model folder (weights, mlc-chat-config.json and
// tokenizer). Reads stdin, so it can be scripted: `printf 'hi\n/stats\n' | llmcc chat DIR`.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>

#include "chat/chat_config.h"
#include "chat/chat_session.h"
#include "support/error.h"
#include "support/json.h"
#include "tools/llmcc/commands.h"
#include "tools/llmcc/model_lib_resolver.h"

namespace llmcc::cli {

namespace {

struct Options {
  std::string model_dir, log_prompt_ids;
  ModelLibOptions lib;
  int64_t max_tokens = 512;
};

const char* kHelp =
    "Commands:\n"
    "  /help                 this help\n"
    "  /exit                 quit\n"
    "  /stats                prefill and decode speed of the last reply\n"
    "  /reset                forget the conversation\n"
    "  /set k=v;k=v          temperature, top_p, top_k, min_p, seed, max_tokens, stop (a,b),\n"
    "                        repetition_penalty, presence_penalty, frequency_penalty\n"
    "                        (defaults: the model's mlc-chat-config.json; /set shows them)\n";

int run(const Options& o) {
  const std::filesystem::path dir = o.model_dir;
  ChatConfig config = ChatConfig::load(dir);
  auto tokenizer = Tokenizer::from_dir(dir);
  std::string lib = resolve_model_lib(dir, o.lib);
  // MLC runs chat in interactive mode: one sequence, the KV cache of one context window.
  Engine engine(dir, lib, {.mode = EngineMode::kInteractive});
  ChatSession session(engine, *tokenizer, config.conversation, config.sampling, o.max_tokens,
                      config.eos_token_ids);
  std::ofstream id_log;
  if (!o.log_prompt_ids.empty()) {
    id_log.open(o.log_prompt_ids, std::ios::app);
    if (!id_log) user_error("cannot write '{}'", o.log_prompt_ids);
    session.on_prompt_ids = [&](const std::vector<int32_t>& ids) {
      id_log << Json(ids).dump() << "\n" << std::flush;
    };
  }
  session.on_notice = [](const std::string& notice) {
    std::fprintf(stderr, "%s\n", notice.c_str());
  };

  const bool interactive = ::isatty(0) != 0;
  if (interactive) std::printf("llmcc chat: type /help for commands.\n");
  std::string line;
  while (true) {
    if (interactive) {
      std::printf(">>> ");
      std::fflush(stdout);
    }
    if (!std::getline(std::cin, line)) break;
    if (line.empty()) continue;
    try {
      if (line == "/exit") break;
      if (line == "/help") {
        std::printf("%s", kHelp);
      } else if (line == "/stats") {
        std::printf("%s\n", session.stats_text().c_str());
      } else if (line == "/reset") {
        session.reset();
        std::printf("[conversation reset]\n");
      } else if (line == "/set") {
        std::printf("%s\n", session.settings_text().c_str());
      } else if (line.rfind("/set ", 0) == 0) {
        session.set(line.substr(5));
        std::printf("[settings updated] %s\n", session.settings_text().c_str());
      } else if (line[0] == '/') {
        std::printf("unknown command %s; /help lists them\n", line.c_str());
      } else {
        session.chat(line, [](const std::string& piece) {
          std::fputs(piece.c_str(), stdout);
          std::fflush(stdout);
        });
        std::printf("\n");
      }
    } catch (const UserError& e) {
      // A bad command or an over-long message should not end the conversation.
      std::fprintf(stderr, "error: %s\n", e.what());
    }
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace

Action add_chat_command(CLI::App& app) {
  auto o = std::make_shared<Options>();
  app.add_option("model_dir", o->model_dir,
                 "Model folder: converted weights, mlc-chat-config.json and tokenizer files")
      ->required();
  add_model_lib_options(app, o->lib);
  app.add_option("--max-tokens", o->max_tokens, "Longest reply, in tokens")->capture_default_str();
  app.add_option("--log-prompt-ids", o->log_prompt_ids,
                 "Append each turn's prompt token ids (a JSON array per line) to this file");
  return [o] { return run(*o); };
}

}  // namespace llmcc::cli
