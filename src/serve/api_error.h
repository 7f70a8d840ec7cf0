// An error a request gets back, in OpenAI's body: {"error": {"message", "type", "param", "code"}}.
// The status separates the client's mistakes (400 with the field in `param`, 401, 404, 413, 429)
// from the server's (500, 503).
#pragma once

#include <stdexcept>
#include <string>

#include "support/json.h"

namespace llmcc::serve {

class ApiError : public std::runtime_error {
 public:
  ApiError(int status, const std::string& message, std::string param = "",
           std::string type = "invalid_request_error", std::string code = "")
      : std::runtime_error(message),
        status_(status),
        param_(std::move(param)),
        type_(std::move(type)),
        code_(std::move(code)) {}

  int status() const { return status_; }
  const std::string& param() const { return param_; }

  Json body() const {
    Json error = {{"message", what()},
                  {"type", type_},
                  {"param", param_.empty() ? Json(nullptr) : Json(param_)},
                  {"code", code_.empty() ? Json(nullptr) : Json(code_)}};
    return {{"error", error}};
  }

 private:
  int status_;
  std::string param_, type_, code_;
};

// 400 for a field with the wrong value or type, naming it.
[[noreturn]] inline void bad_field(const std::string& field, const std::string& message) {
  throw ApiError(400, field + ": " + message, field);
}

}  // namespace llmcc::serve
