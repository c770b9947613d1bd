#include "intake/intake.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "common/cpu_time.hpp"
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

}  // namespace

Intake::Intake(IntakeSettings settings, xmldsig::AlgorithmPolicy policy,
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

  // The CPU time this message may take, checked after each stage: none of them can be cut short,
  // but each is bounded by the structure limits, and none starts once the budget is spent.
  const auto started = thread_cpu_time();
  auto over_budget = [&](const char* after) -> std::optional<Rejection> {
    const auto spent =
        std::chrono::duration_cast<std::chrono::milliseconds>(thread_cpu_time() - started);
    if (spent <= settings_.cpu_time) return std::nullopt;
    return Rejection{Reason::xml_too_complex,
                     fmt::format("{} ms of CPU time by the end of {}: over the budget of {} ms "
                                 "(intake.limits.cpu_time)",
                                 spent.count(), after, settings_.cpu_time.count())};
  };

  auto parsed = xml::parse_hostile_xml(bytes, settings_.max_message_bytes, settings_.limits);
  if (auto* rejection = std::get_if<Rejection>(&parsed)) return reject(std::move(*rejection));
  if (auto over = over_budget("parsing")) return reject(std::move(*over));
  xml::XmlDoc doc = std::move(std::get<xml::XmlDoc>(parsed));
  if (auto rejection = xmldsig::check_wrapping(doc.get())) return reject(std::move(*rejection));

  // The envelope: SOAP 1.1 with a SHEP SendMessage, exactly one element under data.
  if (auto problem = envelope_->validate_document(doc.get())) {
    return reject({Reason::soap_invalid_envelope, *problem});
  }
  if (auto over = over_budget("the envelope's validation")) return reject(std::move(*over));
  xmlNode* envelope = xmlDocGetRootElement(doc.get());
  xmlNode* body = xml::child_element(envelope, kSoapNs, "Body");
  xmlNode* request =
      xml::child_element(xml::child_element(body, kShepNs, "SendMessage"), "", "request");
  xmlNode* info = xml::child_element(request, "", "requestInfo");
  EnvelopeInfo envelope_info;
  envelope_info.message_id = child_text(info, "messageId");
  envelope_info.correlation_id = child_text(info, "correlationId");
  envelope_info.service_id = child_text(info, "serviceId");
  envelope_info.message_date = child_text(info, "messageDate");
  envelope_info.sender_id = child_text(xml::child_element(info, "", "sender"), "senderId");
  rejected.envelope = envelope_info;
  if (auto rejection = check_transport(doc.get(), envelope_info, now)) {
    return reject(std::move(*rejection));
  }
  if (auto over = over_budget("the transport signature")) return reject(std::move(*over));
  xmlNode* data = xml::child_element(xml::child_element(request, "", "requestData"), "", "data");
  xmlNode* document = xml::element_children(data).front();

  // The qualified name of the one element under data alone decides the document type.
  const auto found = by_name_.find(
      {std::string(xml::namespace_of(document)), std::string(xml::as_view(document->name))});
  if (found == by_name_.end()) {
    return reject(
        {Reason::soap_unknown_document,
         fmt::format("{} is not a document this adapter accepts", xml::qualified_name(document))});
  }
  const mapping::DocumentMapping& mapping = *found->second;
  rejected.document_type = mapping.document_type();
  if (auto problem = mapping.schema->validate_element(document)) {
    return reject({Reason::schema_invalid, fmt::format("{}: {}", mapping.element, *problem)});
  }
  if (auto over = over_budget("the document's validation")) return reject(std::move(*over));

  auto profile = xmldsig::check_signature_profile(document, policy_);
  if (auto* rejection = std::get_if<Rejection>(&profile)) return reject(std::move(*rejection));
  const auto& parts = std::get<xmldsig::SignatureParts>(profile);

  auto certificate = trust_->get()->verify(parts.leaf_der, parts.intermediates_der, now);
  if (auto* rejection = std::get_if<Rejection>(&certificate)) {
    // Who claims to have signed, for the operator reading the dead letter (not trusted).
    if (auto leaf = xmldsig::parse_certificate_der(parts.leaf_der))
      rejected.signer = xmldsig::identity_of(leaf.get());
    return reject(std::move(*rejection));
  }
  if (auto over = over_budget("the certificate's verification")) return reject(std::move(*over));
  const auto& verified = std::get<std::shared_ptr<const xmldsig::VerifiedCertificate>>(certificate);
  rejected.signer = verified->identity();
  if (auto rejection = check_key_usage(verified->identity(), mapping.signer, mapping.element)) {
    return reject(std::move(*rejection));
  }
  if (auto rejection = xmldsig::verify_signature(parts, verified->public_key(), policy_)) {
    return reject(std::move(*rejection));
  }
  if (auto over = over_budget("the signature's verification")) return reject(std::move(*over));

  auto mapped = mapping::map_document(mapping, document,
                                      mapping::MappingOptions{settings_.strict_identifiers});
  if (auto* rejection = std::get_if<Rejection>(&mapped)) return reject(std::move(*rejection));
  auto& payload = std::get<boost::json::object>(mapped);
  if (auto rejection = check_signer_binding(verified->identity(), mapping.signer, payload)) {
    return reject(std::move(*rejection));
  }
  return Accepted{mapping.document_type(), std::move(envelope_info), verified->identity(),
                  mapping.command, std::move(payload)};
}

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
