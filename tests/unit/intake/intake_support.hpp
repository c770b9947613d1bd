#pragma once

#include <fmt/format.h>
#include <libxml/parser.h>
#include <openssl/pem.h>

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "configuration/config.hpp"
#include "gost/algorithms.hpp"
#include "gost/openssl_keys.hpp"
#include "intake/intake.hpp"
#include "test_support.hpp"
#include "xml/xml.hpp"
#include "xmldsig/signature.hpp"

namespace nqs::test {

inline constexpr std::string_view kVoucherNs = "urn:kz:enbek:nqs:voucher:1";

// Which half of the test PKI the intake tests sign with: every test of a reason code, the
// wrapping family, revocation, expiry and key usage runs for both (TEST_P with a Flavor).
enum class Flavor { rsa, gost };
inline Flavor& flavor() {
  static Flavor current = Flavor::rsa;
  return current;
}
// The test PKI's name of an RSA end entity or CA in the current flavor ("individual-sign" is
// "gost-individual-sign" in the GOST half).
inline std::string pki_name(const std::string& name) {
  return flavor() == Flavor::gost ? "gost-" + name : name;
}

// As NCALayer and KalkanCrypt sign (messages.md): inclusive c14n of ds:SignedInfo, the reference
// enveloped and inclusive c14n #WithComments.
inline xmldsig::SigningOptions nca_layer_profile() {
  xmldsig::SigningOptions options;
  options.c14n = xmldsig::kInclusiveC14n;
  options.reference_c14n = xmldsig::kInclusiveC14nWithComments;
  return options;
}

// The signing options with the key's own methods where the test left the defaults (RSA-SHA256,
// SHA-256): a GOST key signs with its GOST methods, canonicalization unchanged.
inline xmldsig::SigningOptions methods_for(xmldsig::SigningOptions options, EVP_PKEY* key) {
  const auto* gost_key = gost::key_of(key);
  if (gost_key == nullptr || options.signature_method != xmldsig::kRsaSha256) return options;
  options.signature_method = gost_key->public_key.algorithm->signature_uri;
  if (options.digest_method == xmldsig::kSha256)
    options.digest_method = gost_key->public_key.algorithm->digest_uri;
  return options;
}

// The PKI made by tests/pki/make-test-pki.sh and gost_test_pki for this build (CTest fixture
// "pki").
class TestPki {
 public:
  static TestPki& get() {
    static TestPki pki;
    return pki;
  }
  std::filesystem::path file(const std::string& name) const {
    return std::filesystem::path(NQS_TEST_PKI_DIR) / name;
  }
  EVP_PKEY* key(const std::string& name) {
    auto& slot = keys_[name];
    if (!slot) {
      FILE* in = std::fopen(file(name + ".key").c_str(), "r");
      if (in == nullptr) throw std::runtime_error("test PKI missing: run the pki fixture");
      slot.reset(PEM_read_PrivateKey(in, nullptr, nullptr, nullptr), EVP_PKEY_free);
      std::fclose(in);
    }
    return slot.get();
  }
  X509* certificate(const std::string& name) {
    auto& slot = certificates_[name];
    if (!slot) {
      FILE* in = std::fopen(file(name.ends_with(".pem") ? name : name + ".pem").c_str(), "r");
      if (in == nullptr) throw std::runtime_error("test PKI missing: run the pki fixture");
      slot.reset(PEM_read_X509(in, nullptr, nullptr, nullptr), X509_free);
      std::fclose(in);
    }
    return slot.get();
  }

 private:
  std::map<std::string, std::shared_ptr<EVP_PKEY>> keys_;
  std::map<std::string, std::shared_ptr<X509>> certificates_;
};

// `envelope` with its requestInfo/messageId replaced.
inline std::string with_message_id(std::string envelope, const std::string& message_id) {
  const std::string open = "<messageId>";
  const auto from = envelope.find(open) + open.size();
  const auto to = envelope.find("</messageId>", from);
  envelope.replace(from, to - from, message_id);
  return envelope;
}

// The message id numbered `n` (a UUID).
inline std::string message_id_of(int n) {
  return fmt::format("00000000-0000-4000-8000-{:012d}", n);
}

// A fixture envelope (tests/fixtures/documents/NAME.xml) as a DOM to change and sign.
class Envelope {
 public:
  explicit Envelope(const std::string& fixture) {
    xmldsig::ensure_xml_security_initialised();
    const auto path = source_path("tests/fixtures/documents/" + fixture + ".xml");
    doc_.reset(xmlReadFile(path.c_str(), nullptr, XML_PARSE_NONET));
    if (!doc_) throw std::runtime_error("cannot read fixture " + path.string());
    // Drop the signature template that the xmlsec1 command-line tool fills.
    if (xmlNode* old = xml::child_element(document(), xmldsig::kXmlDsigNs, "Signature")) {
      xmlUnlinkNode(old);
      xmlFreeNode(old);
    }
  }

  xmlDoc* doc() const { return doc_.get(); }
  xmlNode* data() const {
    xmlNode* node = xmlDocGetRootElement(doc_.get());
    for (const char* name : {"Body", "SendMessage", "request", "requestData", "data"}) {
      for (xmlNode* child = node->children; child != nullptr; child = child->next) {
        if (child->type == XML_ELEMENT_NODE && xml::as_view(child->name) == name) {
          node = child;
          break;
        }
      }
    }
    return node;
  }
  xmlNode* document() const { return xml::element_children(data()).front(); }
  // The first element named v:NAME below the document element.
  xmlNode* field(const std::string& name) const { return find_in(document(), name); }
  void set_text(const std::string& name, const std::string& text) {
    xmlNode* node = field(name);
    if (node == nullptr) throw std::runtime_error("no element " + name + " in the fixture");
    xmlNodeSetContent(node, xml::as_xml(text.c_str()));
  }
  // Adds the element v:NAME with its text right after v:AFTER (same namespace).
  void insert_after(const std::string& after, const std::string& name, const std::string& text) {
    xmlNode* sibling = field(after);
    if (sibling == nullptr) throw std::runtime_error("no element " + after + " in the fixture");
    xmlNode* node = xmlNewDocNode(doc_.get(), sibling->ns, xml::as_xml(name.c_str()),
                                  xml::as_xml(text.c_str()));
    xmlAddNextSibling(sibling, node);
  }

  // Signs as `signer` of the current flavor's half of the test PKI (pki_name).
  Envelope& sign(const std::string& signer, const xmldsig::SigningOptions& options = {},
                 std::vector<std::string> extra_certificates = {}) {
    return sign_exactly(pki_name(signer), options, extra_certificates);
  }
  // Signs as the test PKI's `signer` whatever the flavor.
  Envelope& sign_exactly(const std::string& signer, const xmldsig::SigningOptions& options = {},
                         std::vector<std::string> extra_certificates = {}) {
    auto& pki = TestPki::get();
    std::vector<X509*> chain{pki.certificate(signer)};
    for (const auto& name : extra_certificates)
      chain.push_back(pki.certificate(pki_name(name)));
    return sign_with(pki.key(signer), chain, options);
  }
  // Signs with `key`, `chain` (its certificate first) in ds:X509Data.
  Envelope& sign_with(EVP_PKEY* key, const std::vector<X509*>& chain,
                      const xmldsig::SigningOptions& options = {}) {
    auto problem = xmldsig::sign_enveloped(document(), key, chain, methods_for(options, key));
    if (problem) throw std::runtime_error(*problem);
    return *this;
  }
  // Signs soap:Body as the bus would, into soap:Header/wsse:Security.
  Envelope& sign_transport(const std::string& signer) {
    auto& pki = TestPki::get();
    auto problem = xmldsig::sign_transport(doc_.get(), pki.key(pki_name(signer)),
                                           pki.certificate(pki_name(signer)));
    if (problem) throw std::runtime_error(*problem);
    return *this;
  }
  xmlNode* signature() const {
    return xml::child_element(document(), xmldsig::kXmlDsigNs, "Signature");
  }

  std::string bytes() const {
    xmlChar* out = nullptr;
    int size = 0;
    xmlDocDumpMemoryEnc(doc_.get(), &out, &size, "UTF-8");
    std::string text(reinterpret_cast<char*>(out), static_cast<std::size_t>(size));
    xmlFree(out);
    return text;
  }

  // The first element named NAME below `node`, depth first.
  static xmlNode* find_in(xmlNode* node, const std::string& name) {
    for (xmlNode* child = node->children; child != nullptr; child = child->next) {
      if (child->type != XML_ELEMENT_NODE) continue;
      if (xml::as_view(child->name) == name) return child;
      if (xmlNode* deeper = find_in(child, name)) return deeper;
    }
    return nullptr;
  }

 private:
  xml::XmlDoc doc_;
};

// Both hierarchies are trusted and all the default methods allowed, whatever the flavor.
struct IntakeOptions {
  std::vector<std::string> allowed_algorithms = {
      std::string(gost::kGost2015_512Uri), std::string(gost::kStreebog512Uri),
      std::string(gost::kGost34310Uri),    std::string(gost::kGost34311Uri),
      std::string(xmldsig::kRsaSha256),    std::string(xmldsig::kEcdsaSha256),
      std::string(xmldsig::kSha256)};
  std::vector<std::string> crls = {"root.crl.pem", "issuing.crl.pem", "gost-root.crl.pem",
                                   "gost-issuing.crl.pem"};
  std::vector<std::string> anchors = {"ca-chain.pem", "gost-ca-chain.pem"};
  std::size_t max_message_bytes = 1024 * 1024;
  bool strict_identifiers = true;
  bool require_transport_signature = false;
  std::size_t certificate_cache_size = 10000;
  int min_rsa_bits = 2048;
  std::vector<std::string> ec_curves = {"P-256"};
  xml::XmlLimits limits;
  std::chrono::milliseconds cpu_time{1000};
  std::vector<intake::TransportSender> transport_senders = {{"nqs-platform", "140450600708"}};
};

// An intake pipeline over the real schemas and mappings, trusting the test PKI.
inline std::shared_ptr<intake::Intake> make_intake(const IntakeOptions& options = {}) {
  xmldsig::ensure_xml_security_initialised();
  std::string problem;
  auto envelope = xml::Schema::load(source_path("xsd/envelope.xsd"), problem);
  if (!envelope) throw std::runtime_error(problem);
  std::vector<std::shared_ptr<const mapping::DocumentMapping>> mappings;
  yaml::Diagnostics diagnostics;
  for (const char* name : {"voucher-application", "recognition-center-decision",
                           "sick-leave-notice", "recognition-outcome", "service-act"}) {
    mappings.push_back(
        mapping::load_mapping(source_path(std::string("mappings/") + name + ".yaml"), diagnostics));
  }
  if (!diagnostics.empty()) throw std::runtime_error(join(diagnostics.problems()));
  xmldsig::TrustSettings trust_settings;
  for (const auto& name : options.anchors)
    trust_settings.anchors.push_back(TestPki::get().file(name));
  for (const auto& name : options.crls)
    trust_settings.crls.push_back(TestPki::get().file(name));
  trust_settings.cache_size = options.certificate_cache_size;
  trust_settings.min_rsa_bits = options.min_rsa_bits;
  trust_settings.ec_curves = options.ec_curves;
  std::vector<std::string> problems;
  auto trust = xmldsig::TrustStore::load(trust_settings, problems);
  if (!trust) throw std::runtime_error(join(problems));
  xmldsig::AlgorithmPolicy policy;
  policy.allowed.insert(options.allowed_algorithms.begin(), options.allowed_algorithms.end());
  return std::make_shared<intake::Intake>(
      intake::IntakeConfig{options.max_message_bytes, options.strict_identifiers,
                           options.require_transport_signature, options.transport_senders,
                           options.limits, options.cpu_time},
      std::move(policy), std::move(envelope), std::move(mappings), std::move(trust));
}

// A moment inside every test certificate's validity except the expired one's.
inline Instant test_now() {
  return *parse_instant("2025-09-01T12:00:00+05:00");
}

}  // namespace nqs::test
