#include "runtime/encoder.h"

#include <algorithm>
#include <cstdlib>
#include <numeric>

#include "support/error.h"
#include "weights/convert_dtype.h"

namespace llmcc {

namespace fs = std::filesystem;

Encoder::Encoder(const fs::path& model_dir, const fs::path& model_lib, bool verify_md5)
    : library_(model_lib), weights_(model_dir, library_.metadata_to_run(), verify_md5) {
  const Json& md = library_.metadata();
  if (library_.has_kv_cache() || !library_.find("prefill"))
    user_error("model library '{}' ({}) is not an encoder; run it with generate, chat or serve",
               model_lib.string(), md.value("model_type", "?"));
  const Json& config = md.at("model_config");
  hidden_size_ = config.at("hidden_size");
  vocab_size_ = config.at("vocab_size");
  max_seq_ = md.at("prefill_chunk_size");
  max_batch_ = md.value("max_batch_size", int64_t{1});
  model_dtype_name_ = md.value("model_dtype", "float32");
  model_dtype_ = model_dtype_name_ == "float32"   ? LLMCC_FLOAT32
                 : model_dtype_name_ == "float16" ? LLMCC_FLOAT16
                                                  : LLMCC_BFLOAT16;
  const int64_t ws = library_.get("prefill").workspace_bytes;
  workspace_ = std::aligned_alloc(64, static_cast<size_t>((ws + 63) / 64 * 64 + 64));
  if (!workspace_) user_error("out of memory allocating a {} byte workspace", ws);
}

Encoder::~Encoder() { std::free(workspace_); }

std::vector<std::vector<float>> Encoder::encode(
    const std::vector<std::vector<int32_t>>& sequences) {
  for (size_t i = 0; i < sequences.size(); ++i) {
    const auto& s = sequences[i];
    if (s.empty()) user_error("sequence {} has no tokens", i);
    if (static_cast<int64_t>(s.size()) > max_seq_)
      user_error("sequence {} has {} tokens; the library takes at most {} (prefill_chunk_size)", i,
                 s.size(), max_seq_);
    for (int32_t id : s)
      if (id < 0 || id >= vocab_size_)
        user_error("sequence {}: token id {} is outside the vocabulary [0, {})", i, id,
                   vocab_size_);
  }
  // Longest first, so each call's padding is set by sequences of about the same length.
  std::vector<size_t> order(sequences.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return sequences[a].size() > sequences[b].size(); });
  std::vector<std::vector<float>> out(sequences.size());
  for (size_t first = 0; first < order.size(); first += static_cast<size_t>(max_batch_))
    encode_batch(sequences, order, first,
                 std::min(order.size(), first + static_cast<size_t>(max_batch_)), out);
  return out;
}

void Encoder::encode_batch(const std::vector<std::vector<int32_t>>& sequences,
                           const std::vector<size_t>& order, size_t first, size_t last,
                           std::vector<std::vector<float>>& out) {
  const int64_t batch = static_cast<int64_t>(last - first);
  const int64_t seq = static_cast<int64_t>(sequences[order[first]].size());
  // Padding: id 0 with mask 0, which no real token attends to.
  std::vector<int32_t> ids(batch * seq, 0), mask(batch * seq, 0), types(batch * seq, 0);
  for (int64_t b = 0; b < batch; ++b) {
    const auto& s = sequences[order[first + b]];
    std::copy(s.begin(), s.end(), ids.begin() + b * seq);
    std::fill_n(mask.begin() + b * seq, s.size(), 1);
  }
  const int elem = mlc_dtype_bytes(model_dtype_name_);
  std::vector<uint8_t> hidden(static_cast<size_t>(batch * seq * hidden_size_ * elem));
  llmcc_tensor in[3] = {abi_tensor(ids.data(), LLMCC_INT32, {batch, seq}),
                        abi_tensor(mask.data(), LLMCC_INT32, {batch, seq}),
                        abi_tensor(types.data(), LLMCC_INT32, {batch, seq})};
  llmcc_tensor result = abi_tensor(hidden.data(), model_dtype_, {batch, seq, hidden_size_});
  library_.call("prefill", in, 3, &result, 1, nullptr, weights_.pointers(), workspace_);
  static const char* kSafetensorsName[] = {"F32", "F16", "BF16"};
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t n = static_cast<int64_t>(sequences[order[first + b]].size());
    std::vector<float>& rows = out[order[first + b]];
    rows.resize(static_cast<size_t>(n * hidden_size_));
    convert_elements(hidden.data() + b * seq * hidden_size_ * elem, kSafetensorsName[model_dtype_],
                     reinterpret_cast<uint8_t*>(rows.data()), "float32",
                     static_cast<size_t>(n * hidden_size_));
  }
}

}  // namespace llmcc
