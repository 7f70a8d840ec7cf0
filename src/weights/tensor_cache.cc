#include "weights/tensor_cache.h"

#include <fmt/format.h>

#include "support/error.h"
#include "support/files.h"

namespace llmcc {

namespace fs = std::filesystem;

TensorCacheWriter::TensorCacheWriter(fs::path dir) : dir_(std::move(dir)) {}

TensorCacheWriter::~TensorCacheWriter() = default;

void TensorCacheWriter::open_shard() {
  ++shard_index_;
  fs::path path = dir_ / fmt::format("params_shard_{}.bin", shard_index_);
  shard_.open(path, std::ios::binary | std::ios::trunc);
  if (!shard_) user_error("cannot write '{}'", path.string());
  md5_ = std::make_unique<Md5>();
  shard_records_ = Json::array();
  shard_bytes_ = 0;
}

void TensorCacheWriter::close_shard() {
  if (shard_index_ < 0 || !shard_.is_open()) return;
  shard_.close();
  if (!shard_) user_error("writing params_shard_{}.bin failed", shard_index_);
  records_.push_back({{"dataPath", fmt::format("params_shard_{}.bin", shard_index_)},
                      {"format", "raw-shard"},
                      {"nbytes", shard_bytes_},
                      {"records", shard_records_},
                      {"md5sum", md5_->hex_digest()}});
}

void TensorCacheWriter::add(const std::string& name, const std::vector<int64_t>& shape,
                            const std::string& dtype, const void* data, size_t nbytes) {
  // A large tensor goes alone into its own shard ("out of band"); others fill shards up to the cap.
  bool alone = 2 * nbytes >= kShardCapBytes;
  if (shard_index_ < 0 || !shard_.is_open() || alone || shard_bytes_ + nbytes > kShardCapBytes) {
    close_shard();
    open_shard();
  }
  shard_.write(static_cast<const char*>(data), static_cast<std::streamsize>(nbytes));
  md5_->update(data, nbytes);
  shard_records_.push_back({{"name", name},
                            {"shape", shape},
                            {"dtype", dtype},
                            {"format", "raw"},
                            {"nbytes", nbytes},
                            {"byteOffset", shard_bytes_}});
  shard_bytes_ += nbytes;
  total_bytes_ += nbytes;
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  total_elements_ += n;
  if (alone) close_shard();
}

void TensorCacheWriter::finish(const Json& extra_metadata) {
  close_shard();
  Json metadata = {{"ParamSize", records_.empty() ? 0 : total_elements_},
                   {"ParamBytes", static_cast<double>(total_bytes_)},
                   {"BitsPerParam", total_elements_ ? 8.0 * total_bytes_ / total_elements_ : 0.0}};
  for (auto it = extra_metadata.begin(); it != extra_metadata.end(); ++it)
    metadata[it.key()] = it.value();
  Json index = {{"metadata", metadata}, {"records", records_}};
  write_file_atomic(dir_ / "tensor-cache.json", index.dump(1));
}

TensorCache::TensorCache(const fs::path& dir, bool verify_md5) {
  fs::path index_path = dir / "tensor-cache.json";
  if (!fs::exists(index_path))
    user_error("'{}' holds no tensor-cache.json; run `llmcc convert_weight` first", dir.string());
  Json index = read_json_file(index_path);
  metadata_ = index.value("metadata", Json::object());
  try {
    for (const auto& shard : index.at("records")) {
      std::string file = shard.at("dataPath");
      fs::path path = dir / file;
      if (!fs::exists(path)) user_error("weight shard '{}' is missing", path.string());
      auto mapped = std::make_unique<MappedFile>(path);
      size_t expected = shard.at("nbytes").get<size_t>();
      if (mapped->size() != expected)
        user_error(
            "weight shard '{}' has {} bytes but tensor-cache.json says {}: the file is "
            "truncated or was replaced",
            path.string(), mapped->size(), expected);
      if (verify_md5 && shard.contains("md5sum")) {
        std::string got = Md5::of_file(path);
        if (got != shard["md5sum"].get<std::string>())
          user_error(
              "weight shard '{}' fails its md5 check (expected {}, got {}): the file is "
              "corrupt",
              path.string(), shard["md5sum"].get<std::string>(), got);
      }
      for (const auto& r : shard.at("records")) {
        CachedTensor t;
        t.name = r.at("name");
        t.dtype = r.at("dtype");
        t.shape = r.at("shape").get<std::vector<int64_t>>();
        t.nbytes = r.at("nbytes");
        t.format = r.value("format", "raw");
        t.shard = file;
        size_t offset = r.at("byteOffset");
        if (offset > mapped->size() || t.nbytes > mapped->size() - offset)
          user_error("tensor '{}' lies outside weight shard '{}'", t.name, path.string());
        t.data = mapped->data() + offset;
        if (tensors_.count(t.name))
          user_error("tensor '{}' appears twice in '{}'", t.name, index_path.string());
        tensors_[t.name] = t;
      }
      shards_.push_back(std::move(mapped));
    }
  } catch (const Json::exception& e) {
    user_error("'{}' is malformed: {}", index_path.string(), e.what());
  }
}

const CachedTensor* TensorCache::find(const std::string& name) const {
  auto it = tensors_.find(name);
  return it == tensors_.end() ? nullptr : &it->second;
}

void TensorCache::release(const CachedTensor& t) const {
  for (const auto& shard : shards_)
    if (t.data >= shard->data() && t.data + t.nbytes <= shard->data() + shard->size())
      shard->release(t.data, t.nbytes);
}

}  // namespace llmcc
