// The list of targets llmcc knows, in one place. CPU is implemented; the others are MLC's device
// names, recognised so a user gets "not implemented yet" rather than "invalid".
#pragma once

#include <string>
#include <vector>

namespace llmcc {

std::vector<std::string> implemented_device_names();
bool is_known_unimplemented_device(const std::string& base_name);
// The triple of the machine llmcc runs on.
std::string host_triple();

}  // namespace llmcc
