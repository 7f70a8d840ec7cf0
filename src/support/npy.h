// Writes NumPy .npy files (format 1.0, little-endian float32), so logits dumps load with np.load.
#pragma once

#include <filesystem>
#include <vector>

namespace llmcc {

// `rows` of equal length become a float32 array of shape [rows, cols]. Written atomically.
void write_npy_f32(const std::filesystem::path& path, const std::vector<std::vector<float>>& rows);
// Reads what write_npy_f32 writes (for tests and tools).
std::vector<std::vector<float>> read_npy_f32(const std::filesystem::path& path);

}  // namespace llmcc
