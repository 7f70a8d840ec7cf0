// The whole compiler, as an ordered list of phases and passes.
#pragma once

#include "passes/pass.h"

namespace llmcc {

PassManager make_pipeline();

}  // namespace llmcc
