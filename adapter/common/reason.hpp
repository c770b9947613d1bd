#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nqs {

// Why an input is dead-lettered: the stable codes of messages.md, "Outcomes of an input".
// Operators filter on them and the AIS side matches on them: never rename one.
enum class Reason {
  xml_malformed,
  xml_forbidden_construct,
  xml_too_large,
  xml_too_complex,
  soap_invalid_envelope,
  soap_unknown_document,
  schema_invalid,
  signature_missing,
  signature_invalid,
  signature_algorithm_not_allowed,
  signature_reference_mismatch,
  certificate_untrusted,
  certificate_expired,
  certificate_revoked,
  certificate_wrong_key_usage,
  signer_mismatch,
  json_invalid,
  domain_invalid_identifier,
  domain_unknown_subject,
  domain_invalid_transition,
  domain_inconsistent,
  processing_failed,
  amqp_invalid_properties,
};

// The wire spelling: "signature.reference_mismatch".
std::string_view code(Reason reason);
std::optional<Reason> reason_from_code(std::string_view code);

// An input refused with one reason and, in words, what exactly is wrong (which element, which
// certificate, which check), for the operator who reads the dead letter.
struct Rejection {
  Reason reason;
  std::string detail;
  // The signer's status could not be had yet (its CA's CRL is being fetched, the responder did
  // not answer): the daemon holds the input and reads it again before dead-lettering it.
  bool status_pending = false;
};

}  // namespace nqs
