#include "support/json.h"

#include "support/error.h"
#include "support/files.h"

namespace llmcc {

Json read_json_file(const std::filesystem::path& path) {
  std::string text = read_file(path);
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    user_error("'{}' is not valid JSON: {}", path.string(), e.what());
  }
}

UnorderedJson read_unordered_json_file(const std::filesystem::path& path) {
  std::string text = read_file(path);
  try {
    return UnorderedJson::parse(text);
  } catch (const UnorderedJson::parse_error& e) {
    user_error("'{}' is not valid JSON: {}", path.string(), e.what());
  }
}

int64_t json_int(const Json& obj, const std::string& key, const std::string& context) {
  auto it = obj.find(key);
  if (it == obj.end()) user_error("{}: missing required field '{}'", context, key);
  if (it->is_number_integer()) return it->get<int64_t>();
  if (it->is_number_float() && it->get<double>() == static_cast<double>(it->get<int64_t>()))
    return it->get<int64_t>();
  user_error("{}: field '{}' must be an integer, got {}", context, key, it->dump());
}

double json_number(const Json& obj, const std::string& key, const std::string& context) {
  auto it = obj.find(key);
  if (it == obj.end()) user_error("{}: missing required field '{}'", context, key);
  if (!it->is_number())
    user_error("{}: field '{}' must be a number, got {}", context, key, it->dump());
  return it->get<double>();
}

}  // namespace llmcc
