#include "domain/commands.hpp"

#include <map>

#include "common/ids.hpp"

namespace nqs::domain {
namespace {

// The AIS command each document causes (messages.md).
const std::map<std::string, std::string, std::less<>>& ais_command_types() {
  static const std::map<std::string, std::string, std::less<>> types{
      {"SubmitVoucherApplication", "RegisterApplication"},
      {"RecordRecognitionCenterDecision", "RecordCenterDecision"},
      {"RecordSickLeaveNotice", "RecordSickLeave"},
      {"RecordRecognitionOutcome", "RecordRecognitionOutcome"},
      {"RegisterServiceAct", "RegisterServiceAct"},
  };
  return types;
}

// The application or voucher the command is about; else the bus correlation id.
std::string correlation_of(const intake::Accepted& document) {
  for (const char* key : {"applicationId", "voucherId"}) {
    if (const auto* value = document.payload.if_contains(key); value && value->is_string()) {
      return std::string(value->get_string());
    }
  }
  return document.envelope.correlation_id;
}

}  // namespace

std::string command_id_for(const std::string& input_message_id, const std::string& type) {
  return uuid_for("command:" + input_message_id + ":" + type);
}

std::vector<AisCommand> commands_for(const intake::Accepted& document, Instant now) {
  const auto found = ais_command_types().find(document.command_type);
  const std::string type =
      found != ais_command_types().end() ? found->second : document.command_type;
  AisCommand command;
  command.type = type;
  command.command_id = command_id_for(document.envelope.message_id, type);
  command.correlation_id = correlation_of(document);
  command.body["commandId"] = command.command_id;
  command.body["type"] = type;
  command.body["issuedAt"] = to_utc_string(now);
  command.body["correlationId"] = command.correlation_id;
  command.body["causationId"] = document.envelope.message_id;
  command.body["payload"] = document.payload;
  return {std::move(command)};
}

}  // namespace nqs::domain
