#include "notify/evidence_seal.hpp"

#include <fmt/format.h>

#include <charconv>
#include <memory>

#include "xml/xml.hpp"

namespace nqs::notify {
namespace {

struct DocFree {
  void operator()(xmlDoc* doc) const { xmlFreeDoc(doc); }
};

// A seal is a few hundred bytes and a certificate chain.
constexpr std::size_t kMaxSealBytes = 64 * 1024;

std::optional<std::int64_t> number_of(const std::string& text) {
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, error] = std::from_chars(text.data(), end, value);
  if (error != std::errc{} || ptr != end || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

Result<std::string> make_seal(const SealFacts& facts, const Signer& signer) {
  std::unique_ptr<xmlDoc, DocFree> doc(xmlNewDoc(xml::as_xml("1.0")));
  xmlNode* root = xmlNewDocNode(doc.get(), nullptr, xml::as_xml("EvidenceSeal"), nullptr);
  xmlDocSetRootElement(doc.get(), root);
  xmlSetNs(root, xmlNewNs(root, xml::as_xml(std::string(kEvidenceNs).c_str()), nullptr));
  xmlNewProp(root, xml::as_xml("Id"), xml::as_xml("seal"));
  auto add = [&](const char* name, const std::string& text) {
    xmlNewTextChild(root, nullptr, xml::as_xml(name), xml::as_xml(text.c_str()));
  };
  add("Day", facts.day);
  add("Records", std::to_string(facts.records));
  add("FirstSeq", std::to_string(facts.first_seq));
  add("LastSeq", std::to_string(facts.last_seq));
  add("LastRecordSha256", facts.last_sha256);
  add("SealedAt", to_utc_string(facts.sealed_at));
  std::vector<X509*> chain;
  for (const auto& certificate : signer.certificates)
    chain.push_back(certificate.get());
  if (auto problem = xmldsig::sign_enveloped(root, signer.key.get(), chain,
                                             signing_options(signer.key.get()))) {
    return make_error("the evidence seal cannot be signed: " + *problem);
  }
  xmlChar* text = nullptr;
  int size = 0;
  xmlDocDumpMemoryEnc(doc.get(), &text, &size, "UTF-8");
  std::string out(reinterpret_cast<char*>(text), static_cast<std::size_t>(size));
  xmlFree(text);
  return out;
}

std::variant<SealFacts, std::string> read_seal(std::string_view bytes,
                                               const xmldsig::TrustStore& anchors,
                                               const xmldsig::AlgorithmPolicy& policy,
                                               std::string_view adapter_subject) {
  auto parsed = xml::parse_hostile_xml(bytes, kMaxSealBytes);
  if (auto* rejection = std::get_if<Rejection>(&parsed)) return "not a seal: " + rejection->detail;
  const auto& doc = std::get<xml::XmlDoc>(parsed);
  xmlNode* root = xmlDocGetRootElement(doc.get());
  if (!xml::is_element(root, kEvidenceNs, "EvidenceSeal")) return "not an EvidenceSeal";
  SealFacts facts;
  auto text = [&](const char* name) {
    const xmlNode* node = xml::child_element(root, kEvidenceNs, name);
    return node == nullptr ? std::string() : xml::text_of(node);
  };
  facts.day = text("Day");
  facts.last_sha256 = text("LastRecordSha256");
  const auto records = number_of(text("Records"));
  const auto first = number_of(text("FirstSeq"));
  const auto last = number_of(text("LastSeq"));
  const auto sealed_at = parse_instant(text("SealedAt"));
  if (facts.day.empty() || !records || !first || !last || !sealed_at) {
    return "the seal lacks one of Day, Records, FirstSeq, LastSeq, SealedAt";
  }
  facts.records = *records;
  facts.first_seq = *first;
  facts.last_seq = *last;
  facts.sealed_at = *sealed_at;
  // What was read is what is signed: the reference is the root's Id, nothing else.
  auto profile = xmldsig::check_signature_profile(root, policy);
  if (auto* rejection = std::get_if<Rejection>(&profile)) return rejection->detail;
  const auto& parts = std::get<xmldsig::SignatureParts>(profile);
  auto verified = anchors.verify(parts.leaf_der, parts.intermediates_der, facts.sealed_at);
  if (auto* rejection = std::get_if<Rejection>(&verified)) {
    return "its signer: " + rejection->detail;
  }
  const auto& signer = *std::get<std::shared_ptr<const xmldsig::VerifiedCertificate>>(verified);
  if (signer.identity().subject != adapter_subject) {
    return fmt::format("it is signed by '{}', not by the adapter ('{}')", signer.identity().subject,
                       adapter_subject);
  }
  if (auto rejection = xmldsig::verify_signature(parts, signer.public_key(), policy)) {
    return rejection->detail;
  }
  return facts;
}

}  // namespace nqs::notify
