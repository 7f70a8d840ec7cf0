#include "weights/gguf.h"

#include <fmt/format.h>

#include <cstring>
#include <limits>

#include "support/error.h"

namespace llmcc {

namespace {

// Limits that no real model reaches; past them a file is corrupt, not large.
constexpr uint64_t kMaxTensors = 1u << 20;
constexpr uint64_t kMaxKeyValues = 1u << 20;
constexpr uint64_t kMaxStringBytes = 1u << 30;
constexpr uint64_t kMaxArrayElements = 1u << 28;
constexpr uint32_t kMaxDims = 4;

class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size, std::string file)
      : data_(data), size_(size), file_(std::move(file)) {}

  template <typename T>
  T read() {
    need(sizeof(T), "a value");
    T v;
    std::memcpy(&v, data_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string string() {
    uint64_t n = read<uint64_t>();
    if (n > kMaxStringBytes) fail(fmt::format("a string claims {} bytes", n));
    need(n, "a string");
    std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }
  size_t pos() const { return pos_; }
  [[noreturn]] void fail(const std::string& why) const {
    user_error("GGUF file '{}' is malformed at byte {}: {}", file_, pos_, why);
  }

 private:
  void need(uint64_t n, const char* what) const {
    if (n > size_ - pos_) fail(fmt::format("the file ends inside {} (truncated?)", what));
  }
  const uint8_t* data_;
  size_t size_;
  size_t pos_ = 0;
  std::string file_;
};

Json read_value(Cursor& c, uint32_t type, int depth = 0) {
  switch (type) {
    case 0:
      return c.read<uint8_t>();
    case 1:
      return c.read<int8_t>();
    case 2:
      return c.read<uint16_t>();
    case 3:
      return c.read<int16_t>();
    case 4:
      return c.read<uint32_t>();
    case 5:
      return c.read<int32_t>();
    case 6:
      return c.read<float>();
    case 7:
      return c.read<uint8_t>() != 0;
    case 8:
      return c.string();
    case 9: {
      if (depth > 0) c.fail("nested arrays are not supported");
      uint32_t elem = c.read<uint32_t>();
      uint64_t n = c.read<uint64_t>();
      if (n > kMaxArrayElements) c.fail(fmt::format("an array claims {} elements", n));
      Json arr = Json::array();
      for (uint64_t i = 0; i < n; ++i) arr.push_back(read_value(c, elem, depth + 1));
      return arr;
    }
    case 10:
      return c.read<uint64_t>();
    case 11:
      return c.read<int64_t>();
    case 12:
      return c.read<double>();
  }
  c.fail(fmt::format("unknown metadata value type {}", type));
}

}  // namespace

const char* ggml_type_name(GgmlType t) {
  switch (t) {
    case GgmlType::kF32:
      return "F32";
    case GgmlType::kF16:
      return "F16";
    case GgmlType::kQ4_0:
      return "Q4_0";
    case GgmlType::kQ4_1:
      return "Q4_1";
    case GgmlType::kQ5_0:
      return "Q5_0";
    case GgmlType::kQ5_1:
      return "Q5_1";
    case GgmlType::kQ8_0:
      return "Q8_0";
    case GgmlType::kQ4_K:
      return "Q4_K";
    case GgmlType::kQ5_K:
      return "Q5_K";
    case GgmlType::kQ6_K:
      return "Q6_K";
    case GgmlType::kBF16:
      return "BF16";
  }
  return "?";
}

std::pair<int64_t, int64_t> ggml_block_layout(uint32_t type) {
  switch (static_cast<GgmlType>(type)) {
    case GgmlType::kF32:
      return {1, 4};
    case GgmlType::kF16:
      return {1, 2};
    case GgmlType::kBF16:
      return {1, 2};
    case GgmlType::kQ4_0:
      return {32, 18};
    case GgmlType::kQ4_1:
      return {32, 20};
    case GgmlType::kQ5_0:
      return {32, 22};
    case GgmlType::kQ5_1:
      return {32, 24};
    case GgmlType::kQ8_0:
      return {32, 34};
    case GgmlType::kQ4_K:
      return {256, 144};
    case GgmlType::kQ5_K:
      return {256, 176};
    case GgmlType::kQ6_K:
      return {256, 210};
  }
  return {0, 0};
}

int64_t GgufTensor::elements() const {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

GgufFile::GgufFile(const std::filesystem::path& path) : file_(std::make_unique<MappedFile>(path)) {
  const std::string name = path.string();
  Cursor c(file_->data(), file_->size(), name);
  if (file_->size() < 4 || std::memcmp(file_->data(), "GGUF", 4) != 0)
    user_error("'{}' is not a GGUF file (bad magic)", name);
  c.read<uint32_t>();
  version_ = c.read<uint32_t>();
  if (version_ != 2 && version_ != 3)
    user_error("GGUF file '{}' has version {}; llmcc reads versions 2 and 3", name, version_);
  const uint64_t n_tensors = c.read<uint64_t>(), n_kv = c.read<uint64_t>();
  if (n_tensors > kMaxTensors) c.fail(fmt::format("it claims {} tensors", n_tensors));
  if (n_kv > kMaxKeyValues) c.fail(fmt::format("it claims {} metadata entries", n_kv));
  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = c.string();
    uint32_t type = c.read<uint32_t>();
    metadata_[key] = read_value(c, type);
  }
  struct Info {
    std::string name;
    std::vector<int64_t> dims;
    uint32_t type;
    uint64_t offset;
  };
  std::vector<Info> infos;
  for (uint64_t i = 0; i < n_tensors; ++i) {
    Info info;
    info.name = c.string();
    uint32_t n_dims = c.read<uint32_t>();
    if (n_dims == 0 || n_dims > kMaxDims)
      c.fail(fmt::format("tensor '{}' has {} dimensions", info.name, n_dims));
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t v = c.read<uint64_t>();
      if (v == 0 || v > (uint64_t{1} << 40))
        c.fail(fmt::format("tensor '{}' has dimension {}", info.name, v));
      info.dims.push_back(static_cast<int64_t>(v));
    }
    info.type = c.read<uint32_t>();
    info.offset = c.read<uint64_t>();
    infos.push_back(std::move(info));
  }
  uint64_t alignment = metadata_.value("general.alignment", uint64_t{32});
  if (alignment == 0 || (alignment & (alignment - 1)))
    c.fail("general.alignment is not a power of two");
  const uint64_t data_start = (c.pos() + alignment - 1) / alignment * alignment;
  if (data_start > file_->size()) c.fail("the tensor data section starts past the end of the file");
  const uint64_t data_size = file_->size() - data_start;
  for (auto& info : infos) {
    auto [block, bytes] = ggml_block_layout(info.type);
    if (block == 0)
      user_error("GGUF file '{}': tensor '{}' has ggml type {}, which llmcc cannot read", name,
                 info.name, info.type);
    uint64_t elements = 1;
    for (int64_t d : info.dims) {
      if (elements > (uint64_t{1} << 40) / static_cast<uint64_t>(d))
        c.fail(fmt::format("tensor '{}' is absurdly large", info.name));
      elements *= static_cast<uint64_t>(d);
    }
    if (info.dims[0] % block != 0)
      c.fail(fmt::format("tensor '{}' has rows of {} values, not a multiple of its {}-value blocks",
                         info.name, info.dims[0], block));
    const uint64_t nbytes = elements / block * bytes;
    if (info.offset % alignment != 0) c.fail(fmt::format("tensor '{}' is not aligned", info.name));
    if (info.offset > data_size || nbytes > data_size - info.offset)
      user_error(
          "GGUF file '{}': tensor '{}' lies outside the file (offset {}, {} bytes, data section {} "
          "bytes): truncated?",
          name, info.name, info.offset, nbytes, data_size);
    GgufTensor t{info.name, info.dims, static_cast<GgmlType>(info.type),
                 file_->data() + data_start + info.offset, nbytes};
    if (by_name_.count(t.name)) c.fail(fmt::format("tensor '{}' appears twice", t.name));
    by_name_[t.name] = tensors_.size();
    tensors_.push_back(t);
  }
}

const GgufTensor* GgufFile::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

}  // namespace llmcc
