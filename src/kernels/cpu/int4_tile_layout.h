// The "int4-tile8" and "int4-tile16" weight layouts that linear_int4_tile8 (int4_tiles.h, AVX2)
// and linear_int4_tile16 (int4_tiles_vnni.h, AVX-512 VNNI) read: MLC's q4 NK weight and its f16
// scales, regrouped into blocks of C output columns x 32 inputs (C = 8 or 16). For tile t and
// group g, block (t * groups + g) holds 18 C bytes: for step j in 0..3 and column c, bytes
// [4Cj + 4c, 4Cj + 4c + 4) are bytes [4j, 4j + 4) of column Ct + c's nibbles of group g (inputs
// 8j..8j+7, even ones in the low nibbles); then the C columns' scales. A step of one block is
// then one 32-bit lane per column: 256 bits for C = 8, 512 for C = 16. The compiler decides which
// weights take it (targets/cpu/kernel_selection.cc) and records it in the library's metadata; the
// runtime packs them at load (runtime/model_weights.cc). Only the standard library is used here.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace llmcc::cpu_kernels {

// The layouts' names in a library's metadata (params[i].layout).
inline constexpr const char* kInt4Tile8Layout = "int4-tile8";
inline constexpr const char* kInt4Tile16Layout = "int4-tile16";

// The tile width a layout name stands for; 0 for a name this build does not know.
constexpr int64_t int4_tile_columns(std::string_view layout) {
  return layout == kInt4Tile8Layout ? 8 : layout == kInt4Tile16Layout ? 16 : 0;
}

// Bytes of one block of `columns` columns x 32 inputs: 16 nibble bytes and one f16 scale each.
constexpr int64_t int4_tile_block_bytes(int64_t columns) { return columns * (16 + 2); }

inline int64_t int4_tile_bytes(int64_t N, int64_t groups, int64_t columns) {
  return (N + columns - 1) / columns * groups * int4_tile_block_bytes(columns);
}

// MLC q4 NK (q_weight [N, groups * 4] words, q_scale [N, groups] f16) -> tiles of `columns`
// columns. Columns past N in the last tile are zero. Each source row is read front to back; its
// writes stay within its tile's groups * 18 * columns bytes.
inline void pack_int4_tiles(const uint32_t* q_weight, const uint16_t* q_scale, int64_t N,
                            int64_t groups, int64_t columns, uint8_t* out) {
  const int64_t tiles = (N + columns - 1) / columns, block_bytes = int4_tile_block_bytes(columns);
  if (N % columns != 0) {
    uint8_t* last = out + (tiles - 1) * groups * block_bytes;
    std::memset(last, 0, static_cast<size_t>(groups * block_bytes));
  }
  for (int64_t n = 0; n < N; ++n) {
    const int64_t c = n % columns;
    uint8_t* tile = out + (n / columns) * groups * block_bytes;
    const uint32_t* words = q_weight + n * groups * 4;
    const uint16_t* scales = q_scale + n * groups;
    for (int64_t g = 0; g < groups; ++g) {
      uint8_t* block = tile + g * block_bytes;
      for (int64_t j = 0; j < 4; ++j)
        std::memcpy(block + j * 4 * columns + c * 4, words + g * 4 + j, 4);
      std::memcpy(block + 16 * columns + c * 2, scales + g, 2);
    }
  }
}

}  // namespace llmcc::cpu_kernels
