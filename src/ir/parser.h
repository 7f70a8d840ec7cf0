// Parses the text form written by the printer. Errors are UserErrors that give the line number.
#pragma once

#include <string>

#include "ir/module.h"

namespace llmcc::ir {

Module parse_module(const std::string& text);

}  // namespace llmcc::ir
