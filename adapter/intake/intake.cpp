#include "intake/intake.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

#include "common/base64.hpp"
#include "common/cpu_time.hpp"
#include "common/ids.hpp"
#include "revocation/x509_facts.hpp"
#include "xml/xml.hpp"

namespace nqs::intake {
namespace {

constexpr std::string_view kSoapNs = "http://schemas.xmlsoap.org/soap/envelope/";
constexpr std::string_view kShepNs = "http://bip.bee.kz/SyncChannel/v10/Types";

std::string child_text(const xmlNode* parent, std::string_view name) {
  const xmlNode* child = xml::child_element(parent, "", name);
  return child == nullptr ? std::string() : xml::text_of(child);
}

bool has_oid_or_child(const std::vector<std::string>& oids, std::string_view oid) {
  return std::any_of(oids.begin(), oids.end(), [&](const std::string& value) {
    return value == oid ||
           (value.size() > oid.size() && value.starts_with(oid) && value[oid.size()] == '.');
  });
}

// Signing keys only, of the holder type the document needs, with a role that may sign it.
std::optional<Rejection> check_key_usage(const xmldsig::SignerIdentity& signer,
                                         const mapping::SignerRule& rule,
                                         const std::string& document_type) {
  if (!signer.non_repudiation) {
    return Rejection{Reason::certificate_wrong_key_usage,
                     fmt::format("the certificate '{}' is not a signing key: its key usage lacks "
                                 "nonRepudiation (an authentication key cannot sign documents)",
                                 signer.subject)};
  }
  const bool individual = rule.holder == mapping::KeyHolder::individual;
  const std::string_view needed = individual ? xmldsig::kEkuIndividual : xmldsig::kEkuLegalEntity;
  if (!has_oid_or_child(signer.extended_key_usages, needed)) {
    return Rejection{Reason::certificate_wrong_key_usage,
                     fmt::format("{} must be signed with {} key (extended key usage {}); the "
                                 "certificate '{}' is not one",
                                 document_type, individual ? "an individual's" : "a legal entity's",
                                 needed, signer.subject)};
  }
  if (!rule.roles.empty() &&
      std::none_of(rule.roles.begin(), rule.roles.end(), [&](const std::string& role) {
        return has_oid_or_child(signer.extended_key_usages, role);
      })) {
    std::string roles;
    for (const auto& role : rule.roles)
      roles += (roles.empty() ? "" : ", ") + role;
    return Rejection{Reason::certificate_wrong_key_usage,
                     fmt::format("the certificate '{}' has no role that may sign {} (one of {})",
                                 signer.subject, document_type, roles)};
  }
  return std::nullopt;
}

std::optional<Rejection> check_signer_binding(const xmldsig::SignerIdentity& signer,
                                              const mapping::SignerRule& rule,
                                              const boost::json::object& payload) {
  const auto* value = mapping::find_path(payload, rule.field);
  const std::string named =
      value != nullptr && value->is_string() ? value->get_string().c_str() : "";
  const auto& from_certificate = rule.by_bin ? signer.bin : signer.iin;
  const char* kind = rule.by_bin ? "BIN" : "IIN";
  if (!from_certificate) {
    return Rejection{
        Reason::signer_mismatch,
        fmt::format("the certificate subject '{}' carries no {}", signer.subject, kind)};
  }
  if (*from_certificate != named) {
    return Rejection{Reason::signer_mismatch,
                     fmt::format("signed by {} {} but {} names {}", kind, *from_certificate,
                                 rule.field, named.empty() ? "nobody" : named)};
  }
  return std::nullopt;
}

// The CPU time this message may take, checked after each stage: none of them can be cut short,
// but each is bounded by the structure limits, and none starts once the budget is spent. A thread
// cannot spend more CPU time than the time that passed, so the thread's CPU clock (a system call,
// 1.5 us on this project's machine, eight times a message) is read only once the steady clock
// (vDSO, 35 ns) says the budget could be spent.
class CpuBudget {
 public:
  explicit CpuBudget(std::chrono::milliseconds limit)
      : limit_(limit), started_(thread_cpu_time()), started_at_(Clock::now()) {}

  // xml.too_complex once the CPU time spent by the end of the stage `after` is over the budget.
  [[nodiscard]] std::optional<Rejection> over(const char* after) const {
    if (std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started_at_) <=
        limit_) {
      return std::nullopt;
    }
    const auto spent =
        std::chrono::duration_cast<std::chrono::milliseconds>(thread_cpu_time() - started_);
    if (spent <= limit_) return std::nullopt;
    return Rejection{Reason::xml_too_complex,
                     fmt::format("{} ms of CPU time by the end of {}: over the budget of {} ms "
                                 "(intake.limits.cpu_time)",
                                 spent.count(), after, limit_.count())};
  }

 private:
  using Clock = std::chrono::steady_clock;
  std::chrono::milliseconds limit_;
  std::chrono::nanoseconds started_;
  Clock::time_point started_at_;
};

// The message parsed, checked for signature wrapping, and valid against the envelope's schema.
std::variant<xml::XmlDoc, Rejection> read_message(std::string_view bytes,
                                                  const IntakeConfig& settings,
                                                  const xml::Schema& envelope,
                                                  const CpuBudget& budget) {
  auto parsed = xml::parse_hostile_xml(bytes, settings.max_message_bytes, settings.limits);
  if (auto* rejection = std::get_if<Rejection>(&parsed)) return std::move(*rejection);
  if (auto over = budget.over("parsing")) return std::move(*over);
  xml::XmlDoc doc = std::move(std::get<xml::XmlDoc>(parsed));
  if (auto rejection = xmldsig::check_wrapping(doc.get())) return std::move(*rejection);

  // The envelope: SOAP 1.1 with a SHEP SendMessage, exactly one element under data.
  if (auto problem = envelope.validate_document(doc.get())) {
    return Rejection{Reason::soap_invalid_envelope, *problem};
  }
  if (auto over = budget.over("the envelope's validation")) return std::move(*over);
  return doc;
}

// SendMessage's request in an envelope its schema has accepted.
const xmlNode* request_of(xmlDoc* doc) {
  xmlNode* envelope = xmlDocGetRootElement(doc);
  xmlNode* body = xml::child_element(envelope, kSoapNs, "Body");
  return xml::child_element(xml::child_element(body, kShepNs, "SendMessage"), "", "request");
}

EnvelopeInfo read_envelope_info(const xmlNode* request) {
  const xmlNode* info = xml::child_element(request, "", "requestInfo");
  EnvelopeInfo envelope_info;
  envelope_info.message_id = child_text(info, "messageId");
  envelope_info.correlation_id = child_text(info, "correlationId");
  envelope_info.service_id = child_text(info, "serviceId");
  envelope_info.message_date = child_text(info, "messageDate");
  envelope_info.sender_id = child_text(xml::child_element(info, "", "sender"), "senderId");
  return envelope_info;
}

// The one element under requestData/data: the document.
xmlNode* document_of(const xmlNode* request) {
  xmlNode* data = xml::child_element(xml::child_element(request, "", "requestData"), "", "data");
  return xml::element_children(data).front();
}

using MappingsByName =
    std::map<std::pair<std::string, std::string>, const mapping::DocumentMapping*>;

// The qualified name of the one element under data alone decides the document type.
std::variant<const mapping::DocumentMapping*, Rejection> find_mapping(const MappingsByName& by_name,
                                                                      const xmlNode* document) {
  const auto found = by_name.find(
      {std::string(xml::namespace_of(document)), std::string(xml::as_view(document->name))});
  if (found == by_name.end()) {
    return Rejection{
        Reason::soap_unknown_document,
        fmt::format("{} is not a document this adapter accepts", xml::qualified_name(document))};
  }
  return found->second;
}

// The certificates of ds:KeyInfo as presented, the signer's first, in PEM.
std::string presented_chain(const xmldsig::SignatureParts& parts) {
  std::string pem = revocation::pem_certificate(parts.leaf_der);
  for (const auto& der : parts.intermediates_der)
    pem += revocation::pem_certificate(der);
  return pem;
}

// The document against its own schema.
std::optional<Rejection> validate_document(const mapping::DocumentMapping& mapping,
                                           xmlNode* document, const CpuBudget& budget) {
  if (auto problem = mapping.schema->validate_element(document)) {
    return Rejection{Reason::schema_invalid, fmt::format("{}: {}", mapping.element, *problem)};
  }
  return budget.over("the document's validation");
}

// What the evidence archive keeps of a verified signature: the certificates as presented, and
// the facts of the CRLs of the signer certificate's issuer in the trust store that judged it.
void note_accepted_on(const xmldsig::SignatureParts& parts,
                      const xmldsig::VerifiedCertificate& verified,
                      const xmldsig::TrustStore& trust, AcceptedOn& on) {
  on.chain_pem = presented_chain(parts);
  on.serial = verified.serial();
  on.issuer = verified.issuer();
  on.revocation_json = trust.crl_facts_json(on.issuer);
  // An OCSP responder's answer when it decided the signer's status: the response itself, after
  // the CRLs' facts in the same array.
  if (const auto& response = verified.ocsp_response(); !response.empty()) {
    auto facts = boost::json::parse(on.revocation_json).as_array();
    facts.push_back(boost::json::object{{"ocspResponder", verified.ocsp_responder()},
                                        {"ocspResponse", base64(response)}});
    on.revocation_json = boost::json::serialize(facts);
  }
}

// The document's signature: its profile, the signer's certificate (chain, revocation, validity),
// the key usage the document needs, then the signature value and digest. Who signed is recorded
// in `rejected` as soon as it is known; what it was accepted on in `on`.
std::variant<std::shared_ptr<const xmldsig::VerifiedCertificate>, Rejection>
verify_document_signature(xmlNode* document, const mapping::DocumentMapping& mapping,
                          const xmldsig::AlgorithmPolicy& policy, const xmldsig::TrustHolder& trust,
                          Instant now, const CpuBudget& budget, Rejected& rejected,
                          AcceptedOn& on) {
  auto profile = xmldsig::check_signature_profile(document, policy);
  if (auto* rejection = std::get_if<Rejection>(&profile)) return std::move(*rejection);
  const auto& parts = std::get<xmldsig::SignatureParts>(profile);

  const auto store = trust.get();
  auto certificate = store->verify(parts.leaf_der, parts.intermediates_der, now);
  if (auto* rejection = std::get_if<Rejection>(&certificate)) {
    // Who claims to have signed, for the operator reading the dead letter (not trusted).
    if (auto leaf = xmldsig::parse_certificate_der(parts.leaf_der))
      rejected.signer = xmldsig::identity_of(leaf.get());
    return std::move(*rejection);
  }
  if (auto over = budget.over("the certificate's verification")) return std::move(*over);
  auto verified = std::get<std::shared_ptr<const xmldsig::VerifiedCertificate>>(certificate);
  rejected.signer = verified->identity();
  if (auto rejection = check_key_usage(verified->identity(), mapping.signer, mapping.element)) {
    return std::move(*rejection);
  }
  if (auto rejection = xmldsig::verify_signature(parts, verified->public_key(), policy)) {
    return std::move(*rejection);
  }
  if (auto over = budget.over("the signature's verification")) return std::move(*over);
  note_accepted_on(parts, *verified, *store, on);
  return verified;
}

// The command read from the document, then the binding of its signer to the one it names.
std::variant<boost::json::object, Rejection> map_signed_document(
    const mapping::DocumentMapping& mapping, xmlNode* document,
    const xmldsig::SignerIdentity& signer, const mapping::MappingOptions& options) {
  auto mapped = mapping::map_document(mapping, document, options);
  if (std::holds_alternative<Rejection>(mapped)) return mapped;
  if (auto rejection =
          check_signer_binding(signer, mapping.signer, std::get<boost::json::object>(mapped))) {
    return std::move(*rejection);
  }
  return mapped;
}

}  // namespace

Intake::Intake(IntakeConfig settings, xmldsig::AlgorithmPolicy policy,
               std::shared_ptr<const xml::Schema> envelope,
               std::vector<std::shared_ptr<const mapping::DocumentMapping>> mappings,
               std::shared_ptr<const xmldsig::TrustStore> trust)
    : settings_(settings),
      policy_(std::move(policy)),
      envelope_(std::move(envelope)),
      mappings_(std::move(mappings)),
      trust_(std::make_shared<xmldsig::TrustHolder>(std::move(trust))) {
  xmldsig::ensure_xml_security_initialised();
  for (const auto& mapping : mappings_)
    by_name_[{mapping->ns, mapping->element}] = mapping.get();
}

IntakeOutcome Intake::process(std::string_view bytes, Instant now) const {
  Rejected rejected;
  auto reject = [&](Rejection rejection) -> IntakeOutcome {
    rejected.rejection = std::move(rejection);
    return rejected;
  };
  const CpuBudget budget(settings_.cpu_time);

  auto message = read_message(bytes, settings_, *envelope_, budget);
  if (auto* rejection = std::get_if<Rejection>(&message)) return reject(std::move(*rejection));
  const xml::XmlDoc& doc = std::get<xml::XmlDoc>(message);
  const xmlNode* request = request_of(doc.get());
  EnvelopeInfo envelope_info = read_envelope_info(request);
  rejected.envelope = envelope_info;
  if (auto rejection = check_transport(doc.get(), envelope_info, now)) {
    return reject(std::move(*rejection));
  }
  if (auto over = budget.over("the transport signature")) return reject(std::move(*over));
  xmlNode* document = document_of(request);

  auto found = find_mapping(by_name_, document);
  if (auto* rejection = std::get_if<Rejection>(&found)) return reject(std::move(*rejection));
  const mapping::DocumentMapping& mapping = *std::get<const mapping::DocumentMapping*>(found);
  rejected.document_type = mapping.document_type();
  if (auto rejection = validate_document(mapping, document, budget)) {
    return reject(std::move(*rejection));
  }

  AcceptedOn on;
  auto signed_by =
      verify_document_signature(document, mapping, policy_, *trust_, now, budget, rejected, on);
  if (auto* rejection = std::get_if<Rejection>(&signed_by)) return reject(std::move(*rejection));
  const auto& verified = std::get<std::shared_ptr<const xmldsig::VerifiedCertificate>>(signed_by);

  auto mapped = map_signed_document(mapping, document, verified->identity(),
                                    mapping::MappingOptions{settings_.strict_identifiers});
  if (auto* rejection = std::get_if<Rejection>(&mapped)) return reject(std::move(*rejection));
  on.body_sha256 = sha256_hex(bytes);
  on.verified_at = now;
  return Accepted{mapping.document_type(),
                  std::move(envelope_info),
                  verified->identity(),
                  mapping.command,
                  std::move(std::get<boost::json::object>(mapped)),
                  std::move(on)};
}

std::optional<Rejection> Intake::check_archived(std::string_view bytes, std::string_view chain_pem,
                                                Instant at,
                                                const xmldsig::TrustStore& anchors) const {
  // Not today's budget: a busy machine must not make an old document look altered.
  const CpuBudget budget(settings_.cpu_time * 10);
  auto message = read_message(bytes, settings_, *envelope_, budget);
  if (auto* rejection = std::get_if<Rejection>(&message)) return std::move(*rejection);
  xmlNode* document = document_of(request_of(std::get<xml::XmlDoc>(message).get()));
  auto profile = xmldsig::check_signature_profile(document, policy_);
  if (auto* rejection = std::get_if<Rejection>(&profile)) return std::move(*rejection);
  const auto& parts = std::get<xmldsig::SignatureParts>(profile);
  if (presented_chain(parts) != chain_pem) {
    return Rejection{Reason::certificate_untrusted,
                     "the certificates the document presents are not the ones recorded with it"};
  }
  auto certificate = anchors.verify(parts.leaf_der, parts.intermediates_der, at);
  if (auto* rejection = std::get_if<Rejection>(&certificate)) return std::move(*rejection);
  const auto& verified = std::get<std::shared_ptr<const xmldsig::VerifiedCertificate>>(certificate);
  // A signing key; which holder and role a document type needs is today's rule, not evidence.
  if (!verified->identity().non_repudiation) {
    return Rejection{
        Reason::certificate_wrong_key_usage,
        fmt::format("the certificate '{}' is not a signing key", verified->identity().subject)};
  }
  return xmldsig::verify_signature(parts, verified->public_key(), policy_);
}

}  // namespace nqs::intake
