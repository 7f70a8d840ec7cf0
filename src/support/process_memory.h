// How much memory this process holds, as the kernel counts it.
#pragma once

#include <cstdint>

namespace llmcc {

// The peak resident set size so far (VmHWM of /proc/self/status) in bytes; 0 where unknown.
int64_t peak_rss_bytes();

}  // namespace llmcc
