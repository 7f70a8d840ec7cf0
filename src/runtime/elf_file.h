// What an ELF library is built for, and its sections, read from the file without loading it: the
// runtime refuses a library for another architecture by name (dlopen would say only "wrong ELF
// class"), and model_metadata still reads its metadata.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace llmcc {

// The ELF machine a file is built for ("x86_64", "aarch64", "i386", "arm", "riscv" as
// support/host_arch.h names them, else "ELF machine N"); empty when the file is not ELF.
std::string elf_machine(const std::filesystem::path& library);

// The bytes of a little-endian ELF64 file's section `name` (up to its first NUL), or nullopt when
// the file is not such an ELF or has no such section (compiled libraries keep their metadata in
// ".llmcc_metadata").
std::optional<std::string> elf_section(const std::filesystem::path& file, const std::string& name);

}  // namespace llmcc
