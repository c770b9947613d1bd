// Outbound notifications: built from the lifecycle's fields, valid against their schemas, in the
// SHEP envelope, signed with the adapter's key so that another XMLDSig tool (the xmlsec1 command
// line) verifies them.
#include "notify/outbound.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libxml/parser.h>

#include <boost/json/parse.hpp>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "intake_support.hpp"
#include "test_support.hpp"
#include "xml/xml.hpp"
#include "xmldsig/signature.hpp"

namespace nqs::notify {
namespace {

using ::testing::HasSubstr;

constexpr const char* kDocuments[] = {"application-refused", "application-to-recognition-center",
                                      "voucher-delivered", "voucher-validity-extended",
                                      "voucher-annulled"};

class Outbound : public ::testing::Test {
 protected:
  void SetUp() override {
    builder_ = builder_for("adapter-sign");
    ASSERT_TRUE(builder_);
  }

  // A builder signing with the test PKI's `name`.key, its certificate followed by its issuing CA,
  // as signing.certificate holds them.
  std::unique_ptr<NotificationBuilder> builder_for(const std::string& name) {
    const std::string pki = NQS_TEST_PKI_DIR;
    std::ifstream leaf(pki + "/" + name + ".pem"), issuing(pki + "/issuing-ca.pem");
    chain_ = dir_.write(name + "-chain.pem",
                        std::string(std::istreambuf_iterator<char>(leaf), {}) +
                            std::string(std::istreambuf_iterator<char>(issuing), {}));
    auto signer = load_signer(pki + "/" + name + ".key", chain_);
    EXPECT_TRUE(signer.has_value()) << signer.error().message;
    yaml::Diagnostics diagnostics;
    std::vector<std::shared_ptr<const OutboundMapping>> mappings;
    for (const char* document : kDocuments) {
      mappings.push_back(load_outbound_mapping(
          test::source_path(std::string("mappings/outbound/") + document + ".yaml"), diagnostics));
    }
    EXPECT_TRUE(diagnostics.empty()) << test::join(diagnostics.problems());
    if (!signer) return nullptr;
    return std::make_unique<NotificationBuilder>(std::move(mappings), std::move(signer).value(),
                                                 EnvelopeSettings{"nqs-adapter", "NQS_VOUCHER"});
  }

  std::string build(const domain::NotificationOut& notification) {
    auto built = builder_->build(notification, "3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a98",
                                 "8c0e3d5e-6f7a-4a53-9d40-1d0b6f0c2a11",
                                 *parse_instant("2025-09-08T12:00:00+05:00"));
    EXPECT_TRUE(built.has_value()) << (built ? "" : built.error().message);
    return built ? built.value() : std::string();
  }

  // Verifies with the xmlsec1 command-line tool against the test PKI; returns its exit status.
  int xmlsec1_verify(const std::string& bytes, const std::string& element) {
    const auto file = dir_.write("notification.xml", bytes);
    const std::string command = fmt::format(
        "xmlsec1 --verify --trusted-pem {}/ca-chain.pem --id-attr:Id urn:kz:enbek:nqs:voucher:1:{} "
        "{} >{} 2>&1",
        NQS_TEST_PKI_DIR, element, file.string(), (dir_.path() / "xmlsec1.out").string());
    return std::system(command.c_str());
  }

  // A notification composed (not signed) and read back, with its document element.
  struct Composed {
    xml::XmlDoc doc;
    xmlNode* document = nullptr;
  };
  Composed composed(const domain::NotificationOut& notification) {
    const auto text =
        builder_->compose(notification, "m-1", "c-1", *parse_instant("2025-09-08T12:00:00Z"))
            .value();
    Composed out{xml::XmlDoc(xmlReadMemory(text.data(), static_cast<int>(text.size()), nullptr,
                                           nullptr, XML_PARSE_NONET))};
    xmlNode* at = out.doc ? xmlDocGetRootElement(out.doc.get()) : nullptr;
    while (at != nullptr && xml::as_view(at->name) != notification.document) {
      const auto children = xml::element_children(at);
      at = children.empty() ? nullptr : children.back();
    }
    out.document = at;
    return out;
  }

  // `document` of `doc` signed with the adapter's key and chain by `profile`, and the whole
  // envelope's text; empty when it could not be signed.
  std::string signed_text(xmlDoc* doc, xmlNode* document, const xmldsig::SigningOptions& profile) {
    const std::string pki = NQS_TEST_PKI_DIR;
    auto signer = load_signer(pki + "/adapter-sign.key", chain_);
    EXPECT_TRUE(signer.has_value());
    if (!signer) return {};
    std::vector<X509*> chain;
    for (const auto& certificate : signer.value().certificates)
      chain.push_back(certificate.get());
    const auto problem =
        xmldsig::sign_enveloped(document, signer.value().key.get(), chain, profile);
    EXPECT_EQ(problem, std::nullopt);
    if (problem) return {};
    xmlChar* text = nullptr;
    int size = 0;
    xmlDocDumpMemory(doc, &text, &size);
    std::string bytes(reinterpret_cast<char*>(text), static_cast<std::size_t>(size));
    xmlFree(text);
    return bytes;
  }

  test::TempDir dir_;
  std::filesystem::path chain_;
  std::unique_ptr<NotificationBuilder> builder_;
};

domain::NotificationOut notification(const char* document, const char* fields) {
  return {document, boost::json::parse(fields).as_object()};
}

const domain::NotificationOut kDelivered = notification(
    "VoucherDelivered",
    R"({"voucherId": "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", "applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10",
        "iin": "850101300124", "issuedOn": "2025-09-08", "validUntil": "2025-11-07",
        "centerBin": "120340501232", "centerName": "ТОО Тестовый центр признания"})");

TEST_F(Outbound, EveryNotificationIsValidSignedAndVerifiableByXmlsec1) {
  const std::vector<domain::NotificationOut> all{
      notification(
          "ApplicationRefused",
          R"({"applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10", "iin": "850101300124",
                       "stage": "automatic", "reasons": ["deadline_passed", "no_quota_left"]})"),
      notification(
          "ApplicationToRecognitionCenter",
          R"({"applicationId": "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10", "iin": "850101300124",
                       "centerBin": "120340501232", "centerName": "Center"})"),
      kDelivered,
      notification("VoucherValidityExtended",
                   R"({"voucherId": "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", "iin": "850101300124",
                       "sheetNumber": "LN-1", "validUntil": "2025-11-17"})"),
      notification("VoucherAnnulled",
                   R"({"voucherId": "6a7b8c9d-0e1f-4a2b-8c3d-4e5f6a7b8c9d", "iin": "850101300124",
                       "reason": "expired"})"),
  };
  std::string problem;
  const auto envelope = xml::Schema::load(test::source_path("xsd/envelope.xsd"), problem);
  ASSERT_TRUE(envelope) << problem;
  for (const auto& item : all) {
    const auto bytes = build(item);
    ASSERT_FALSE(bytes.empty());
    xml::XmlDoc doc(xmlReadMemory(bytes.data(), static_cast<int>(bytes.size()), nullptr, nullptr,
                                  XML_PARSE_NONET));
    ASSERT_TRUE(doc);
    EXPECT_FALSE(envelope->validate_document(doc.get()).has_value()) << item.document;
    EXPECT_THAT(bytes, HasSubstr("<messageId>3c2b1a09-8f7e-4d6c-9b5a-4e3d2c1b0a98</messageId>"));
    EXPECT_THAT(bytes,
                HasSubstr("<correlationId>8c0e3d5e-6f7a-4a53-9d40-1d0b6f0c2a11</correlationId>"));
    EXPECT_THAT(bytes, HasSubstr("<senderId>nqs-adapter</senderId>"));
    EXPECT_EQ(xmlsec1_verify(bytes, item.document), 0) << item.document << "\n" << bytes;
  }
}

TEST_F(Outbound, ComposedOnOneThreadAndSignedOnOthersIsWhatBuildingGives) {
  // The daemon composes on its event loop and signs on worker threads, several at once (RSA
  // PKCS#1 v1.5 is deterministic: the same bytes as composing and signing in one step).
  const auto now = *parse_instant("2025-09-08T12:00:00+05:00");
  const auto built = builder_->build(kDelivered, "m-1", "c-1", now).value();
  const auto composed = builder_->compose(kDelivered, "m-1", "c-1", now).value();
  EXPECT_THAT(composed, ::testing::Not(HasSubstr("Signature")));
  std::vector<std::string> signed_bodies(4);
  {
    std::vector<std::jthread> threads;
    for (auto& out : signed_bodies) {
      threads.emplace_back([&] {
        for (int i = 0; i < 10; ++i)
          out = builder_->sign(composed).value();
      });
    }
  }
  for (const auto& body : signed_bodies)
    EXPECT_EQ(body, built);
  EXPECT_EQ(xmlsec1_verify(signed_bodies.front(), "VoucherDelivered"), 0);
  EXPECT_FALSE(builder_->sign("<not-an-envelope/>").has_value());
}

// The adapter signs with the key it is given: an EC key signs ECDSA-SHA256, its value r and s as
// XML-DSig writes them (not OpenSSL's DER), which another tool verifies.
TEST_F(Outbound, AnEcdsaKeySignsWhatXmlsec1Verifies) {
  auto ecdsa = builder_for("individual-ecdsa");
  ASSERT_TRUE(ecdsa);
  const auto bytes =
      ecdsa->build(kDelivered, "m-1", "c-1", *parse_instant("2025-09-08T12:00:00Z")).value();
  EXPECT_THAT(bytes, HasSubstr("xmldsig-more#ecdsa-sha256"));
  EXPECT_EQ(xmlsec1_verify(bytes, "VoucherDelivered"), 0) << bytes;
  const std::string open = "<ds:SignatureValue>";
  const auto from = bytes.find(open);
  const auto to = bytes.find("</ds:SignatureValue>");
  ASSERT_NE(from, std::string::npos);
  ASSERT_NE(to, std::string::npos);
  const auto value = bytes.substr(from + open.size(), to - from - open.size());
  EXPECT_EQ(value.size(), 88U) << "64 bytes, P-256's r and s, in base64: " << value;
}

// NCALayer's profile (inclusive c14n of SignedInfo, the reference's #WithComments) with an RSA
// key, a comment inside the signed document: xmlsec1 agrees on the nodes the adapter signed (a
// reference by Id leaves comments out, the namespaces in scope are rendered).
TEST_F(Outbound, TheInclusiveProfileSignsWhatXmlsec1Verifies) {
  auto [doc, document] = composed(kDelivered);
  ASSERT_NE(document, nullptr);
  xmlAddChild(document, xmlNewDocComment(doc.get(), xml::as_xml(" not signed content ")));
  const auto bytes = signed_text(doc.get(), document, test::nca_layer_profile());
  EXPECT_THAT(bytes, HasSubstr("xml-c14n-20010315#WithComments"));
  EXPECT_THAT(bytes, HasSubstr("<!-- not signed content -->"));
  EXPECT_EQ(xmlsec1_verify(bytes, "VoucherDelivered"), 0) << bytes;
}

// The nodes signed are chosen along libxml2's walk, with what is known of the parents on its path
// kept up to a depth (64): a document nested deeper than that, with namespaces and comments on
// the way down and elements after the way back up, is signed (both profiles) as xmlsec1 reads it.
TEST_F(Outbound, ADocumentDeeperThanTheKeptPathSignsWhatXmlsec1Verifies) {
  for (const auto& profile : {xmldsig::SigningOptions{}, test::nca_layer_profile()}) {
    auto [doc, document] = composed(kDelivered);
    ASSERT_NE(document, nullptr);
    xmlNode* at = document;
    for (int level = 0; level < 150; ++level) {
      xmlNode* deeper = xmlNewChild(at, nullptr, xml::as_xml("d"), xml::as_xml("text"));
      if (level % 20 == 7) xmlNewNs(deeper, xml::as_xml("urn:level"), xml::as_xml("l"));
      if (level % 30 == 3) xmlAddChild(at, xmlNewDocComment(doc.get(), xml::as_xml(" c ")));
      xmlNewProp(deeper, xml::as_xml("n"), xml::as_xml(std::to_string(level).c_str()));
      xmlNewChild(at, nullptr, xml::as_xml("after"), xml::as_xml("back up"));
      at = deeper;
    }
    const auto bytes = signed_text(doc.get(), document, profile);
    ASSERT_FALSE(bytes.empty());
    EXPECT_EQ(xmlsec1_verify(bytes, "VoucherDelivered"), 0) << bytes;
  }
}

TEST_F(Outbound, TheSignatureFollowsTheProfileOfMessagesMd) {
  const auto bytes = build(kDelivered);
  xml::XmlDoc doc(xmlReadMemory(bytes.data(), static_cast<int>(bytes.size()), nullptr, nullptr,
                                XML_PARSE_NONET));
  xmlNode* data = xmlDocGetRootElement(doc.get());
  for (const char* name : {"Body", "SendMessage", "request", "requestData", "data"}) {
    for (xmlNode* child = data->children; child != nullptr; child = child->next) {
      if (child->type == XML_ELEMENT_NODE && xml::as_view(child->name) == name) {
        data = child;
        break;
      }
    }
  }
  xmlNode* document = xml::element_children(data).front();
  xmldsig::AlgorithmPolicy policy;
  policy.allowed = {std::string(xmldsig::kRsaSha256), std::string(xmldsig::kSha256)};
  auto parts = xmldsig::check_signature_profile(document, policy);
  ASSERT_TRUE(std::holds_alternative<xmldsig::SignatureParts>(parts))
      << std::get<Rejection>(parts).detail;
  EXPECT_EQ(std::get<xmldsig::SignatureParts>(parts).intermediates_der.size(), 1U)
      << "the issuing CA follows";
}

TEST_F(Outbound, AlteredNotificationsFailVerification) {
  auto bytes = build(kDelivered);
  const auto at = bytes.find("2025-11-07");
  ASSERT_NE(at, std::string::npos);
  bytes.replace(at, 10, "2026-11-07");
  EXPECT_NE(xmlsec1_verify(bytes, "VoucherDelivered"), 0);
}

TEST_F(Outbound, WhatDoesNotFitItsSchemaIsNotSent) {
  auto missing = kDelivered;
  missing.fields.erase("validUntil");
  auto built = builder_->build(missing, "3c2b1a09", "", *parse_instant("2025-09-08T12:00:00Z"));
  ASSERT_FALSE(built.has_value());
  EXPECT_THAT(built.error().message, HasSubstr("no field 'validUntil' for ValidUntil"));
  auto bad = kDelivered;
  bad.fields["iin"] = "85010130012";
  built = builder_->build(bad, "3c2b1a09", "", *parse_instant("2025-09-08T12:00:00Z"));
  ASSERT_FALSE(built.has_value());
  EXPECT_THAT(built.error().message, HasSubstr("VoucherDelivered does not fit its schema"));
  EXPECT_FALSE(builder_
                   ->build(notification("VoucherTransferred", "{}"), "x", "",
                           *parse_instant("2025-09-08T12:00:00Z"))
                   .has_value());
}

TEST(OutboundSigner, TheKeyMustMatchTheCertificate) {
  const std::string pki = NQS_TEST_PKI_DIR;
  auto mismatched = load_signer(pki + "/adapter-sign.key", pki + "/center-head.pem");
  ASSERT_FALSE(mismatched.has_value());
  EXPECT_THAT(mismatched.error().message, HasSubstr("is not the one of the key"));
  EXPECT_FALSE(load_signer(pki + "/nothing.key", pki + "/adapter-sign.pem").has_value());
}

}  // namespace
}  // namespace nqs::notify
