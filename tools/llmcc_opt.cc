// llmcc-opt: runs passes over textual IR, for tests and for looking at what a pass does.
//   llmcc-opt in.ir --passes=fuse-swiglu,dead-code-elimination
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <sstream>

#include "ir/parser.h"
#include "ir/printer.h"
#include "ir/verifier.h"
#include "passes/pipeline.h"
#include "support/error.h"
#include "support/files.h"

int main(int argc, char** argv) {
  CLI::App app{"llmcc-opt: run llmcc passes over textual IR and print the result"};
  std::string input = "-", passes;
  bool verify_only = false;
  app.add_option("input", input, "IR file, or - for stdin")->capture_default_str();
  app.add_option("--passes", passes, "Comma-separated pass names, run in order");
  app.add_flag("--verify", verify_only, "Only parse and verify");
  CLI11_PARSE(app, argc, argv);
  try {
    std::string text;
    if (input == "-") {
      std::stringstream ss;
      ss << std::cin.rdbuf();
      text = ss.str();
    } else {
      text = llmcc::read_file(input);
    }
    llmcc::ir::Module m = llmcc::ir::parse_module(text);
    llmcc::ir::verify_or_throw(m);
    if (!verify_only) {
      std::vector<std::string> names;
      std::stringstream list(passes);
      for (std::string name; std::getline(list, name, ',');)
        if (!name.empty()) names.push_back(name);
      llmcc::make_pipeline().run_passes(m, names);
    }
    std::fputs(llmcc::ir::print_module(m).c_str(), stdout);
    return 0;
  } catch (const llmcc::UserError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "internal error: %s\n", e.what());
    return 3;
  }
}
