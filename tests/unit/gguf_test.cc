// GGUF: each block format decoded from hand-made blocks (expected values worked out from ggml's
// layouts, and confirmed with the `gguf` package's dequantize), and malformed files rejected
// with a clear error rather than a crash or a huge allocation.
#include "weights/gguf.h"

#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include "kernels/cpu/common.h"
#include "support/error.h"
#include "support/files.h"

namespace llmcc {
namespace {

std::string f16(float x) {
  uint16_t bits = cpu_kernels::from_float<cpu_kernels::half>(x).bits;
  return std::string(reinterpret_cast<const char*>(&bits), 2);
}
std::string u32le(uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }

std::vector<float> decode(GgmlType type, const std::string& block) {
  auto [elements, bytes] = ggml_block_layout(static_cast<uint32_t>(type));
  EXPECT_EQ(static_cast<int64_t>(block.size()), bytes) << ggml_type_name(type);
  GgufTensor t{"t", {elements}, type, reinterpret_cast<const uint8_t*>(block.data()), block.size()};
  std::vector<float> y(elements);
  dequantize_gguf_tensor(t, y.data());
  return y;
}

TEST(GgufBlocks, LegacyFormats) {
  std::string qs;
  for (int j = 0; j < 16; ++j) qs += static_cast<char>((j & 15) | ((15 - j) << 4));
  auto y = decode(GgmlType::kQ4_0, f16(0.5f) + qs);  // (nibble - 8) * d
  EXPECT_EQ(y[0], -4.0f);
  EXPECT_EQ(y[5], -1.5f);
  EXPECT_EQ(y[16], 3.5f);
  EXPECT_EQ(y[21], 1.0f);
  y = decode(GgmlType::kQ4_1, f16(0.25f) + f16(-1.0f) + qs);  // nibble * d + m
  EXPECT_EQ(y[3], -0.25f);
  EXPECT_EQ(y[16], 2.75f);
  // Q5: bit j of qh is the fifth bit of value j, bit j+16 that of value j+16.
  const std::string q21(16, '\x21'), qh = u32le(0x00010002u);
  y = decode(GgmlType::kQ5_0, f16(1.0f) + qh + q21);  // q - 16
  EXPECT_EQ(y[0], -15.0f);
  EXPECT_EQ(y[1], 1.0f);
  EXPECT_EQ(y[16], 2.0f);
  EXPECT_EQ(y[17], -14.0f);
  y = decode(GgmlType::kQ5_1, f16(0.5f) + f16(-1.0f) + qh + q21);
  EXPECT_EQ(y[0], -0.5f);
  EXPECT_EQ(y[1], 7.5f);
  EXPECT_EQ(y[16], 8.0f);
  EXPECT_EQ(y[17], 0.0f);
  std::string q8;
  for (int j = 0; j < 32; ++j) q8 += static_cast<char>(static_cast<int8_t>(j - 16));
  y = decode(GgmlType::kQ8_0, f16(2.0f) + q8);
  EXPECT_EQ(y[0], -32.0f);
  EXPECT_EQ(y[31], 30.0f);
  float one = 1.5f;
  std::string f32(reinterpret_cast<const char*>(&one), 4);
  EXPECT_EQ(decode(GgmlType::kF32, f32)[0], 1.5f);
  EXPECT_EQ(decode(GgmlType::kF16, f16(-2.0f))[0], -2.0f);
  EXPECT_EQ(decode(GgmlType::kBF16, std::string("\x49\x40", 2))[0], 3.140625f);
}

// Scales 1..8 and mins 2 for the eight sub-blocks of 32, in K-quants' packed 6-bit form.
std::string k_scales() {
  std::string s = {1, 2, 3, 4, 2, 2, 2, 2};
  for (int j = 4; j < 8; ++j) s += static_cast<char>((j + 1) | (2 << 4));
  return s;
}

TEST(GgufBlocks, KQuants) {
  // Q4_K: d * scale * nibble - dmin * min; low nibbles (3) fill the first 32 of each 64.
  auto y = decode(GgmlType::kQ4_K, f16(1.0f) + f16(1.0f) + k_scales() + std::string(128, '\x53'));
  const float expect4[8] = {1, 8, 7, 18, 13, 28, 19, 38};
  for (int s = 0; s < 8; ++s) EXPECT_EQ(y[32 * s], expect4[s]) << s;
  // Q5_K: the same with a fifth bit from qh (bit 0 set: the first 32 values gain 16).
  y = decode(GgmlType::kQ5_K, f16(1.0f) + f16(1.0f) + k_scales() + std::string(32, '\x01') +
                                  std::string(128, '\x53'));
  EXPECT_EQ(y[0], 17.0f);
  EXPECT_EQ(y[32], 8.0f);
  EXPECT_EQ(y[64], 7.0f);
  EXPECT_EQ(y[255], 38.0f);
  // Q6_K: (6-bit q - 32) * d * scale, 16 signed scales of 16 values.
  std::string qh(64, '\0');
  qh[0] = static_cast<char>(0b11100100);
  std::string scales;
  for (int k = 0; k < 16; ++k) scales += static_cast<char>(static_cast<int8_t>(k - 8));
  y = decode(GgmlType::kQ6_K, std::string(128, '\x21') + qh + scales + f16(1.0f));
  EXPECT_EQ(y[0], 248.0f);
  EXPECT_EQ(y[16], 217.0f);
  EXPECT_EQ(y[32], 90.0f);
  EXPECT_EQ(y[64], -8.0f);
  EXPECT_EQ(y[96], -36.0f);
  EXPECT_EQ(y[128], 0.0f);
  EXPECT_EQ(y[255], -210.0f);
}

// A minimal GGUF writer for the malformed-file cases.
struct GgufBytes {
  std::string s;
  template <typename T>
  GgufBytes& put(T v) {
    s.append(reinterpret_cast<const char*>(&v), sizeof(T));
    return *this;
  }
  GgufBytes& str(const std::string& v) {
    put<uint64_t>(v.size());
    s += v;
    return *this;
  }
};

std::string valid_file(uint64_t tensor_offset = 0, uint64_t n_tensors = 1) {
  GgufBytes b;
  b.s = "GGUF";
  b.put<uint32_t>(3).put<uint64_t>(n_tensors).put<uint64_t>(1);
  b.str("general.architecture").put<uint32_t>(8).str("llama");
  b.str("w").put<uint32_t>(2).put<uint64_t>(32).put<uint64_t>(2).put<uint32_t>(0).put<uint64_t>(
      tensor_offset);
  b.s.append((32 - b.s.size() % 32) % 32, '\0');
  b.s.append(32 * 2 * 4, '\0');
  return b.s;
}

std::string error_for(const std::string& bytes) {
  TempPath dir = make_temp_dir("llmcc-gguf");
  write_file_atomic(dir.path() / "m.gguf", bytes);
  try {
    GgufFile f(dir.path() / "m.gguf");
  } catch (const UserError& e) {
    return e.what();
  }
  return "";
}

TEST(GgufFile, ReadsAValidFile) {
  TempPath dir = make_temp_dir("llmcc-gguf");
  write_file_atomic(dir.path() / "m.gguf", valid_file());
  GgufFile f(dir.path() / "m.gguf");
  EXPECT_EQ(f.version(), 3u);
  EXPECT_EQ(f.metadata()["general.architecture"], "llama");
  ASSERT_EQ(f.tensors().size(), 1u);
  EXPECT_EQ(f.tensors()[0].shape(), (std::vector<int64_t>{2, 32}));
}

TEST(GgufFile, RejectsMalformedFiles) {
  std::string good = valid_file();
  std::string bad_magic = good;
  bad_magic[0] = 'X';
  EXPECT_NE(error_for(bad_magic).find("bad magic"), std::string::npos);
  EXPECT_NE(error_for(good.substr(0, 40)).find("truncated"), std::string::npos);
  EXPECT_NE(error_for(good.substr(0, good.size() - 100)).find("outside the file"),
            std::string::npos);
  EXPECT_NE(error_for(valid_file(0, uint64_t{1} << 40)).find("claims"), std::string::npos);
  EXPECT_NE(error_for(valid_file(uint64_t{1} << 50)).find("outside the file"), std::string::npos);
  std::string version = good;
  version[4] = 9;
  EXPECT_NE(error_for(version).find("version 9"), std::string::npos);
  // A string length near 2^64 must not allocate.
  GgufBytes huge;
  huge.s = "GGUF";
  huge.put<uint32_t>(3).put<uint64_t>(0).put<uint64_t>(1).put<uint64_t>(~uint64_t{0} - 5);
  EXPECT_NE(error_for(huge.s).find("claims"), std::string::npos);
}

}  // namespace
}  // namespace llmcc
