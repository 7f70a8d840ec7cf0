// POST /v1/embeddings in OpenAI's format: the request's inputs (a string, strings, token ids, or
// arrays of token ids) and the response, with the vectors as JSON floats or, as the official
// client asks by default, base64 of little-endian float32.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chat/embedder.h"
#include "support/json.h"

namespace llmcc::serve {

struct EmbeddingRequest {
  std::string model;
  std::vector<std::string> texts;               // when the input was text
  std::vector<std::vector<int32_t>> token_ids;  // when it was token ids
  bool base64 = false;
};

// ApiError 400 naming the field for a malformed body.
EmbeddingRequest parse_embedding_request(const Json& body);

// The sequences the embedder runs: texts tokenized and truncated as the model's
// sentence-transformers config says, token ids as given (ApiError 400 when one is outside the
// vocabulary or longer than the library takes).
std::vector<std::vector<int32_t>> embedding_inputs(const EmbeddingRequest& request,
                                                   const Embedder& embedder, int64_t vocab_size,
                                                   int64_t max_tokens);

Json embedding_response(const std::vector<Embedding>& embeddings, const std::string& model,
                        bool base64);

// RFC 4648 base64 of `bytes`.
std::string base64_encode(const uint8_t* bytes, size_t n);

}  // namespace llmcc::serve
