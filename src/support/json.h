// One JSON type for the whole project. Ordered, so files we write keep MLC's field order.
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>

namespace llmcc {

using Json = nlohmann::ordered_json;

// Parses `path` as JSON; a UserError names the file and the parse position on failure.
Json read_json_file(const std::filesystem::path& path);

// Without key order, for large files that are only read: ordered_json finds each new key by a
// linear scan, so parsing tokenizer.json's vocabulary of 30k-150k keys is quadratic (seconds).
using UnorderedJson = nlohmann::json;
UnorderedJson read_unordered_json_file(const std::filesystem::path& path);

// Typed field access with errors that name the file (or context) and field.
int64_t json_int(const Json& obj, const std::string& key, const std::string& context);
double json_number(const Json& obj, const std::string& key, const std::string& context);

}  // namespace llmcc
