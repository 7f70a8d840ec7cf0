#include "runtime/elf_file.h"

#include <cstring>
#include <fstream>
#include <tuple>

namespace llmcc {

std::string elf_machine(const std::filesystem::path& library) {
  std::ifstream in(library, std::ios::binary);
  unsigned char header[20] = {};
  if (!in.read(reinterpret_cast<char*>(header), sizeof(header))) return "";
  if (header[0] != 0x7f || header[1] != 'E' || header[2] != 'L' || header[3] != 'F') return "";
  // e_machine at offset 18, in the byte order that e_ident[5] names (1: little endian).
  const unsigned machine =
      header[5] == 1 ? header[18] | header[19] << 8 : header[18] << 8 | header[19];
  switch (machine) {
    case 62:
      return "x86_64";
    case 183:
      return "aarch64";
    case 3:
      return "i386";
    case 40:
      return "arm";
    case 243:
      return "riscv";
    default:
      return "ELF machine " + std::to_string(machine);
  }
}

std::optional<std::string> elf_section(const std::filesystem::path& file, const std::string& name) {
  std::ifstream in(file, std::ios::binary);
  auto read_at = [&](uint64_t offset, uint64_t n) -> std::optional<std::string> {
    std::string out(n, '\0');
    in.seekg(static_cast<std::streamoff>(offset));
    if (!in.read(out.data(), static_cast<std::streamsize>(n))) return std::nullopt;
    return out;
  };
  auto u = [](const std::string& b, size_t at, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = v << 8 | static_cast<unsigned char>(b[at + i]);
    return v;
  };
  const auto header = read_at(0, 64);
  // ELFCLASS64, ELFDATA2LSB: what llmcc builds for (x86-64, aarch64).
  if (!header ||
      header->compare(0, 4,
                      "\x7f"
                      "ELF") != 0 ||
      (*header)[4] != 2 || (*header)[5] != 1)
    return std::nullopt;
  const uint64_t shoff = u(*header, 0x28, 8), entsize = u(*header, 0x3a, 2);
  const uint64_t count = u(*header, 0x3c, 2), names_index = u(*header, 0x3e, 2);
  if (entsize < 64 || names_index >= count || count > 65535) return std::nullopt;
  const auto sections = read_at(shoff, count * entsize);
  if (!sections) return std::nullopt;
  auto section = [&](uint64_t i) {
    const size_t at = static_cast<size_t>(i * entsize);
    return std::make_tuple(u(*sections, at, 4), u(*sections, at + 24, 8), u(*sections, at + 32, 8));
  };
  const auto [unused, names_offset, names_size] = section(names_index);
  const auto names = read_at(names_offset, names_size);
  if (!names) return std::nullopt;
  for (uint64_t i = 0; i < count; ++i) {
    const auto [name_at, offset, size] = section(i);
    if (name_at >= names->size() || names->c_str() + name_at != name) continue;
    auto bytes = read_at(offset, size);
    if (bytes) bytes->resize(std::strlen(bytes->c_str()));
    return bytes;
  }
  return std::nullopt;
}

}  // namespace llmcc
