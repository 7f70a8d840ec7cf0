#include "weights/safetensors.h"

#include <set>

#include "support/error.h"
#include "support/json.h"

namespace llmcc {

namespace fs = std::filesystem;

int safetensors_dtype_bytes(const std::string& dtype) {
  // Every dtype of the format, so that a file's layout is checked whole; only the floats convert
  // (convert_dtype.h), and a buffer such as BERT's I64 position_ids is skipped, not read.
  if (dtype == "F64" || dtype == "I64" || dtype == "U64") return 8;
  if (dtype == "F32" || dtype == "I32" || dtype == "U32") return 4;
  if (dtype == "F16" || dtype == "BF16" || dtype == "I16" || dtype == "U16") return 2;
  if (dtype == "I8" || dtype == "U8" || dtype == "BOOL" || dtype == "F8_E4M3" || dtype == "F8_E5M2")
    return 1;
  return 0;
}

const SafetensorsTensor* SafetensorsCheckpoint::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

void SafetensorsCheckpoint::release(const SafetensorsTensor& t) const {
  for (const auto& f : files_)
    if (f->path() == t.file) f->release(t.data, t.nbytes);
}

void SafetensorsCheckpoint::add_file(const fs::path& file) {
  auto mapped = std::make_unique<MappedFile>(file);
  const std::string where = "safetensors file '" + file.string() + "'";
  if (mapped->size() < 8) user_error("{} is truncated: {} bytes", where, mapped->size());
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = header_len << 8 | mapped->data()[i];
  if (header_len > mapped->size() - 8)
    user_error("{} is truncated or corrupt: its header claims {} bytes", where, header_len);
  Json header;
  try {
    header = Json::parse(mapped->data() + 8, mapped->data() + 8 + header_len);
  } catch (const std::exception& e) {
    user_error("{} has a malformed header: {}", where, e.what());
  }
  if (!header.is_object()) user_error("{} has a malformed header", where);
  const uint8_t* base = mapped->data() + 8 + header_len;
  const size_t data_size = mapped->size() - 8 - header_len;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const Json& info = it.value();
    SafetensorsTensor t;
    t.name = it.key();
    t.file = file;
    try {
      t.dtype = info.at("dtype").get<std::string>();
      t.shape = info.at("shape").get<std::vector<int64_t>>();
      auto offsets = info.at("data_offsets").get<std::vector<uint64_t>>();
      if (offsets.size() != 2 || offsets[0] > offsets[1] || offsets[1] > data_size)
        user_error("{}: tensor '{}' has data offsets outside the file", where, t.name);
      t.data = base + offsets[0];
      t.nbytes = offsets[1] - offsets[0];
    } catch (const Json::exception& e) {
      user_error("{}: tensor '{}' has a malformed entry: {}", where, t.name, e.what());
    }
    int bytes = safetensors_dtype_bytes(t.dtype);
    if (bytes == 0)
      user_error("{}: tensor '{}' has dtype {}, which llmcc cannot read", where, t.name, t.dtype);
    uint64_t count = 1;
    for (int64_t d : t.shape) {
      if (d < 0) user_error("{}: tensor '{}' has a negative dimension", where, t.name);
      count *= static_cast<uint64_t>(d);
    }
    if (count * bytes != t.nbytes)
      user_error("{}: tensor '{}' holds {} bytes but its shape needs {}", where, t.name, t.nbytes,
                 count * bytes);
    if (tensors_.count(t.name))
      user_error("tensor '{}' appears twice: in '{}' and '{}'", t.name,
                 tensors_[t.name].file.string(), file.string());
    tensors_[t.name] = t;
  }
  files_.push_back(std::move(mapped));
}

SafetensorsCheckpoint SafetensorsCheckpoint::open(const fs::path& path) {
  SafetensorsCheckpoint ckpt;
  fs::path p = path;
  if (fs::is_directory(p)) {
    if (fs::exists(p / "model.safetensors.index.json"))
      p = p / "model.safetensors.index.json";
    else if (fs::exists(p / "model.safetensors"))
      p = p / "model.safetensors";
    else
      user_error("folder '{}' holds neither model.safetensors nor model.safetensors.index.json",
                 path.string());
  }
  if (!fs::exists(p)) user_error("weights '{}' do not exist", p.string());
  if (p.extension() == ".json") {
    Json index = read_json_file(p);
    if (!index.contains("weight_map") || !index["weight_map"].is_object())
      user_error("'{}' has no weight_map", p.string());
    std::set<std::string> shards;
    for (const auto& [name, file] : index["weight_map"].items())
      shards.insert(file.get<std::string>());
    for (const auto& shard : shards) ckpt.add_file(p.parent_path() / shard);
    for (const auto& [name, file] : index["weight_map"].items())
      if (!ckpt.find(name))
        user_error("'{}' lists tensor '{}' in '{}', which does not hold it", p.string(), name,
                   file.get<std::string>());
  } else {
    ckpt.add_file(p);
  }
  return ckpt;
}

}  // namespace llmcc
