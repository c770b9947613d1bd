// The JSON of an intake outcome, as `inspect` prints it.
#include <fmt/format.h>

#include <boost/json.hpp>

#include "intake/intake.hpp"

namespace nqs::intake {

boost::json::object describe(const IntakeOutcome& outcome) {
  auto signer_json = [](const xmldsig::SignerIdentity& signer) {
    boost::json::object out;
    out["iin"] = signer.iin ? boost::json::value(*signer.iin) : nullptr;
    out["bin"] = signer.bin ? boost::json::value(*signer.bin) : nullptr;
    out["subject"] = signer.subject;
    return out;
  };
  boost::json::object out;
  if (const auto* accepted = std::get_if<Accepted>(&outcome)) {
    out["outcome"] = "accepted";
    out["reason"] = nullptr;
    out["detail"] = fmt::format("{} verified and mapped", accepted->document_type);
    out["documentType"] = accepted->document_type;
    out["messageId"] = accepted->envelope.message_id;
    out["signer"] = signer_json(accepted->signer);
    boost::json::object command;
    command["type"] = accepted->command_type;
    command["payload"] = accepted->payload;
    out["command"] = std::move(command);
    return out;
  }
  const auto& rejected = std::get<Rejected>(outcome);
  out["outcome"] = "rejected";
  out["reason"] = code(rejected.rejection.reason);
  out["detail"] = rejected.rejection.detail;
  out["documentType"] =
      rejected.document_type ? boost::json::value(*rejected.document_type) : nullptr;
  out["messageId"] =
      rejected.envelope ? boost::json::value(rejected.envelope->message_id) : nullptr;
  out["signer"] = rejected.signer ? boost::json::value(signer_json(*rejected.signer)) : nullptr;
  out["command"] = nullptr;
  return out;
}

}  // namespace nqs::intake
