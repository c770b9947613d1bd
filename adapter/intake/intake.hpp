#pragma once

#include <boost/json/object.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "common/instant.hpp"
#include "common/reason.hpp"
#include "mapping/mapping.hpp"
#include "xml/schema_set.hpp"
#include "xml/xml.hpp"
#include "xmldsig/signature.hpp"
#include "xmldsig/trust_store.hpp"

namespace nqs::intake {

// A sender on the government bus and the BIN its transport certificate must carry.
struct TransportSender {
  std::string sender_id;
  std::string bin;
};

// The `intake` section of the configuration.
struct IntakeConfig {
  std::size_t max_message_bytes = 1024 * 1024;
  bool strict_identifiers = true;
  bool require_transport_signature = false;
  std::vector<TransportSender> transport_senders;
  xml::XmlLimits limits;
  // The CPU time intake may spend on one message (intake.limits.cpu_time): checked between its
  // stages (parsing, envelope, transport signature, schema, certificate, signature), refused as
  // xml.too_complex once over. A backstop for what the structure limits let through.
  std::chrono::milliseconds cpu_time{1000};
  // The files the intake is built from: the SOAP envelope's schema, one mapping a document.
  std::filesystem::path envelope_schema{};
  std::vector<std::filesystem::path> mappings{};
};

// requestInfo of the SHEP envelope.
struct EnvelopeInfo {
  std::string message_id;
  std::string correlation_id;
  std::string service_id;
  std::string message_date;
  std::string sender_id;
};

// What a document was accepted on, kept with it in the evidence archive (issue 18).
struct AcceptedOn {
  std::string body_sha256;  // of the message's exact bytes
  std::string chain_pem;    // the certificates of ds:KeyInfo as presented, signer's first
  std::string serial;       // the signer certificate's serial (hex) and issuer (RFC 2253)
  std::string issuer;
  // The CRLs of the signer certificate's issuer in the trust store that judged it (JSON array:
  // issuer, number, thisUpdate, nextUpdate, delta).
  std::string revocation_json;
  Instant verified_at{};  // the instant the certificate and signature were judged at
};

// A verified document turned into a command.
struct Accepted {
  std::string document_type;  // the document element's local name, e.g. VoucherApplication
  EnvelopeInfo envelope;
  xmldsig::SignerIdentity signer;
  std::string command_type;  // from the mapping
  boost::json::object payload;
  AcceptedOn evidence;
};

// A refused input, with whatever was learnt about it before the refusal (for logs and dead
// letters; nothing here is trusted).
struct Rejected {
  Rejection rejection;
  std::optional<std::string> document_type;
  std::optional<EnvelopeInfo> envelope;
  std::optional<xmldsig::SignerIdentity> signer;
};

using IntakeOutcome = std::variant<Accepted, Rejected>;

// Bytes from the government bus -> a verified, typed command, or a rejection with exactly one
// reason. Pure: no broker, no store, no clock of its own (`now` is given). Immutable once built
// and safe to share between threads.
//
// The order of checks is fixed, so that each input gets one stable reason: size, XML, envelope,
// document type, document schema, signature profile, signer certificate (chain, revocation,
// validity), key usage, signature value and digest, mapping (identifiers, consistency), and last
// the binding of the signer to the document.
class Intake {
 public:
  Intake(IntakeConfig settings, xmldsig::AlgorithmPolicy policy,
         std::shared_ptr<const xml::Schema> envelope,
         std::vector<std::shared_ptr<const mapping::DocumentMapping>> mappings,
         std::shared_ptr<const xmldsig::TrustStore> trust);

  [[nodiscard]] IntakeOutcome process(std::string_view bytes, Instant now) const;

  // A message kept in the evidence archive (issue 18) checked again, years later: read as intake
  // reads it (limits, wrapping, envelope), its document's signature profile, the certificates it
  // presents, which must be `chain_pem` as recorded, their chain to the anchors of `anchors` at
  // `at`, the instant it was judged, a signing key (nonRepudiation), and the signature value and
  // digest. Revocation is not asked again (the record names the CRLs it was judged on; `anchors`
  // checks none, TrustStore::without_revocation), nor today's mappings, schemas and signer rules
  // (rules change, the signature does not).
  [[nodiscard]] std::optional<Rejection> check_archived(std::string_view bytes,
                                                        std::string_view chain_pem, Instant at,
                                                        const xmldsig::TrustStore& anchors) const;

  [[nodiscard]] const std::vector<std::shared_ptr<const mapping::DocumentMapping>>& mappings()
      const {
    return mappings_;
  }
  // The trust store in use now (the CRL refresher replaces it; a caller keeps the one it got).
  [[nodiscard]] std::shared_ptr<const xmldsig::TrustStore> trust() const { return trust_->get(); }
  [[nodiscard]] const std::shared_ptr<xmldsig::TrustHolder>& trust_holder() const { return trust_; }

 private:
  [[nodiscard]] std::optional<Rejection> check_transport(xmlDoc* doc, const EnvelopeInfo& envelope,
                                                         Instant now) const;

  IntakeConfig settings_;
  xmldsig::AlgorithmPolicy policy_;
  std::shared_ptr<const xml::Schema> envelope_;
  std::vector<std::shared_ptr<const mapping::DocumentMapping>> mappings_;
  std::map<std::pair<std::string, std::string>, const mapping::DocumentMapping*> by_name_;
  std::shared_ptr<xmldsig::TrustHolder> trust_;
};

// The JSON of an outcome as `inspect` prints it (architecture.md): outcome, reason, detail,
// documentType, signer, command.
boost::json::object describe(const IntakeOutcome& outcome);

}  // namespace nqs::intake
