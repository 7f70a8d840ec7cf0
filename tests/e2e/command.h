// Runs a shell command for the end-to-end tests: exit status and stdout+stderr together.
#pragma once

#include <sys/wait.h>

#include <cstdio>
#include <string>

namespace llmcc::testing {

struct CommandResult {
  int status;  // exit code, or -1 when killed by a signal
  std::string output;
};

inline CommandResult run_command(const std::string& command) {
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  std::string out;
  char buf[4096];
  while (size_t n = std::fread(buf, 1, sizeof buf, pipe)) out.append(buf, n);
  int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

// `llmcc ARGS`, with the binary this build made.
inline CommandResult run_llmcc(const std::string& args) {
  return run_command(std::string(LLMCC_BINARY) + " " + args);
}

}  // namespace llmcc::testing
