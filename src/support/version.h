#pragma once

namespace llmcc {
// Recorded in every model library's metadata; part of what identifies a compiled library.
inline constexpr const char* kCompilerVersion = "0.1.0";
}  // namespace llmcc
