// Standard headers a generated library needs before it opens the anonymous namespace that keeps
// every kernel symbol private to the library.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <mutex>
#include <new>
#include <thread>
#include <type_traits>
#include <vector>
#if defined(__F16C__) || defined(__AVX2__) || defined(__FMA__)
#include <immintrin.h>
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#endif
#include "llmcc/model_abi.h"

// The architecture's baseline, for the few functions a loader calls before it has checked the
// machine against the library's cpu_features.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define LLMCC_BASELINE __attribute__((target("arch=x86-64")))
#else
#define LLMCC_BASELINE
#endif
