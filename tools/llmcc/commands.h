// The llmcc subcommands. Each registers its options on a CLI11 subcommand and returns the action
// to run once parsing succeeded.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>

namespace llmcc::cli {

using Action = std::function<int()>;

Action add_compile_command(CLI::App& app);
Action add_model_metadata_command(CLI::App& app);
Action add_convert_weight_command(CLI::App& app);
Action add_generate_command(CLI::App& app);
Action add_embed_command(CLI::App& app);
Action add_eval_ppl_command(CLI::App& app);
Action add_bench_command(CLI::App& app);
Action add_gen_config_command(CLI::App& app);
Action add_chat_command(CLI::App& app);
Action add_cache_command(CLI::App& app);
Action add_serve_command(CLI::App& app);

}  // namespace llmcc::cli
