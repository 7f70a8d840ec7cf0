#include "serve/embedding_request.h"

#include <fmt/format.h>

#include <cstring>

#include "serve/api_error.h"

namespace llmcc::serve {

namespace {

bool is_token(const Json& v) { return v.is_number_integer(); }

std::vector<int32_t> token_list(const Json& ids, const std::string& field) {
  if (ids.empty()) bad_field(field, "an input must not be empty");
  std::vector<int32_t> out;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!is_token(ids[i]) || ids[i].get<int64_t>() < 0 || ids[i].get<int64_t>() > INT32_MAX)
      bad_field(fmt::format("{}[{}]", field, i), "expected a token id");
    out.push_back(ids[i].get<int32_t>());
  }
  return out;
}

}  // namespace

EmbeddingRequest parse_embedding_request(const Json& body) {
  if (!body.is_object()) throw ApiError(400, "the request body must be a JSON object");
  EmbeddingRequest r;
  if (auto m = body.find("model"); m != body.end() && !m->is_null()) {
    if (!m->is_string()) bad_field("model", "expected a string");
    r.model = m->get<std::string>();
  }
  auto input = body.find("input");
  if (input == body.end()) bad_field("input", "this field is required");
  const std::string kinds = "a string, an array of strings, or token ids";
  if (input->is_string()) {
    r.texts.push_back(input->get<std::string>());
  } else if (input->is_array() && !input->empty() && is_token((*input)[0])) {
    r.token_ids.push_back(token_list(*input, "input"));
  } else if (input->is_array() && !input->empty()) {
    const bool strings = (*input)[0].is_string();
    for (size_t i = 0; i < input->size(); ++i) {
      const Json& item = (*input)[i];
      const std::string field = fmt::format("input[{}]", i);
      if (strings && item.is_string())
        r.texts.push_back(item.get<std::string>());
      else if (!strings && item.is_array())
        r.token_ids.push_back(token_list(item, field));
      else
        bad_field(field, "every item must be of the first one's kind: " + kinds);
    }
  } else {
    bad_field("input", "expected " + kinds);
  }
  for (size_t i = 0; i < r.texts.size(); ++i)
    if (r.texts[i].empty())
      bad_field(r.texts.size() == 1 && input->is_string() ? "input" : fmt::format("input[{}]", i),
                "an input must not be empty");
  if (auto f = body.find("encoding_format"); f != body.end() && !f->is_null()) {
    if (*f != "float" && *f != "base64") bad_field("encoding_format", "expected float or base64");
    r.base64 = *f == "base64";
  }
  if (auto d = body.find("dimensions"); d != body.end() && !d->is_null())
    bad_field("dimensions", "this model's embeddings have a fixed size; omit dimensions");
  return r;
}

std::vector<std::vector<int32_t>> embedding_inputs(const EmbeddingRequest& request,
                                                   const Embedder& embedder, int64_t vocab_size,
                                                   int64_t max_tokens) {
  std::vector<std::vector<int32_t>> out;
  for (const auto& t : request.texts) out.push_back(embedder.tokenize(t));
  for (size_t i = 0; i < request.token_ids.size(); ++i) {
    const auto& ids = request.token_ids[i];
    const std::string field = request.token_ids.size() == 1 ? "input" : fmt::format("input[{}]", i);
    if (static_cast<int64_t>(ids.size()) > max_tokens)
      bad_field(field,
                fmt::format("{} tokens; this model takes at most {}", ids.size(), max_tokens));
    for (int32_t id : ids)
      if (id >= vocab_size)
        bad_field(field,
                  fmt::format("token id {} is outside the vocabulary [0, {})", id, vocab_size));
    out.push_back(ids);
  }
  return out;
}

std::string base64_encode(const uint8_t* bytes, size_t n) {
  static const char kDigits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((n + 2) / 3 * 4);
  for (size_t i = 0; i < n; i += 3) {
    const uint32_t v = uint32_t(bytes[i]) << 16 | (i + 1 < n ? uint32_t(bytes[i + 1]) << 8 : 0) |
                       (i + 2 < n ? bytes[i + 2] : 0);
    out += kDigits[v >> 18 & 63];
    out += kDigits[v >> 12 & 63];
    out += i + 1 < n ? kDigits[v >> 6 & 63] : '=';
    out += i + 2 < n ? kDigits[v & 63] : '=';
  }
  return out;
}

Json embedding_response(const std::vector<Embedding>& embeddings, const std::string& model,
                        bool base64) {
  Json data = Json::array();
  int64_t tokens = 0;
  for (size_t i = 0; i < embeddings.size(); ++i) {
    const std::vector<float>& v = embeddings[i].values;
    tokens += embeddings[i].tokens;
    Json vector;
    if (base64) {
      // The client decodes little-endian float32, which this machine's floats are.
      vector = base64_encode(reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(float));
    } else {
      vector = Json::array();
      for (float x : v) vector.push_back(x);
    }
    data.push_back({{"object", "embedding"}, {"index", i}, {"embedding", vector}});
  }
  return {{"object", "list"},
          {"data", data},
          {"model", model},
          {"usage", {{"prompt_tokens", tokens}, {"total_tokens", tokens}}}};
}

}  // namespace llmcc::serve
