// NCA RK's own GOST material (tests/fixtures/nca-gost): XML signed by KalkanCrypt with
// GOST 34.10-2015/512 and GOST 34.310-2004 verifies with the NCA test issuing CA as the only anchor
// (the fixtures have no root) and its GOST-signed CRL, at instants inside the certificates'
// validity; every one-byte change is refused with its reason; revoked and expired come out as such.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <openssl/evp.h>

#include <regex>

#include "gost/algorithms.hpp"
#include "gost_support.hpp"
#include "xml/xml.hpp"
#include "xmldsig/signature.hpp"
#include "xmldsig/trust_store.hpp"

namespace nqs::intake {
namespace {

using test::nca_fixture;
using ::testing::HasSubstr;

constexpr const char* kTwoSigners = "signed_two_signers_gost2015_and_rsa.xml";
constexpr const char* kLegalEntity2004 = "signed_gost34310_2004_legal_entity.xml";

// Inside ind2015's validity (2022-07-28 .. 2023-07-28) and its CRL's (.. 2023-01-23).
Instant in_2022() {
  return *parse_instant("2022-09-01T12:00:00+06:00");
}

std::shared_ptr<xmldsig::TrustStore> nca_trust(std::vector<std::string> anchors,
                                               std::vector<std::string> crls) {
  xmldsig::TrustSettings settings;
  for (const auto& name : anchors)
    settings.anchors.push_back(nca_fixture(name));
  for (const auto& name : crls)
    settings.crls.push_back(nca_fixture(name));
  std::vector<std::string> problems;
  auto trust = xmldsig::TrustStore::load(settings, problems);
  if (!trust) throw std::runtime_error(test::join(problems));
  return trust;
}

const xmldsig::TrustStore& gost2022() {
  static auto trust = nca_trust({"nca_gost2015_test.cer"}, {"nca_gost2022_test.crl"});
  return *trust;
}

xmldsig::AlgorithmPolicy policy() {
  xmldsig::AlgorithmPolicy out;
  for (auto uri : {gost::kGost2015_512Uri, gost::kStreebog512Uri, gost::kGost34310Uri,
                   gost::kGost34311Uri, xmldsig::kRsaSha256, xmldsig::kSha256})
    out.allowed.emplace(uri);
  return out;
}

std::string der_of(const std::string& base64) {
  std::string compact;
  for (char c : base64) {
    if (std::isspace(static_cast<unsigned char>(c)) == 0) compact.push_back(c);
  }
  std::string out(compact.size() / 4 * 3, '\0');
  const int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                     reinterpret_cast<const unsigned char*>(compact.data()),
                                     static_cast<int>(compact.size()));
  if (length < 0) return {};
  out.resize(static_cast<std::size_t>(length) - (compact.ends_with("==")  ? 2
                                                 : compact.ends_with("=") ? 1
                                                                          : 0));
  return out;
}

// What the adapter would say of signature number `index` of a signed file: the signer's chain,
// then the signature over the whole document. Nothing: it verifies.
std::optional<Rejection> judge(const std::string& bytes, std::size_t index,
                               const xmldsig::TrustStore& trust, Instant at) {
  xmldsig::ensure_xml_security_initialised();
  xml::XmlDoc doc(xmlReadMemory(bytes.data(), static_cast<int>(bytes.size()), nullptr, nullptr,
                                XML_PARSE_NONET));
  if (!doc) return Rejection{Reason::xml_malformed, "not XML"};
  std::vector<xmlNode*> signatures;
  for (xmlNode* child : xml::element_children(xmlDocGetRootElement(doc.get()))) {
    if (xml::is_element(child, xmldsig::kXmlDsigNs, "Signature")) signatures.push_back(child);
  }
  if (index >= signatures.size()) return Rejection{Reason::signature_missing, "no such signature"};
  xmlNode* signature = signatures[index];
  xmlNode* key_info = xml::child_element(signature, xmldsig::kXmlDsigNs, "KeyInfo");
  xmlNode* data = xml::child_element(key_info, xmldsig::kXmlDsigNs, "X509Data");
  xmlNode* certificate = xml::child_element(data, xmldsig::kXmlDsigNs, "X509Certificate");
  auto verified = trust.verify(der_of(xml::text_of(certificate)), {}, at);
  if (auto* rejection = std::get_if<Rejection>(&verified)) return *rejection;
  return xmldsig::verify_whole_document_signature(
      signature,
      std::get<std::shared_ptr<const xmldsig::VerifiedCertificate>>(verified)->public_key(),
      policy());
}

std::string fixture_text(const char* name) {
  return test::read_file(nca_fixture(name));
}

TEST(NcaGost2015, TheKalkanSignatureVerifiesWithTheIssuingCaAsTheOnlyAnchor) {
  EXPECT_EQ(judge(fixture_text(kTwoSigners), 1, gost2022(), in_2022()), std::nullopt);
  EXPECT_TRUE(gost2022().is_partial_anchor(test::nca_certificate("nca_gost2015_test.cer").get()));
}

TEST(NcaGost2015, TheSignerIsReadFromTheCertificate) {
  auto verified = gost2022().verify(
      [] {
        unsigned char* der = nullptr;
        const int length = i2d_X509(test::nca_certificate("ind2015.pem").get(), &der);
        std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
        OPENSSL_free(der);
        return out;
      }(),
      {}, in_2022());
  const auto* certificate =
      std::get_if<std::shared_ptr<const xmldsig::VerifiedCertificate>>(&verified);
  ASSERT_NE(certificate, nullptr) << std::get<Rejection>(verified).detail;
  EXPECT_EQ((*certificate)->identity().iin, "123456789012");
  EXPECT_THAT((*certificate)->identity().extended_key_usages,
              ::testing::Contains("1.2.398.3.3.4.1.1"));
}

std::string der_of_certificate(const char* name) {
  unsigned char* der = nullptr;
  const int length = i2d_X509(test::nca_certificate(name).get(), &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return out;
}

void expect_refused(const xmldsig::CertificateCheck& check, Reason reason,
                    const std::string& detail) {
  const auto* rejection = std::get_if<Rejection>(&check);
  ASSERT_NE(rejection, nullptr) << "accepted, expected " << code(reason);
  EXPECT_EQ(code(rejection->reason), code(reason)) << rejection->detail;
  EXPECT_THAT(rejection->detail, HasSubstr(detail));
}

TEST(NcaGost2015, RevokedByTheGostSignedCrl) {
  // ceo2015 (serial 3A90...) is on hold in the CA's CRL.
  expect_refused(gost2022().verify(der_of_certificate("ceo2015.pem"), {}, in_2022()),
                 Reason::certificate_revoked, "3A90343E720594C55204B19CB9A402422EF0E622");
}

TEST(NcaGost2015, NotYetValidAndExpiredAndLapsedCrl) {
  const auto ind = der_of_certificate("ind2015.pem");
  expect_refused(gost2022().verify(ind, {}, *parse_instant("2022-07-28T00:00:00Z")),
                 Reason::certificate_expired, "is not valid before 2022-07-28");
  // After the CRL's nextUpdate (2023-01-23) revocation cannot be checked: fail closed.
  expect_refused(gost2022().verify(ind, {}, *parse_instant("2023-03-01T00:00:00Z")),
                 Reason::certificate_untrusted, "CRL has expired");
  // Without any CRL of the CA, likewise.
  auto no_crl = nca_trust({"nca_gost2015_test.cer"}, {});
  expect_refused(no_crl->verify(ind, {}, in_2022()), Reason::certificate_untrusted,
                 "revocation of the signer certificate");
}

TEST(NcaGost2015, TheCrlMustBeSignedByAnAnchor) {
  xmldsig::TrustSettings settings;
  settings.anchors = {nca_fixture("nca_gost_test.crt")};
  settings.crls = {nca_fixture("nca_gost2022_test.crl")};
  std::vector<std::string> problems;
  EXPECT_EQ(xmldsig::TrustStore::load(settings, problems), nullptr);
  EXPECT_THAT(test::join(problems), HasSubstr("is not signed by any trust anchor"));
}

TEST(NcaGost2015, AnotherHierarchysCertificateDoesNotChain) {
  // The 34.310-2004 signer's CA is not an anchor here.
  expect_refused(gost2022().verify(der_of_certificate("ceo2004.pem"), {}, in_2022()),
                 Reason::certificate_untrusted, "does not chain to a trusted anchor");
}

TEST(NcaGost34310, TheLegalEntitysSignatureVerifies) {
  // NCA's 2004 test CA has no CRL among the fixtures: the chain is checked without revocation
  // by OpenSSL directly, and the trust store, which needs a CRL, fails closed.
  const std::string bytes = fixture_text(kLegalEntity2004);
  std::smatch certificate;
  ASSERT_TRUE(std::regex_search(bytes, certificate,
                                std::regex("<ds:X509Certificate>([^<]+)</ds:X509Certificate>")));
  auto leaf = xmldsig::parse_certificate_der(der_of(certificate[1].str()));
  ASSERT_NE(leaf, nullptr);
  auto ca = test::nca_certificate("nca_gost_test.crt");
  EXPECT_EQ(X509_verify(leaf.get(), X509_get0_pubkey(ca.get())), 1);
  EXPECT_EQ(xmldsig::identity_of(leaf.get()).bin, "123456789021");

  xmldsig::ensure_xml_security_initialised();
  xml::XmlDoc doc(xmlReadMemory(bytes.data(), static_cast<int>(bytes.size()), nullptr, nullptr,
                                XML_PARSE_NONET));
  xmlNode* signature =
      xml::child_element(xmlDocGetRootElement(doc.get()), xmldsig::kXmlDsigNs, "Signature");
  EXPECT_EQ(
      xmldsig::verify_whole_document_signature(signature, X509_get0_pubkey(leaf.get()), policy()),
      std::nullopt);
  auto trust = nca_trust({"nca_gost_test.crt"}, {});
  auto refused = judge(bytes, 0, *trust, *parse_instant("2020-06-01T00:00:00Z"));
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->reason, Reason::certificate_untrusted);
  EXPECT_THAT(refused->detail, HasSubstr("revocation"));
}

// Every one-byte change: a signed field, the DigestValue, the SignatureValue, the certificate.
struct Change {
  const char* name;
  const char* file;
  std::size_t signature;
  const char* from;  // regex: group 1 is where one character changes
  Reason reason;
  const char* detail;
};

class NcaOneByteChanges : public ::testing::TestWithParam<Change> {};

TEST_P(NcaOneByteChanges, AreRefusedWithTheirReason) {
  const auto& change = GetParam();
  std::string bytes = fixture_text(change.file);
  // The last match of the pattern: the GOST signature is the second of the two-signer file.
  std::smatch found;
  std::string::const_iterator from = bytes.cbegin();
  std::size_t at = std::string::npos;
  while (std::regex_search(from, bytes.cend(), found, std::regex(change.from))) {
    at = static_cast<std::size_t>(found[1].first - bytes.cbegin()) + found[1].length() / 2;
    from = found[0].second;
  }
  ASSERT_NE(at, std::string::npos);
  bytes[at] = bytes[at] == 'A' ? 'B' : 'A';
  auto trust = change.file == std::string(kTwoSigners)
                   ? std::shared_ptr<const xmldsig::TrustStore>(&gost2022(),
                                                                [](const xmldsig::TrustStore*) {})
                   : nullptr;
  std::optional<Rejection> refused;
  if (trust) {
    refused = judge(bytes, change.signature, *trust, in_2022());
  } else {
    // The 2004 file (no CRL of its CA among the fixtures): the link to NCA's 2004 CA, then the
    // signature with the certificate's key.
    xmldsig::ensure_xml_security_initialised();
    xml::XmlDoc doc(xmlReadMemory(bytes.data(), static_cast<int>(bytes.size()), nullptr, nullptr,
                                  XML_PARSE_NONET));
    xmlNode* signature =
        xml::child_element(xmlDocGetRootElement(doc.get()), xmldsig::kXmlDsigNs, "Signature");
    auto leaf = xmldsig::parse_certificate_der(der_of(xml::text_of(xml::child_element(
        xml::child_element(xml::child_element(signature, xmldsig::kXmlDsigNs, "KeyInfo"),
                           xmldsig::kXmlDsigNs, "X509Data"),
        xmldsig::kXmlDsigNs, "X509Certificate"))));
    auto ca = test::nca_certificate("nca_gost_test.crt");
    if (!leaf) {
      refused = Rejection{Reason::certificate_untrusted, "not a DER certificate"};
    } else if (X509_verify(leaf.get(), X509_get0_pubkey(ca.get())) != 1) {
      ERR_clear_error();
      refused = Rejection{Reason::certificate_untrusted, "does not chain to a trusted anchor"};
    } else {
      refused = xmldsig::verify_whole_document_signature(signature, X509_get0_pubkey(leaf.get()),
                                                         policy());
    }
  }
  ASSERT_TRUE(refused.has_value()) << "a changed byte was accepted";
  EXPECT_EQ(code(refused->reason), code(change.reason)) << refused->detail;
  EXPECT_THAT(refused->detail, HasSubstr(change.detail));
}

INSTANTIATE_TEST_SUITE_P(
    Kalkan, NcaOneByteChanges,
    ::testing::Values(
        Change{"gost2015_field", kTwoSigners, 1, "<b>(test)</b>", Reason::signature_invalid,
               "changed after signing"},
        Change{"gost2015_digest", kTwoSigners, 1, "<ds:DigestValue>([^<]+)</ds:DigestValue>",
               Reason::signature_invalid, "changed after signing"},
        Change{"gost2015_signature", kTwoSigners, 1, "<ds:SignatureValue>\\s*([A-Za-z0-9+/]{40})",
               Reason::signature_invalid, "signature value does not verify"},
        Change{"gost2015_certificate", kTwoSigners, 1,
               "<ds:X509Certificate>\\s*[A-Za-z0-9+/]{60}([A-Za-z0-9+/]{8})",
               Reason::certificate_untrusted, "does not chain to a trusted anchor"},
        Change{"gost34310_field", kLegalEntity2004, 0, "<name>(NCANode)</name>",
               Reason::signature_invalid, "changed after signing"},
        Change{"gost34310_digest", kLegalEntity2004, 0, "<ds:DigestValue>([^<]+)</ds:DigestValue>",
               Reason::signature_invalid, "changed after signing"},
        // A byte of the certificate's public key (a byte of a Cyrillic name would make it no DER).
        Change{"gost34310_certificate", kLegalEntity2004, 0,
               "<ds:X509Certificate>\\s*(?:[A-Za-z0-9+/]{76}\\s*){7}[A-Za-z0-9+/]{40}([A-Za-z0-9+/"
               "]{8})",
               Reason::certificate_untrusted, "does not chain to a trusted anchor"},
        Change{"gost34310_signature", kLegalEntity2004, 0,
               "<ds:SignatureValue>\\s*([A-Za-z0-9+/]{40})", Reason::signature_invalid,
               "signature value does not verify"}),
    [](const ::testing::TestParamInfo<Change>& change) { return std::string(change.param.name); });

}  // namespace
}  // namespace nqs::intake
