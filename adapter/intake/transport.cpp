// The transport signature of messages.md (soap:Header/wsse:Security) and its sender.
#include <fmt/format.h>

#include <algorithm>

#include "intake/intake.hpp"

namespace nqs::intake {

std::optional<Rejection> Intake::check_transport(xmlDoc* doc, const EnvelopeInfo& envelope,
                                                 Instant now) const {
  auto profile = xmldsig::check_transport_profile(doc, policy_);
  if (auto* rejection = std::get_if<Rejection>(&profile)) return *rejection;
  const auto& parts = std::get<std::optional<xmldsig::TransportParts>>(profile);
  if (!parts) {
    if (!settings_.require_transport_signature) return std::nullopt;
    return Rejection{Reason::signature_missing,
                     "no transport signature (soap:Header/wsse:Security), and "
                     "intake.require_transport_signature is set"};
  }
  auto certificate = trust_->get()->verify(parts->certificate_der, {}, now);
  if (auto* rejection = std::get_if<Rejection>(&certificate)) {
    rejection->detail = "transport signature: " + rejection->detail;
    return *rejection;
  }
  const auto& verified = std::get<std::shared_ptr<const xmldsig::VerifiedCertificate>>(certificate);
  if (auto rejection =
          xmldsig::verify_transport_signature(*parts, verified->public_key(), policy_)) {
    rejection->detail = "transport signature: " + rejection->detail;
    return rejection;
  }
  // The certificate must be the configured sender's; a sender without a configured certificate
  // is accepted only while transport signatures are optional.
  const auto sender = std::find_if(
      settings_.transport_senders.begin(), settings_.transport_senders.end(),
      [&](const TransportSender& candidate) { return candidate.sender_id == envelope.sender_id; });
  if (sender == settings_.transport_senders.end()) {
    if (!settings_.require_transport_signature) return std::nullopt;
    return Rejection{
        Reason::signer_mismatch,
        fmt::format("sender '{}' is not in intake.transport_senders", envelope.sender_id)};
  }
  if (verified->identity().bin != sender->bin) {
    return Rejection{Reason::signer_mismatch,
                     fmt::format("the transport certificate '{}' is not sender '{}' (BIN {})",
                                 verified->identity().subject, sender->sender_id, sender->bin)};
  }
  return std::nullopt;
}

}  // namespace nqs::intake
