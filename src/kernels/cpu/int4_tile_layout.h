// The "int4-tile8" weight layout that linear_int4_tile8 (int4_tiles.h) reads: MLC's q4 NK weight
// and its f16 scales, regrouped into blocks of 8 output columns x 32 inputs. For tile t and group
// g, block (t * groups + g) holds 144 bytes: for step j in 0..3 and column c, bytes
// [32j + 4c, 32j + 4c + 4) are bytes [4j, 4j + 4) of column 8t + c's nibbles of group g (inputs
// 8j..8j+7, even ones in the low nibbles); then the 8 columns' scales. The compiler decides which
// weights take it (targets/cpu/kernel_selection.cc) and records it in the library's metadata; the
// runtime packs them at load (runtime/model_weights.cc). Only the standard library is used here.
#pragma once

#include <cstdint>
#include <cstring>

namespace llmcc::cpu_kernels {

constexpr int64_t kTileColumns = 8;
constexpr int64_t kTileBlockBytes = 4 * 32 + 8 * 2;  // nibbles of 8 columns x 32 inputs, scales

inline int64_t int4_tile8_bytes(int64_t N, int64_t groups) {
  return (N + kTileColumns - 1) / kTileColumns * groups * kTileBlockBytes;
}

// MLC q4 NK (q_weight [N, groups * 4] words, q_scale [N, groups] f16) -> tiles. Columns past N in
// the last tile are zero. Each source row is read front to back; its writes stay within its
// tile's groups * 144 bytes.
inline void pack_int4_tile8(const uint32_t* q_weight, const uint16_t* q_scale, int64_t N,
                            int64_t groups, uint8_t* out) {
  const int64_t tiles = (N + kTileColumns - 1) / kTileColumns;
  if (N % kTileColumns != 0) {
    uint8_t* last = out + (tiles - 1) * groups * kTileBlockBytes;
    std::memset(last, 0, static_cast<size_t>(groups * kTileBlockBytes));
  }
  for (int64_t n = 0; n < N; ++n) {
    const int64_t c = n % kTileColumns;
    uint8_t* tile = out + (n / kTileColumns) * groups * kTileBlockBytes;
    const uint32_t* words = q_weight + n * groups * 4;
    const uint16_t* scales = q_scale + n * groups;
    for (int64_t g = 0; g < groups; ++g) {
      uint8_t* block = tile + g * kTileBlockBytes;
      for (int64_t j = 0; j < 4; ++j) std::memcpy(block + j * 32 + c * 4, words + g * 4 + j, 4);
      std::memcpy(block + 128 + c * 2, scales + g, 2);
    }
  }
}

}  // namespace llmcc::cpu_kernels
