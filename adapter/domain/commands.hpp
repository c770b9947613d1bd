#pragma once

#include <boost/json/object.hpp>
#include <string>
#include <vector>

#include "common/instant.hpp"
#include "intake/intake.hpp"

namespace nqs::domain {

// A command to the AIS (messages.md, "Commands to the AIS").
struct AisCommand {
  std::string command_id;  // deterministic from the input
  std::string type;
  std::string correlation_id;
  boost::json::object body;  // {commandId, type, issuedAt, correlationId, causationId, payload}
};

// The seam where the voucher lifecycle will stand: a verified document becomes the AIS commands
// it causes. For now each document maps to its one command type, its payload as mapped; the
// state machine of Rules 380 (issue 5) replaces this function, not its callers.
std::vector<AisCommand> commands_for(const intake::Accepted& document, Instant now);

// commandId: the same input and command type always give the same id.
std::string command_id_for(const std::string& input_message_id, const std::string& type);

}  // namespace nqs::domain
