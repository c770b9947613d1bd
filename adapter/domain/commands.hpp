#pragma once

#include <string>

namespace nqs::domain {

// commandId of a command to the AIS (messages.md): the same input and command type always give
// the same id, so a redelivered input produces the same command.
std::string command_id_for(const std::string& input_id, const std::string& type);

}  // namespace nqs::domain
