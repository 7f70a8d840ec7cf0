#include "support/npy.h"

#include <fmt/format.h>

#include <cstring>

#include "support/error.h"
#include "support/files.h"

namespace llmcc {

void write_npy_f32(const std::filesystem::path& path, const std::vector<std::vector<float>>& rows) {
  const size_t cols = rows.empty() ? 0 : rows[0].size();
  for (const auto& r : rows)
    if (r.size() != cols) internal_error("write_npy_f32: ragged rows");
  std::string header = fmt::format(
      "{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}", rows.size(), cols);
  // Magic (6) + version (2) + length (2) + header, padded with spaces to a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string out = std::string("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  for (const auto& r : rows) out.append(reinterpret_cast<const char*>(r.data()), r.size() * 4);
  write_file_atomic(path, out);
}

std::vector<std::vector<float>> read_npy_f32(const std::filesystem::path& path) {
  std::string data = read_file(path);
  if (data.size() < 10 || data.compare(0, 6, "\x93NUMPY") != 0)
    user_error("'{}' is not an .npy file", path.string());
  size_t header_len = static_cast<unsigned char>(data[8]) | static_cast<unsigned char>(data[9])
                                                                << 8;
  std::string header = data.substr(10, header_len);
  if (header.find("'<f4'") == std::string::npos) user_error("'{}' is not float32", path.string());
  size_t open = header.find("'shape': ("), comma = header.find(',', open),
         close = header.find(')', open);
  if (open == std::string::npos) user_error("'{}' has no shape", path.string());
  size_t rows = std::stoul(header.substr(open + 10, comma - open - 10));
  size_t cols = std::stoul(header.substr(comma + 1, close - comma - 1));
  if (data.size() != 10 + header_len + rows * cols * 4)
    user_error("'{}' is truncated", path.string());
  std::vector<std::vector<float>> out(rows, std::vector<float>(cols));
  for (size_t r = 0; r < rows; ++r)
    std::memcpy(out[r].data(), data.data() + 10 + header_len + r * cols * 4, cols * 4);
  return out;
}

}  // namespace llmcc
