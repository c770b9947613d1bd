// The adapter's GOST key as NCA RK delivers it (a password-protected PKCS#12), and its signed
// notifications verified by another implementation than the one that signed them: the daemon
// signs with gost-engine where it is installed (as its own verification computes digests); here,
// libxml2's canonicalization and libgcrypt check the reference digest and the signature value by
// hand, as a receiving system would.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libxml/c14n.h>
#include <libxml/parser.h>

#include <boost/json/parse.hpp>
#include <fstream>

#include "gost/backend.hpp"
#include "gost/openssl_keys.hpp"
#include "notify/outbound.hpp"
#include "test_support.hpp"
#include "xml/xml.hpp"
#include "xmldsig/signature.hpp"
#include "xmldsig/trust_store.hpp"

namespace nqs::notify {
namespace {

using ::testing::HasSubstr;

std::string password_of(const std::string& file) {
  std::string password;
  std::ifstream(file) >> password;
  return password;
}

TEST(GostSigner, TheAdaptersKeyFromItsPkcs12) {
  const std::string pki = NQS_TEST_PKI_DIR;
  auto signer = load_pkcs12_signer(pki + "/gost-adapter-sign.p12",
                                   password_of(pki + "/gost-adapter-sign.password"));
  ASSERT_TRUE(signer.has_value()) << signer.error().message;
  const auto* key = gost::key_of(signer.value().key.get());
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(key->public_key.algorithm->name, "GOST 34.10-2015/512");
  EXPECT_EQ(signer.value().certificates.size(), 2U) << "the certificate and its issuing CA";
  auto wrong = load_pkcs12_signer(pki + "/gost-adapter-sign.p12", "wrong");
  ASSERT_FALSE(wrong.has_value());
  EXPECT_THAT(wrong.error().message, HasSubstr("the password is wrong"));
}

TEST(GostSigner, NcasOwnPkcs12Files) {
  // A GOST 34.10-2015/512 key: 3DES key bag, RC2-40 certificate bag (the legacy provider).
  auto gost = load_pkcs12_signer(
      test::source_path("tests/fixtures/nca-gost/individual_valid_2015.p12"), "Aa123456");
  ASSERT_TRUE(gost.has_value()) << gost.error().message;
  ASSERT_NE(gost::key_of(gost.value().key.get()), nullptr);
  EXPECT_EQ(xmldsig::identity_of(gost.value().certificates.front().get()).iin, "123456789012");
  // Its neighbour holds an RSA key despite its name; OpenSSL reads that one itself.
  auto rsa = load_pkcs12_signer(
      test::source_path("tests/fixtures/nca-gost/individual_valid_sign_2004.p12"), "Qwerty12");
  ASSERT_TRUE(rsa.has_value()) << rsa.error().message;
  EXPECT_EQ(EVP_PKEY_base_id(rsa.value().key.get()), EVP_PKEY_RSA);
  EXPECT_FALSE(load_pkcs12_signer(
                   test::source_path("tests/fixtures/nca-gost/individual_valid_2015.p12"), "x")
                   .has_value());
}

// Canonical bytes of `apex`'s subtree without `excluded` (the enveloped signature), by libxml2.
struct Subtree {
  xmlNode* apex;
  xmlNode* excluded;
};

int in_subtree(void* data, xmlNodePtr node, xmlNodePtr parent) {
  const auto* subtree = static_cast<const Subtree*>(data);
  xmlNode* at = node != nullptr && node->type == XML_NAMESPACE_DECL ? parent : node;
  for (; at != nullptr; at = at->parent) {
    if (at == subtree->excluded) return 0;
    if (at == subtree->apex) return 1;
  }
  return 0;
}

std::vector<std::uint8_t> canonical(xmlDoc* doc, Subtree subtree, bool comments) {
  xmlOutputBufferPtr out = xmlAllocOutputBuffer(nullptr);
  xmlC14NExecute(doc, in_subtree, &subtree, XML_C14N_1_0, nullptr, comments ? 1 : 0, out);
  const auto* bytes = xmlOutputBufferGetContent(out);
  std::vector<std::uint8_t> result(bytes, bytes + xmlOutputBufferGetSize(out));
  xmlOutputBufferClose(out);
  return result;
}

std::vector<std::uint8_t> base64(const std::string& text) {
  std::string compact;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c)) == 0) compact.push_back(c);
  }
  std::vector<std::uint8_t> out(compact.size() / 4 * 3);
  const int length =
      EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(compact.data()),
                      static_cast<int>(compact.size()));
  out.resize(static_cast<std::size_t>(length) - (compact.ends_with("==")  ? 2
                                                 : compact.ends_with("=") ? 1
                                                                          : 0));
  return out;
}

xmlNode* test_find(xmlNode* node, const char* name) {
  for (xmlNode* child = node->children; child != nullptr; child = child->next) {
    if (child->type != XML_ELEMENT_NODE) continue;
    if (xml::as_view(child->name) == name) return child;
    if (xmlNode* deeper = test_find(child, name)) return deeper;
  }
  return nullptr;
}

xmlNode* ds(xmlNode* parent, const char* name) {
  return xml::child_element(parent, xmldsig::kXmlDsigNs, name);
}

TEST(GostSigner, ANotificationVerifiesWithLibxml2AndLibgcrypt) {
  const std::string pki = NQS_TEST_PKI_DIR;
  auto signer = load_pkcs12_signer(pki + "/gost-adapter-sign.p12",
                                   password_of(pki + "/gost-adapter-sign.password"));
  ASSERT_TRUE(signer.has_value()) << signer.error().message;
  yaml::Diagnostics diagnostics;
  std::vector<std::shared_ptr<const OutboundMapping>> mappings{load_outbound_mapping(
      test::source_path("mappings/outbound/voucher-annulled.yaml"), diagnostics)};
  ASSERT_TRUE(diagnostics.empty()) << test::join(diagnostics.problems());
  NotificationBuilder builder(std::move(mappings), signer.value(), {"nqs-adapter", "NQS_VOUCHER"});
  auto bytes = builder.build(
      {"VoucherAnnulled",
       boost::json::parse(R"({"voucherId": "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d",
                              "iin": "850101300124", "reason": "expired"})")
           .as_object()},
      "3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a98", "", *parse_instant("2025-09-08T12:00:00Z"));
  ASSERT_TRUE(bytes.has_value()) << bytes.error().message;
  // Kalkan's profile.
  EXPECT_THAT(bytes.value(), HasSubstr("xml-c14n-20010315#WithComments"));
  EXPECT_THAT(bytes.value(), HasSubstr(std::string(gost::kGost2015_512Uri)));

  xml::XmlDoc doc(xmlReadMemory(bytes.value().data(), static_cast<int>(bytes.value().size()),
                                nullptr, nullptr, XML_PARSE_NONET));
  ASSERT_TRUE(doc);
  xmlNode* document = test_find(xmlDocGetRootElement(doc.get()), "VoucherAnnulled");
  ASSERT_NE(document, nullptr);
  xmlNode* signature = ds(document, "Signature");
  xmlNode* signed_info = ds(signature, "SignedInfo");
  xmlNode* reference = ds(signed_info, "Reference");
  const auto certificate = xmldsig::parse_certificate_der([&] {
    const auto der =
        base64(xml::text_of(ds(ds(ds(signature, "KeyInfo"), "X509Data"), "X509Certificate")));
    return std::string(der.begin(), der.end());
  }());
  ASSERT_NE(certificate, nullptr);
  const auto& public_key = gost::key_of(X509_get0_pubkey(certificate.get()))->public_key;
  auto verifier = gost::libgcrypt().verifier(public_key);
  ASSERT_NE(verifier, nullptr);

  // The reference: the document without its signature, inclusive c14n with comments.
  auto digest = gost::libgcrypt().digest(gost::Hash::streebog512);
  digest->update(canonical(doc.get(), {document, signature}, true));
  EXPECT_EQ(digest->finish(), base64(xml::text_of(ds(reference, "DigestValue"))));
  // The signature value over SignedInfo (inclusive c14n).
  auto signed_digest = gost::libgcrypt().digest(gost::Hash::streebog512);
  signed_digest->update(canonical(doc.get(), {signed_info, nullptr}, false));
  const auto signed_hash = signed_digest->finish();
  const auto value = base64(xml::text_of(ds(signature, "SignatureValue")));
  EXPECT_TRUE(verifier->verify(signed_hash, value));
  auto forged = value;
  forged[7] ^= 1;
  EXPECT_FALSE(verifier->verify(signed_hash, forged));
}

}  // namespace
}  // namespace nqs::notify
