#include "common/reason.hpp"

#include <array>
#include <utility>

namespace nqs {
namespace {

constexpr std::array<std::pair<Reason, std::string_view>, 23> kCodes{{
    {Reason::xml_malformed, "xml.malformed"},
    {Reason::xml_forbidden_construct, "xml.forbidden_construct"},
    {Reason::xml_too_large, "xml.too_large"},
    {Reason::xml_too_complex, "xml.too_complex"},
    {Reason::soap_invalid_envelope, "soap.invalid_envelope"},
    {Reason::soap_unknown_document, "soap.unknown_document"},
    {Reason::schema_invalid, "schema.invalid"},
    {Reason::signature_missing, "signature.missing"},
    {Reason::signature_invalid, "signature.invalid"},
    {Reason::signature_algorithm_not_allowed, "signature.algorithm_not_allowed"},
    {Reason::signature_reference_mismatch, "signature.reference_mismatch"},
    {Reason::certificate_untrusted, "certificate.untrusted"},
    {Reason::certificate_expired, "certificate.expired"},
    {Reason::certificate_revoked, "certificate.revoked"},
    {Reason::certificate_wrong_key_usage, "certificate.wrong_key_usage"},
    {Reason::signer_mismatch, "signer.mismatch"},
    {Reason::json_invalid, "json.invalid"},
    {Reason::domain_invalid_identifier, "domain.invalid_identifier"},
    {Reason::domain_unknown_subject, "domain.unknown_subject"},
    {Reason::domain_invalid_transition, "domain.invalid_transition"},
    {Reason::domain_inconsistent, "domain.inconsistent"},
    {Reason::processing_failed, "processing.failed"},
    {Reason::amqp_invalid_properties, "amqp.invalid_properties"},
}};

}  // namespace

std::string_view code(Reason reason) {
  for (const auto& [value, text] : kCodes) {
    if (value == reason) return text;
  }
  return "unknown";
}

std::optional<Reason> reason_from_code(std::string_view text) {
  for (const auto& [value, spelling] : kCodes) {
    if (spelling == text) return value;
  }
  return std::nullopt;
}

}  // namespace nqs
