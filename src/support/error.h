// Errors: a UserError is the user's mistake (bad input, unknown name), reported without a stack
// of internals; an InternalError is a bug in llmcc. NotImplementedError mirrors the class MLC
// raises for valid requests it cannot serve (e.g. KN layouts under tensor parallelism).
#pragma once

#include <fmt/format.h>

#include <stdexcept>
#include <string>

namespace llmcc {

class UserError : public std::runtime_error {
 public:
  explicit UserError(const std::string& message) : std::runtime_error(message) {}
};

class NotImplementedError : public UserError {
 public:
  explicit NotImplementedError(const std::string& message) : UserError(message) {}
};

class InternalError : public std::logic_error {
 public:
  explicit InternalError(const std::string& message) : std::logic_error(message) {}
};

template <typename... Args>
[[noreturn]] void user_error(fmt::format_string<Args...> format, Args&&... args) {
  throw UserError(fmt::format(format, std::forward<Args>(args)...));
}

template <typename... Args>
[[noreturn]] void internal_error(fmt::format_string<Args...> format, Args&&... args) {
  throw InternalError(fmt::format(format, std::forward<Args>(args)...));
}

#define LLMCC_CHECK(cond, ...)                                                    \
  do {                                                                            \
    if (!(cond)) ::llmcc::internal_error("check failed: " #cond " " __VA_ARGS__); \
  } while (0)

}  // namespace llmcc
