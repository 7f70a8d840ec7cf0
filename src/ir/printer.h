// The stable text form of the IR. print_module(parse_module(text)) == text for printed text.
#pragma once

#include <string>

#include "ir/module.h"

namespace llmcc::ir {

std::string print_module(const Module& m);
std::string print_function(const Module& m, const Function& f);

}  // namespace llmcc::ir
