// Intake end to end on real XML, real xmlsec/OpenSSL and the generated test PKI: every reason
// code intake can give, the signature-wrapping family, and every inbound document accepted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstring>
#include <regex>

#include "common/openssl_key_methods.hpp"
#include "intake_support.hpp"
#include "revocation/crl_signatures.hpp"
#include "revocation/x509_facts.hpp"
#include "xmldsig/signature_internal.hpp"

namespace nqs::intake {
namespace {

using test::Envelope;
using test::make_intake;
using test::test_now;
using ::testing::HasSubstr;

const Intake& default_intake() {
  static const auto intake = make_intake();
  return *intake;
}

IntakeOutcome run(const std::string& bytes, const Intake& intake = default_intake()) {
  return intake.process(bytes, test_now());
}

// Asserts a rejection with `reason` whose detail contains `detail`.
void expect_rejected(const IntakeOutcome& outcome, Reason reason, const std::string& detail) {
  const auto* rejected = std::get_if<Rejected>(&outcome);
  ASSERT_NE(rejected, nullptr) << "accepted, expected " << code(reason);
  EXPECT_EQ(code(rejected->rejection.reason), code(reason)) << rejected->rejection.detail;
  EXPECT_THAT(rejected->rejection.detail, HasSubstr(detail));
}

Accepted expect_accepted(const IntakeOutcome& outcome) {
  const auto* rejected = std::get_if<Rejected>(&outcome);
  EXPECT_EQ(rejected, nullptr) << (rejected ? std::string(code(rejected->rejection.reason)) + ": " +
                                                  rejected->rejection.detail
                                            : "");
  return rejected == nullptr ? std::get<Accepted>(outcome) : Accepted{};
}

std::string replace(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

std::string signed_application() {
  return Envelope("voucher-application").sign("individual-sign").bytes();
}

// The suites below run once with the RSA half of the test PKI and once with the GOST half.
class Flavored : public ::testing::TestWithParam<test::Flavor> {
 protected:
  void SetUp() override { test::flavor() = GetParam(); }
  void TearDown() override { test::flavor() = test::Flavor::rsa; }
};

std::string flavor_name(const ::testing::TestParamInfo<test::Flavor>& info) {
  return info.param == test::Flavor::gost ? "gost" : "rsa";
}

#define NQS_FLAVORED_SUITE(suite)                                                                \
  class suite : public Flavored {};                                                              \
  INSTANTIATE_TEST_SUITE_P(Pki, suite, ::testing::Values(test::Flavor::rsa, test::Flavor::gost), \
                           flavor_name)

NQS_FLAVORED_SUITE(IntakeAccepted);
NQS_FLAVORED_SUITE(IntakeXml);
NQS_FLAVORED_SUITE(IntakeEnvelope);
NQS_FLAVORED_SUITE(IntakeSchema);
NQS_FLAVORED_SUITE(IntakeSignature);
NQS_FLAVORED_SUITE(IntakeWrapping);
NQS_FLAVORED_SUITE(IntakeCertificate);
NQS_FLAVORED_SUITE(IntakeSigner);
NQS_FLAVORED_SUITE(IntakeDomain);
NQS_FLAVORED_SUITE(IntakeTransport);
NQS_FLAVORED_SUITE(IntakeDescribe);
NQS_FLAVORED_SUITE(IntakeArchived);

// --- accepted ----------------------------------------------------------------------------------

struct DocumentCase {
  const char* fixture;
  const char* signer;
  const char* command;
};

// How the document is canonicalized: exclusive or inclusive c14n, or as NCALayer and KalkanCrypt
// sign (inclusive c14n of SignedInfo, inclusive c14n #WithComments on the reference).
enum class Profile { exclusive, inclusive, kalkan };

class EveryDocument
    : public ::testing::TestWithParam<std::tuple<DocumentCase, Profile, test::Flavor>> {
 protected:
  void TearDown() override { test::flavor() = test::Flavor::rsa; }
};

TEST_P(EveryDocument, IsAcceptedWithEachCanonicalization) {
  const auto& [document, profile, flavor] = GetParam();
  test::flavor() = flavor;
  xmldsig::SigningOptions options;
  options.c14n = profile == Profile::exclusive ? xmldsig::kExclusiveC14n : xmldsig::kInclusiveC14n;
  if (profile == Profile::kalkan) options.reference_c14n = xmldsig::kInclusiveC14nWithComments;
  const auto bytes = Envelope(document.fixture).sign(document.signer, options).bytes();
  if (profile == Profile::kalkan) {
    EXPECT_THAT(bytes, HasSubstr("#WithComments"));
  }
  const auto accepted = expect_accepted(run(bytes));
  EXPECT_EQ(accepted.command_type, document.command);
}

std::string every_document_name(
    const ::testing::TestParamInfo<std::tuple<DocumentCase, Profile, test::Flavor>>& test_case) {
  std::string name = std::get<0>(test_case.param).fixture;
  std::replace(name.begin(), name.end(), '-', '_');
  constexpr const char* kProfiles[] = {"_exclusive", "_inclusive", "_kalkan"};
  return name + kProfiles[static_cast<int>(std::get<1>(test_case.param))] +
         (std::get<2>(test_case.param) == test::Flavor::gost ? "_gost" : "_rsa");
}

INSTANTIATE_TEST_SUITE_P(
    Intake, EveryDocument,
    ::testing::Combine(
        ::testing::Values(
            DocumentCase{"voucher-application", "individual-sign", "SubmitVoucherApplication"},
            DocumentCase{"recognition-center-decision", "center-head",
                         "RecordRecognitionCenterDecision"},
            DocumentCase{"sick-leave-notice", "individual-sign", "RecordSickLeaveNotice"},
            DocumentCase{"recognition-outcome", "center-head", "RecordRecognitionOutcome"},
            DocumentCase{"service-act", "center-head", "RegisterServiceAct"}),
        ::testing::Values(Profile::exclusive, Profile::inclusive, Profile::kalkan),
        ::testing::Values(test::Flavor::rsa, test::Flavor::gost)),
    every_document_name);

TEST_P(IntakeAccepted, MapsTheApplicationFromTheSignedElement) {
  const auto accepted = expect_accepted(run(signed_application()));
  EXPECT_EQ(accepted.document_type, "VoucherApplication");
  EXPECT_EQ(accepted.envelope.message_id, "8c0e3d5e-6f7a-4a53-9d40-1d0b6f0c2a11");
  EXPECT_EQ(accepted.envelope.sender_id, "nqs-platform");
  EXPECT_EQ(accepted.signer.iin, "850101300124");
  const auto& payload = accepted.payload;
  EXPECT_EQ(payload.at("applicationId").as_string(), "0b5e1c2a-0c43-4d2e-9a61-5f2f3e0a7b10");
  EXPECT_EQ(payload.at("submittedAt").as_string(), "2025-09-01T05:15:00.000Z");
  EXPECT_EQ(payload.at("applicant").at("iin").as_string(), "850101300124");
  EXPECT_FALSE(payload.at("applicant").as_object().contains("middleName"));
  EXPECT_EQ(payload.at("profession").at("qualificationLevel").as_int64(), 3);
  EXPECT_EQ(payload.at("profession").at("skills").as_array().size(), 2U);
  EXPECT_EQ(payload.at("attachments").as_array().at(0).at("name").as_string(), "diploma.pdf");
  EXPECT_EQ(payload.at("consents").at("notifications").as_bool(), true);
}

TEST_P(IntakeAccepted, ServiceActMoneyIsIntegerTiyn) {
  const auto accepted = expect_accepted(run(Envelope("service-act").sign("center-head").bytes()));
  EXPECT_EQ(accepted.payload.at("totalTiyn").as_int64(), 1250075);
  const auto& line = accepted.payload.at("lines").as_array().at(1);
  EXPECT_EQ(line.at("quantity").as_string(), "2.5");
  EXPECT_EQ(line.at("unitPriceTiyn").as_int64(), 300010);
  EXPECT_EQ(line.at("amountTiyn").as_int64(), 750025);
}

TEST(IntakeRsa, EcdsaSigningKeys) {
  xmldsig::SigningOptions options;
  options.signature_method = xmldsig::kEcdsaSha256;
  expect_accepted(run(Envelope("voucher-application").sign("individual-ecdsa", options).bytes()));
}

// An ECDSA signature value is r and s of the curve's size at most: the same signature with r and
// s each given a leading zero byte is another encoding of it, refused as xmlsec refuses it.
TEST(IntakeRsa, AnEcdsaSignatureValueLongerThanTheCurvesIsRefused) {
  xmldsig::SigningOptions options;
  options.signature_method = xmldsig::kEcdsaSha256;
  const auto bytes = Envelope("voucher-application").sign("individual-ecdsa", options).bytes();
  std::smatch value;
  ASSERT_TRUE(std::regex_search(bytes, value, std::regex("<ds:SignatureValue>([^<]+)<")));
  std::string base64 = value[1].str();
  base64.erase(std::remove(base64.begin(), base64.end(), '\n'), base64.end());
  std::string raw(base64.size(), '\0');
  int length = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(raw.data()),
                               reinterpret_cast<const unsigned char*>(base64.data()),
                               static_cast<int>(base64.size()));
  ASSERT_GT(length, 0);
  raw.resize(64);  // P-256: r and s of 32 bytes (the decoder's padding bytes dropped)
  const std::string padded =
      std::string(1, '\0') + raw.substr(0, 32) + std::string(1, '\0') + raw.substr(32);
  std::string encoded(4 * ((padded.size() + 2) / 3) + 1, '\0');
  length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(encoded.data()),
                           reinterpret_cast<const unsigned char*>(padded.data()),
                           static_cast<int>(padded.size()));
  encoded.resize(static_cast<std::size_t>(length));
  expect_rejected(run(replace(bytes, value[1].str(), encoded)), Reason::signature_invalid,
                  "does not verify");
}

// ds:Signature, ds:SignedInfo and ds:Reference hold XML-DSig's elements once each, in order.
TEST(IntakeRsa, ASignaturesElementsGivenTwiceAreRefused) {
  const auto bytes = signed_application();
  expect_rejected(run(replace(bytes, "</ds:SignatureValue>",
                              "</ds:SignatureValue><ds:SignatureValue>AAAA</ds:SignatureValue>")),
                  Reason::signature_reference_mismatch, "ds:Signature holds other than");
  expect_rejected(run(replace(bytes, "</ds:DigestValue>",
                              "</ds:DigestValue><ds:DigestValue>AAAA</ds:DigestValue>")),
                  Reason::signature_reference_mismatch, "ds:Reference holds other than");
}

TEST_P(IntakeAccepted, IntermediatesMayFollowTheSignerCertificate) {
  expect_accepted(
      run(Envelope("voucher-application").sign("individual-sign", {}, {"issuing-ca"}).bytes()));
}

// A chain is cached the second time it is verified: on real traffic most signers sign once.
TEST_P(IntakeAccepted, VerifiedChainsAreCachedByTheirBytesWhenTheyComeBack) {
  auto intake = make_intake();
  EXPECT_EQ(intake->trust()->cached(), 0U);
  expect_accepted(intake->process(signed_application(), test_now()));
  EXPECT_EQ(intake->trust()->cached(), 0U) << "a signer seen once is not kept";
  expect_accepted(
      intake->process(Envelope("sick-leave-notice").sign("individual-sign").bytes(), test_now()));
  EXPECT_EQ(intake->trust()->cached(), 1U) << "one signer back, one cached chain";
  expect_accepted(intake->process(signed_application(), test_now()));
  EXPECT_EQ(intake->trust()->cached(), 1U);
  expect_accepted(intake->process(Envelope("service-act").sign("center-head").bytes(), test_now()));
  EXPECT_EQ(intake->trust()->cached(), 1U);
  expect_accepted(intake->process(Envelope("service-act").sign("center-head").bytes(), test_now()));
  EXPECT_EQ(intake->trust()->cached(), 2U);
  // Outside the cached window the cache does not answer: the full check does (and after 2045 the
  // test CRLs have expired too, so revocation can no longer be checked).
  expect_rejected(intake->process(signed_application(), *parse_instant("2046-01-01T00:00:00Z")),
                  Reason::certificate_untrusted, "CRL has expired");
}

// A new applicant's chain costs one RSA verify, their own certificate's: the issuing CA's link to
// its root and both CRLs verified for the signer before are remembered, and what is remembered
// is only that a signature verified, never that a certificate is good: a revoked certificate
// under the same CA is still refused.
TEST(IntakeRsa, ANewSignersChainReusesTheCaLinkAndCrlsVerifiedBefore) {
  auto intake = make_intake();
  expect_accepted(intake->process(signed_application(), test_now()));
  const auto before = rsa_verifications_remembered();
  const auto crls_before = revocation::crl_signatures_remembered();
  expect_accepted(intake->process(Envelope("service-act").sign("center-head").bytes(), test_now()));
  EXPECT_GE(rsa_verifications_remembered() - before, 1U) << "the issuing CA's certificate";
  EXPECT_GE(revocation::crl_signatures_remembered() - crls_before, 2U)
      << "the root's CRL and the issuing CA's CRL";
  expect_rejected(
      intake->process(Envelope("voucher-application").sign("individual-revoked").bytes(),
                      test_now()),
      Reason::certificate_revoked, "is revoked by its CA's CRL");
}

// --- xml.* ---------------------------------------------------------------------------------------

TEST_P(IntakeXml, TooLargeIsRefusedBeforeParsing) {
  test::IntakeOptions options;
  options.max_message_bytes = 2048;
  auto small = make_intake(options);
  const std::string bytes = signed_application();
  expect_rejected(small->process(bytes, test_now()), Reason::xml_too_large,
                  "limit (intake.max_message_bytes) is 2048 bytes");
  // Not even well-formed: the size alone decides.
  expect_rejected(small->process(std::string(4096, '<'), test_now()), Reason::xml_too_large,
                  "4096");
}

TEST_P(IntakeXml, MalformedAndNotUtf8) {
  expect_rejected(run("<a><b></a>"), Reason::xml_malformed, "not well-formed XML at line 1");
  expect_rejected(run(""), Reason::xml_malformed, "empty");
  expect_rejected(run("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>"), Reason::xml_malformed,
                  "declares encoding ISO-8859-1");
  expect_rejected(run(std::string("\xFF\xFE<\0a\0/\0>\0", 10)), Reason::xml_malformed, "not UTF-8");
  expect_rejected(run("<a>\xC3\x28</a>"), Reason::xml_malformed, "not well-formed");
  expect_rejected(run(signed_application().substr(0, 500)), Reason::xml_malformed,
                  "not well-formed");
}

// --- xml.too_complex: structure limited before the parser's quadratic work --------------------

// `count` attributes (the first `declarations` of them namespace declarations) on one element.
std::string element_with(std::size_t count, std::size_t declarations = 0) {
  std::string out = "<a";
  for (std::size_t i = 0; i < count; ++i) {
    out += i < declarations ? fmt::format(" xmlns:n{}=\"urn:n{}\"", i, i)
                            : fmt::format(" a{}=\"v\"", i);
  }
  return out + "/>";
}

TEST(IntakeXmlLimits, EachLimitIsXmlTooComplexSayingWhichAndWhere) {
  // Nearly a megabyte of attributes on one element: libxml2's duplicate check would take seconds.
  expect_rejected(run(element_with(79000)), Reason::xml_too_complex,
                  "exceeds intake.limits: the element a has more than 64 attributes at line 1");
  expect_rejected(run(element_with(17, 17)), Reason::xml_too_complex,
                  "the element a declares more than 16 namespaces");
  // Declarations add up along the ancestors: inclusive c14n works through all of them.
  std::string nested;
  for (int i = 0; i < 3; ++i)
    nested += element_with(12, 12).substr(0, element_with(12, 12).size() - 2) + ">";
  expect_rejected(run(nested), Reason::xml_too_complex,
                  "has more than 32 namespace declarations in scope");
  std::string deep;
  for (int i = 0; i < 65; ++i)
    deep += "<d>";
  expect_rejected(run(deep), Reason::xml_too_complex, "elements nested deeper than 64");
  std::string many = "<r>";
  for (int i = 0; i < 10001; ++i)
    many += "<e/>";
  expect_rejected(run(many + "</r>"), Reason::xml_too_complex, "more than 10000 elements");
  std::string attributes = "<r>";
  for (int i = 0; i < 33; ++i)
    attributes += element_with(32);
  expect_rejected(run(attributes + "</r>"), Reason::xml_too_complex,
                  "more than 1024 attributes in all");
  expect_rejected(run("<r>\n\n" + std::string(70000, 'x') + "</r>"), Reason::xml_too_complex,
                  "a text node of 70002 bytes; at most 65536 are accepted at line 1");
  expect_rejected(run("<r a=\"" + std::string(70000, 'x') + "\"/>"), Reason::xml_too_complex,
                  "an attribute value of 70000 bytes");
  expect_rejected(run("<r><!--" + std::string(70000, 'x') + "--></r>"), Reason::xml_too_complex,
                  "a comment of");
}

TEST(IntakeXmlLimits, AValidlySignedDocumentWithManyDeclarationsIsRefusedBeforeC14n) {
  // Signed as it is, then 6,000 namespace declarations added: refused by the scan, unparsed.
  std::string bytes = signed_application();
  std::string declarations;
  for (int i = 0; i < 6000; ++i)
    declarations += fmt::format(" xmlns:x{}=\"urn:x{}\"", i, i);
  bytes = replace(bytes, "<soap:Envelope", "<soap:Envelope" + declarations);
  expect_rejected(run(bytes), Reason::xml_too_complex, "declares more than 16 namespaces");
}

TEST(IntakeXmlLimits, LimitsAreConfigurableAndRealDocumentsStayBelowThem) {
  test::IntakeOptions options;
  options.limits.max_elements = 20;
  expect_rejected(make_intake(options)->process(signed_application(), test_now()),
                  Reason::xml_too_complex, "more than 20 elements");
  // Malformed markup is left to the parser, which names it.
  expect_rejected(run("<a b=\"unterminated></a>"), Reason::xml_malformed, "not well-formed");
  expect_accepted(run(signed_application()));
}

TEST(IntakeXmlLimits, AMessageOverItsCpuBudgetIsRefusedAfterTheStageThatSpentIt) {
  // Limits raised far enough to let a quadratic attribute check through: 30,000 attributes on one
  // element take libxml2 most of a second; the budget (10 ms) ends the message after parsing.
  test::IntakeOptions options;
  options.limits.max_attributes = 100000;
  options.limits.max_attributes_total = 100000;
  options.cpu_time = std::chrono::milliseconds{10};
  const auto outcome = make_intake(options)->process(element_with(30000), test_now());
  expect_rejected(outcome, Reason::xml_too_complex,
                  "ms of CPU time by the end of parsing: over the budget of 10 ms "
                  "(intake.limits.cpu_time)");
  // An ordinary document is far within the same budget.
  options.cpu_time = std::chrono::milliseconds{1000};
  expect_accepted(make_intake(options)->process(signed_application(), test_now()));
}

TEST_P(IntakeXml, DoctypeEntitiesAndExternalReferencesAreForbidden) {
  expect_rejected(run("<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>"),
                  Reason::xml_forbidden_construct, "DOCTYPE");
  // External entity (XXE) and an external DTD: refused, never fetched.
  expect_rejected(run("<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>"),
                  Reason::xml_forbidden_construct, "DOCTYPE");
  expect_rejected(run("<!DOCTYPE a SYSTEM \"http://127.0.0.1:9/evil.dtd\"><a/>"),
                  Reason::xml_forbidden_construct, "DOCTYPE");
  // A billion-laughs bomb is refused at its DOCTYPE, before any expansion.
  expect_rejected(run("<!DOCTYPE l [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><l>&b;</l>"),
                  Reason::xml_forbidden_construct, "DOCTYPE");
  // An entity reference without any DOCTYPE.
  expect_rejected(run("<a>&undeclared;</a>"), Reason::xml_forbidden_construct,
                  "an entity reference (&undeclared;)");
  expect_rejected(run("<a b=\"&undeclared;\"/>"), Reason::xml_forbidden_construct,
                  "entity reference");
  // Predefined entities and character references are ordinary text.
  expect_rejected(run("<a>&lt;&amp;&#x41;</a>"), Reason::soap_invalid_envelope, "");
}

TEST_P(IntakeXml, XIncludeIsNeverProcessed) {
  // An xi:include is just an unknown element: the envelope or the schema refuses it.
  const auto bytes =
      replace(signed_application(), "<soap:Header/>",
              "<soap:Header/><xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" "
              "href=\"file:///etc/passwd\"/>");
  expect_rejected(run(bytes), Reason::soap_invalid_envelope, "include");
}

// --- soap.* and schema.invalid
// ---------------------------------------------------------------------

TEST_P(IntakeEnvelope, InvalidEnvelopes) {
  expect_rejected(run("<a/>"), Reason::soap_invalid_envelope, "No matching global declaration");
  const auto bytes = signed_application();
  expect_rejected(run(replace(bytes, "http://schemas.xmlsoap.org/soap/envelope/",
                              "http://www.w3.org/2003/05/soap-envelope")),
                  Reason::soap_invalid_envelope, "");
  expect_rejected(
      run(replace(bytes, "<messageId>8c0e3d5e-6f7a-4a53-9d40-1d0b6f0c2a11</messageId>", "")),
      Reason::soap_invalid_envelope, "messageId");
  // Exactly one document under data.
  expect_rejected(run(replace(bytes, "</data>", "<x:Other xmlns:x=\"urn:x\"/></data>")),
                  Reason::soap_invalid_envelope, "");
  expect_rejected(run(replace(bytes, "<serviceId>", "<unexpected/><serviceId>")),
                  Reason::soap_invalid_envelope, "unexpected");
}

TEST_P(IntakeEnvelope, UnknownDocumentsByQualifiedNameOnly) {
  Envelope other("voucher-application");
  xmlNode* data = other.data();
  xmlNode* document = other.document();
  xmlUnlinkNode(document);
  xmlFreeNode(document);
  xmlNewChild(data, xmlNewNs(data, xml::as_xml("urn:kz:enbek:nqs:voucher:1"), xml::as_xml("v")),
              xml::as_xml("VoucherTransfer"), nullptr);
  expect_rejected(
      run(other.bytes()), Reason::soap_unknown_document,
      "{urn:kz:enbek:nqs:voucher:1}VoucherTransfer is not a document this adapter accepts");
  // The right local name in another namespace is another document.
  expect_rejected(run(replace(signed_application(), "xmlns:v=\"urn:kz:enbek:nqs:voucher:1\"",
                              "xmlns:v=\"urn:kz:enbek:nqs:voucher:2\"")),
                  Reason::soap_unknown_document, "{urn:kz:enbek:nqs:voucher:2}VoucherApplication");
}

TEST_P(IntakeSchema, EachDocumentIsValidatedStrictly) {
  auto invalid = [](const std::string& field, const std::string& value, const std::string& detail) {
    Envelope envelope("voucher-application");
    envelope.set_text(field, value);
    expect_rejected(run(envelope.sign("individual-sign").bytes()), Reason::schema_invalid, detail);
  };
  invalid("IIN", "85010130012", "IIN");
  invalid("QualificationLevel", "9", "QualificationLevel");
  invalid("Profile", "artistic", "Profile");
  invalid("SubmittedAt", "2025-09-01T10:15:00", "SubmittedAt");
  invalid("BankAccount", "KZ86125KZT500410010", "BankAccount");
  invalid("PersonalData", "false", "PersonalData");
  invalid("ApplicationId", "not-a-uuid", "ApplicationId");
  // Digits are ASCII digits: fullwidth and Arabic-Indic ones match \d, never [0-9].
  invalid("IIN", "８５０１０１３００１２４", "IIN");
  invalid("Region", "٧٥٠٠٠٠٠٠٠", "Region");
  invalid("Phone", "+7７０１２３４５６７８", "Phone");
  invalid("SubmittedAt", "２０２５-09-01T10:15:00+05:00", "SubmittedAt");

  Envelope act("service-act");
  act.set_text("Total", "12500.755");
  expect_rejected(run(act.sign("center-head").bytes()), Reason::schema_invalid, "Total");
  Envelope missing("sick-leave-notice");
  xmlNode* sheet = missing.field("SheetNumber");
  xmlUnlinkNode(sheet);
  xmlFreeNode(sheet);
  expect_rejected(run(missing.sign("individual-sign").bytes()), Reason::schema_invalid,
                  "SheetNumber");
}

// E-mail is a mandatory field of the application form (appendix 1; audit point 13).
TEST_P(IntakeSchema, Appendix1_AnApplicationWithoutEmailIsRefused) {
  Envelope no_email("voucher-application");
  xmlNode* email = no_email.field("Email");
  ASSERT_NE(email, nullptr);
  xmlUnlinkNode(email);
  xmlFreeNode(email);
  expect_rejected(run(no_email.sign("individual-sign").bytes()), Reason::schema_invalid, "Email");
}

// --- signature.*
// -------------------------------------------------------------------------------------

TEST_P(IntakeSignature, MissingSignature) {
  expect_rejected(run(Envelope("voucher-application").bytes()), Reason::signature_missing,
                  "VoucherApplication carries no enveloped ds:Signature");
}

TEST_P(IntakeSignature, AlteredAfterSigning) {
  expect_rejected(run(replace(signed_application(), "Сварщик", "Инженер")),
                  Reason::signature_invalid, "does not match: it was changed after signing");
}

// What a signature covers is XML-DSig's (and xmlsec's) node set, made by the adapter itself:
// the signed element without comments (a reference by Id), without the ds:Signature
// (enveloped-signature), with the namespaces in scope that the canonicalization renders.
std::string signed_with(const std::string& c14n, const std::string& reference_c14n = "") {
  xmldsig::SigningOptions options;
  options.c14n = c14n;
  options.reference_c14n = reference_c14n;
  return Envelope("voucher-application").sign("individual-sign", options).bytes();
}

TEST_P(IntakeSignature, CommentsAreNotSignedContentOfAReferenceById) {
  const auto bytes = signed_with(std::string(xmldsig::kInclusiveC14n),
                                 std::string(xmldsig::kInclusiveC14nWithComments));
  expect_accepted(run(replace(bytes, "<v:IIN>", "<!-- added after signing --><v:IIN>")));
  expect_rejected(run(replace(bytes, "<v:IIN>", "\n<v:IIN>")), Reason::signature_invalid,
                  "does not match: it was changed after signing");
}

TEST_P(IntakeSignature, InclusiveC14nSignsTheNamespacesInScopeExclusiveOnlyThoseUsed) {
  const std::string extra = "<soap:Envelope xmlns:extra=\"urn:extra\"";
  expect_accepted(
      run(replace(signed_with(std::string(xmldsig::kExclusiveC14n)), "<soap:Envelope", extra)));
  expect_rejected(
      run(replace(signed_with(std::string(xmldsig::kInclusiveC14n)), "<soap:Envelope", extra)),
      Reason::signature_invalid, "does not match: it was changed after signing");
}

TEST_P(IntakeSignature, TheSignatureIsLeftOutOfTheDigestAndSignedInfoIsWhatIsSigned) {
  const auto bytes = signed_application();
  expect_accepted(run(replace(bytes, "<ds:X509Data>", "\n<ds:X509Data>")));
  expect_rejected(run(replace(bytes, "<ds:SignatureMethod", "\n<ds:SignatureMethod")),
                  Reason::signature_invalid,
                  "the signature value does not verify with the signer certificate's key");
}

// Canonical XML refuses a document with a relative namespace URI (libxml2 checks each element it
// walks). The reference and ds:SignedInfo are rendered by walks from themselves alone; one declared
// outside them (above the document, in requestInfo beside it) is found by looking at every element
// before the reference's rendering.
TEST_P(IntakeSignature, ARelativeNamespaceUriAnywhereIsRefused) {
  const auto bytes = signed_application();
  for (const std::string at : {"<soap:Envelope", "<soap:Header", "<requestInfo", "<ds:Signature",
                               "<ds:SignedInfo", "<ds:KeyInfo"}) {
    SCOPED_TRACE(at);
    ASSERT_NE(bytes.find(at), std::string::npos);
    expect_rejected(run(replace(bytes, at, at + " xmlns:relative=\"not/absolute\"")),
                    Reason::signature_invalid, "cannot be canonicalized");
  }
}

TEST(IntakeRsa, SignedWithAnEcdsaKeyUnderAnRsaCertificate) {
  // The ECDSA key signs, the (trusted, same person) RSA certificate is presented.
  Envelope envelope("voucher-application");
  xmldsig::SigningOptions ecdsa;
  ecdsa.signature_method = xmldsig::kEcdsaSha256;
  envelope.sign("individual-ecdsa", ecdsa);
  auto& pki = test::TestPki::get();
  unsigned char* der = nullptr;
  const int length = i2d_X509(pki.certificate("individual-sign"), &der);
  std::string base64(static_cast<std::size_t>(4 * ((length + 2) / 3)) + 1, '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(base64.data()), der, length);
  OPENSSL_free(der);
  base64.resize(std::strlen(base64.c_str()));
  xmlNode* certificate = test::Envelope::find_in(envelope.signature(), "X509Certificate");
  xmlNodeSetContent(certificate, xml::as_xml(base64.c_str()));
  expect_rejected(run(envelope.bytes()), Reason::signature_invalid, "could not be verified");
}

TEST_P(IntakeSignature, SignatureValueThatDoesNotVerify) {
  // The digest still matches; only the signature value over SignedInfo is wrong.
  const auto bytes = signed_application();
  std::smatch value;
  ASSERT_TRUE(std::regex_search(bytes, value,
                                std::regex("<ds:SignatureValue>([^<]+)</ds:SignatureValue>")));
  std::string forged = value[1].str();
  forged[10] = forged[10] == 'A' ? 'B' : 'A';
  expect_rejected(run(replace(bytes, value[1].str(), forged)), Reason::signature_invalid,
                  "signature value does not verify");
}

TEST(IntakeRsa, WeakKeysAreRefused) {
  expect_rejected(run(Envelope("voucher-application").sign("individual-rsa1024").bytes()),
                  Reason::certificate_untrusted,
                  "has an RSA key of 1024 bits; trust.min_rsa_bits is 2048");
  xmldsig::SigningOptions ecdsa;
  ecdsa.signature_method = xmldsig::kEcdsaSha256;
  const auto k1 = Envelope("voucher-application").sign("individual-ecdsa-k1", ecdsa).bytes();
  expect_rejected(run(k1), Reason::certificate_untrusted,
                  "has an EC key on the curve secp256k1, not in trust.ec_curves");
  // Configuration decides.
  test::IntakeOptions options;
  options.min_rsa_bits = 1024;
  options.ec_curves = {"P-256", "secp256k1"};
  auto lenient = make_intake(options);
  expect_accepted(lenient->process(
      Envelope("voucher-application").sign("individual-rsa1024").bytes(), test_now()));
  expect_accepted(lenient->process(k1, test_now()));
}

TEST(IntakeRsa, AlgorithmsOutsideTheAllowList) {
  xmldsig::SigningOptions sha1;
  sha1.signature_method = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
  expect_rejected(run(Envelope("voucher-application").sign("individual-sign", sha1).bytes()),
                  Reason::signature_algorithm_not_allowed,
                  "signature method 'http://www.w3.org/2000/09/xmldsig#rsa-sha1'");
  xmldsig::SigningOptions sha1_digest;
  sha1_digest.digest_method = "http://www.w3.org/2000/09/xmldsig#sha1";
  expect_rejected(run(Envelope("voucher-application").sign("individual-sign", sha1_digest).bytes()),
                  Reason::signature_algorithm_not_allowed, "digest method");
  // The same signature is accepted once configuration allows it.
  test::IntakeOptions options;
  options.allowed_algorithms.push_back("http://www.w3.org/2000/09/xmldsig#rsa-sha1");
  auto permissive = make_intake(options);
  expect_accepted(permissive->process(
      Envelope("voucher-application").sign("individual-sign", sha1).bytes(), test_now()));
  // ECDSA can be switched off.
  options.allowed_algorithms = {std::string(xmldsig::kRsaSha256), std::string(xmldsig::kSha256)};
  auto rsa_only = make_intake(options);
  xmldsig::SigningOptions ecdsa;
  ecdsa.signature_method = xmldsig::kEcdsaSha256;
  expect_rejected(
      rsa_only->process(Envelope("voucher-application").sign("individual-ecdsa", ecdsa).bytes(),
                        test_now()),
      Reason::signature_algorithm_not_allowed, "ecdsa-sha256");
}

// --- the signature-wrapping family: signature.reference_mismatch
// ------------------------------------

TEST_P(IntakeWrapping, ReferenceToAnotherId) {
  // The document's Id changed after signing: the reference no longer points at it.
  expect_rejected(run(replace(signed_application(), "Id=\"app-1\"", "Id=\"app-2\"")),
                  Reason::signature_reference_mismatch, "points at '#app-1', not at");
}

TEST_P(IntakeWrapping, SignedElementMovedToTheHeader) {
  // The original signed application goes to the header; a forged one, with the same Id and the
  // same signature, takes its place under data.
  Envelope envelope("voucher-application");
  envelope.sign("individual-sign");
  xmlNode* original = envelope.document();
  xmlNode* forged = xmlCopyNode(original, 1);
  xmlNode* header = xmlDocGetRootElement(envelope.doc())->children;
  while (header->type != XML_ELEMENT_NODE)
    header = header->next;
  xmlUnlinkNode(original);
  xmlAddChild(header, original);
  xmlAddChild(envelope.data(), forged);
  xmlNodeSetContent(test::Envelope::find_in(forged, "IIN"), xml::as_xml("900515401230"));
  expect_rejected(run(envelope.bytes()), Reason::signature_reference_mismatch,
                  "the Id 'app-1' is given on");
}

TEST_P(IntakeWrapping, SignedElementMovedIntoADsObject) {
  Envelope envelope("voucher-application");
  envelope.sign("individual-sign");
  xmlNode* copy = xmlCopyNode(envelope.document(), 1);
  xmlNode* object =
      xmlNewChild(envelope.signature(), envelope.signature()->ns, xml::as_xml("Object"), nullptr);
  xmlAddChild(object, copy);
  expect_rejected(run(envelope.bytes()), Reason::signature_reference_mismatch, "is given on");
  // A ds:Object without a copy is refused too: the profile has no place for one.
  Envelope plain("voucher-application");
  plain.sign("individual-sign");
  xmlNewChild(plain.signature(), plain.signature()->ns, xml::as_xml("Object"), nullptr);
  expect_rejected(run(plain.bytes()), Reason::signature_reference_mismatch,
                  "xmldsig#}Object (line");
}

TEST_P(IntakeWrapping, SignedElementAsASibling) {
  Envelope envelope("voucher-application");
  envelope.sign("individual-sign");
  xmlAddChild(envelope.data(), xmlCopyNode(envelope.document(), 1));
  expect_rejected(run(envelope.bytes()), Reason::signature_reference_mismatch, "is given on");
}

TEST_P(IntakeWrapping, XmlIdTargets) {
  expect_rejected(
      run(replace(signed_application(), "<soap:Header/>",
                  "<soap:Header><x:y xmlns:x=\"urn:x\" xml:id=\"app-1\"/></soap:Header>")),
      Reason::signature_reference_mismatch, "xml:id");
}

TEST_P(IntakeWrapping, ReferenceToAnInnerElement) {
  // The signature covers only its own KeyInfo (an element inside the document), not the document.
  Envelope envelope("voucher-application");
  envelope.sign("individual-sign");
  xmlNode* key_info = xml::child_element(envelope.signature(), xmldsig::kXmlDsigNs, "KeyInfo");
  xmlSetProp(key_info, xml::as_xml("Id"), xml::as_xml("inner"));
  auto bytes = replace(envelope.bytes(), "URI=\"#app-1\"", "URI=\"#inner\"");
  expect_rejected(run(bytes), Reason::signature_reference_mismatch, "points at '#inner'");
  // The whole document (URI="") is not the document element either.
  expect_rejected(run(replace(signed_application(), "URI=\"#app-1\"", "URI=\"\"")),
                  Reason::signature_reference_mismatch, "points at ''");
}

TEST_P(IntakeWrapping, ExtraReferencesSignaturesAndTransforms) {
  const auto bytes = signed_application();
  std::smatch reference;
  ASSERT_TRUE(
      std::regex_search(bytes, reference, std::regex("<ds:Reference[\\s\\S]*?</ds:Reference>")));
  expect_rejected(run(replace(bytes, reference.str(), reference.str() + reference.str())),
                  Reason::signature_reference_mismatch, "2 ds:Reference elements");
  // An XPath transform could make the reference cover less than the document.
  expect_rejected(
      run(replace(bytes, "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>",
                  "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\">"
                  "<ds:XPath>false()</ds:XPath></ds:Transform>"
                  "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>")),
      Reason::signature_reference_mismatch, "transforms are [");
  // Two signatures on the document.
  Envelope twice("voucher-application");
  twice.sign("individual-sign");
  xmlAddChild(twice.document(), xmlCopyNode(twice.signature(), 1));
  expect_rejected(run(twice.bytes()), Reason::signature_reference_mismatch,
                  "has more than one ds:Signature");
  // A stray signature elsewhere in the body.
  Envelope stray("voucher-application");
  stray.sign("individual-sign");
  xmlAddChild(stray.data()->parent, xmlCopyNode(stray.signature(), 1));
  expect_rejected(run(stray.bytes()), Reason::signature_reference_mismatch,
                  "is not the last child");
}

// --- certificate.*
// ---------------------------------------------------------------------------------

TEST_P(IntakeCertificate, ForeignCaWithTheSameNameIsUntrusted) {
  expect_rejected(run(Envelope("voucher-application").sign("individual-foreign").bytes()),
                  Reason::certificate_untrusted, "does not chain to a trusted anchor");
  // Even when it brings its own same-name issuing CA along.
  expect_rejected(run(Envelope("voucher-application")
                          .sign("individual-foreign", {}, {"foreign-issuing-ca"})
                          .bytes()),
                  Reason::certificate_untrusted, "does not chain to a trusted anchor");
}

TEST_P(IntakeCertificate, WithoutTheIssuersCrlRevocationCannotBeCheckedSoItFails) {
  test::IntakeOptions options;
  std::erase(options.crls, test::pki_name("issuing.crl.pem"));
  auto no_issuing_crl = make_intake(options);
  expect_rejected(no_issuing_crl->process(signed_application(), test_now()),
                  Reason::certificate_untrusted, "revocation of the signer certificate");
}

TEST_P(IntakeCertificate, NotACertificate) {
  std::smatch certificate;
  const auto bytes = signed_application();
  ASSERT_TRUE(std::regex_search(bytes, certificate, std::regex("<ds:X509Certificate>([^<]+)<")));
  expect_rejected(run(replace(bytes, certificate[1].str(), "AAAA")), Reason::certificate_untrusted,
                  "not a DER certificate");
  expect_rejected(run(replace(bytes, certificate[1].str(), "not base64!")),
                  Reason::certificate_untrusted, "not base64");
}

TEST_P(IntakeCertificate, Expired) {
  expect_rejected(
      run(Envelope("voucher-application").sign("individual-expired").bytes()),
      Reason::certificate_expired,
      "the signer certificate 'GN=IVAN,SN=IVANOV,serialNumber=IIN850101300124,CN=IVANOV "
      "IVAN,C=KZ' expired on 2021-01-01");
}

TEST_P(IntakeCertificate, Revoked) {
  expect_rejected(run(Envelope("voucher-application").sign("individual-revoked").bytes()),
                  Reason::certificate_revoked, "is revoked by its CA's CRL");
}

TEST_P(IntakeCertificate, AuthenticationKeysCannotSign) {
  expect_rejected(run(Envelope("voucher-application").sign("individual-auth").bytes()),
                  Reason::certificate_wrong_key_usage, "lacks nonRepudiation");
}

TEST_P(IntakeCertificate, HolderTypeAndRoleByExtendedKeyUsage) {
  // An individual's key cannot sign for a recognition center...
  expect_rejected(run(Envelope("recognition-center-decision").sign("individual-sign").bytes()),
                  Reason::certificate_wrong_key_usage,
                  "RecognitionCenterDecision must be signed with a legal entity's key");
  // ...nor a legal entity's key for an applicant...
  expect_rejected(run(Envelope("voucher-application").sign("center-head").bytes()),
                  Reason::certificate_wrong_key_usage, "must be signed with an individual's key");
  // ...and an employee without signing rights cannot sign the center's act.
  expect_rejected(run(Envelope("service-act").sign("center-employee").bytes()),
                  Reason::certificate_wrong_key_usage, "has no role that may sign ServiceAct");
}

// --- signer.mismatch and domain.*
// -------------------------------------------------------------------

TEST_P(IntakeSigner, TheSignerMustBeThePersonTheDocumentNames) {
  Envelope envelope("voucher-application");
  envelope.set_text("IIN", "900515401230");  // another person, a valid IIN
  expect_rejected(run(envelope.sign("individual-sign").bytes()), Reason::signer_mismatch,
                  "signed by IIN 850101300124 but applicant.iin names 900515401230");
  Envelope act("service-act");
  xmlNodeSetContent(test::Envelope::find_in(act.field("Executor"), "BIN"),
                    xml::as_xml("140450600708"));
  expect_rejected(run(act.sign("center-head").bytes()), Reason::signer_mismatch,
                  "signed by BIN 120340501232 but executor.bin names 140450600708");
}

TEST_P(IntakeDomain, InvalidIdentifiers) {
  Envelope iin("voucher-application");
  iin.set_text("IIN", "850101300125");
  expect_rejected(run(iin.sign("individual-sign").bytes()), Reason::domain_invalid_identifier,
                  "applicant.iin: '850101300125' fails its check digit (expected 4, found 5)");
  Envelope iban("voucher-application");
  iban.set_text("BankAccount", "KZ87125KZT5004100100");
  expect_rejected(run(iban.sign("individual-sign").bytes()), Reason::domain_invalid_identifier,
                  "bankAccount: 'KZ87125KZT5004100100' fails the IBAN mod-97 check");
  Envelope certificate("recognition-outcome");
  certificate.set_text("CertificateNumber", "25110-72120001-3-311325-0042-00000117");
  expect_rejected(run(certificate.sign("center-head").bytes()), Reason::domain_invalid_identifier,
                  "exam date 311325 is not a date DDMMYY");
}

TEST_P(IntakeDomain, StrictIdentifiersCanBeRelaxedForCheckDigitsOnly) {
  test::IntakeOptions options;
  options.strict_identifiers = false;
  auto relaxed = make_intake(options);
  Envelope center("voucher-application");
  center.set_text("BIN", "120340501233");  // the chosen center's BIN with a wrong check digit
  expect_accepted(relaxed->process(center.sign("individual-sign").bytes(), test_now()));
  Envelope iban("voucher-application");
  iban.set_text("BankAccount", "KZ87125KZT5004100100");
  expect_rejected(relaxed->process(iban.sign("individual-sign").bytes(), test_now()),
                  Reason::domain_invalid_identifier, "IBAN");
}

TEST_P(IntakeDomain, InconsistentDocuments) {
  Envelope amount("service-act");
  amount.set_text("Amount", "5000.51");
  expect_rejected(run(amount.sign("center-head").bytes()), Reason::domain_inconsistent,
                  "lines[0]: amount 500051 tiyn is not quantity 1 x unit price 500050 tiyn");
  Envelope total("service-act");
  total.set_text("Total", "12500.74");
  expect_rejected(run(total.sign("center-head").bytes()), Reason::domain_inconsistent,
                  "total 1250074 tiyn is not the sum of the amounts of the lines, 1250075 tiyn");
  Envelope sick("sick-leave-notice");
  sick.set_text("To", "2025-09-19");
  expect_rejected(run(sick.sign("individual-sign").bytes()), Reason::domain_inconsistent,
                  "to (2025-09-19) is before from (2025-09-20)");
  Envelope decision("recognition-center-decision");
  decision.set_text("Decision", "rejected");
  expect_rejected(run(decision.sign("center-head").bytes()), Reason::domain_inconsistent,
                  "reason is required when decision is rejected");
  Envelope outcome("recognition-outcome");
  xmlNode* number = outcome.field("CertificateNumber");
  xmlUnlinkNode(number);
  xmlFreeNode(number);
  expect_rejected(run(outcome.sign("center-head").bytes()), Reason::domain_inconsistent,
                  "certificateNumber is required when result is passed");
}

// --- the transport signature (soap:Header/wsse:Security over soap:Body)
// -----------------------------

std::string transport_signed(const std::string& transport_signer = "platform-transport") {
  return Envelope("voucher-application")
      .sign("individual-sign")
      .sign_transport(transport_signer)
      .bytes();
}

TEST_P(IntakeTransport, VerifiedWhenPresentRequiredWhenConfigured) {
  const auto bytes = transport_signed();
  EXPECT_NE(bytes.find("wsse:KeyIdentifier"), std::string::npos);
  expect_accepted(run(bytes));
  test::IntakeOptions options;
  options.require_transport_signature = true;
  auto strict = make_intake(options);
  expect_accepted(strict->process(bytes, test_now()));
  expect_rejected(strict->process(signed_application(), test_now()), Reason::signature_missing,
                  "intake.require_transport_signature is set");
}

TEST_P(IntakeTransport, ABodyChangedAfterTheBusSignedItIsRefused) {
  // The document signature still holds (its element is unchanged); the body around it is not.
  const auto bytes = replace(transport_signed(), "<serviceId>NQS_VOUCHER</serviceId>",
                             "<serviceId>OTHER</serviceId>");
  expect_rejected(run(bytes), Reason::signature_invalid, "transport signature: the digest of");
}

TEST_P(IntakeTransport, TheCertificateMustBeTheConfiguredSenders) {
  // The applicant's own (trusted) key is not the platform's.
  test::IntakeOptions options;
  options.require_transport_signature = true;
  auto strict = make_intake(options);
  expect_rejected(strict->process(transport_signed("center-head"), test_now()),
                  Reason::signer_mismatch, "is not sender 'nqs-platform' (BIN 140450600708)");
  options.transport_senders = {{"someone-else", "140450600708"}};
  auto unknown_sender = make_intake(options);
  expect_rejected(unknown_sender->process(transport_signed(), test_now()), Reason::signer_mismatch,
                  "sender 'nqs-platform' is not in intake.transport_senders");
  expect_rejected(run(transport_signed("individual-revoked")), Reason::certificate_revoked,
                  "transport signature: ");
}

TEST_P(IntakeTransport, ProfileViolations) {
  auto bytes = transport_signed();
  expect_rejected(run(replace(bytes, "URI=\"#body\"", "URI=\"#app-1\"")),
                  Reason::signature_reference_mismatch, "not at soap:Body '#body'");
  Envelope no_id("voucher-application");
  no_id.sign("individual-sign").sign_transport("platform-transport");
  auto without_id = replace(no_id.bytes(), "wsu:Id=\"body\"", "");
  expect_rejected(run(without_id), Reason::signature_reference_mismatch, "wsu:Id on soap:Body");
}

TEST_P(IntakeDescribe, InspectJsonShape) {
  const auto accepted = describe(run(signed_application()));
  EXPECT_EQ(accepted.at("outcome").as_string(), "accepted");
  EXPECT_TRUE(accepted.at("reason").is_null());
  EXPECT_EQ(accepted.at("documentType").as_string(), "VoucherApplication");
  EXPECT_EQ(accepted.at("signer").at("iin").as_string(), "850101300124");
  EXPECT_TRUE(accepted.at("signer").at("bin").is_null());
  EXPECT_EQ(accepted.at("command").at("type").as_string(), "SubmitVoucherApplication");
  const auto rejected =
      describe(run(Envelope("voucher-application").sign("individual-revoked").bytes()));
  EXPECT_EQ(rejected.at("outcome").as_string(), "rejected");
  EXPECT_EQ(rejected.at("reason").as_string(), "certificate.revoked");
  EXPECT_EQ(rejected.at("documentType").as_string(), "VoucherApplication");
  EXPECT_TRUE(rejected.at("command").is_null());
}

// --- GOST only
// ------------------------------------------------------------------------------------

TEST(IntakeGost, LegalEntitiesMaySignWithGost34310Keys) {
  for (const char* fixture :
       {"recognition-center-decision", "recognition-outcome", "service-act"}) {
    const auto bytes = Envelope(fixture).sign_exactly("gost-center-head-2004").bytes();
    EXPECT_THAT(bytes, HasSubstr(std::string(gost::kGost34310Uri)));
    expect_accepted(run(bytes));
  }
}

TEST(IntakeGost, AChainMayMixRsaAndGostCas) {
  // An RSA root over a GOST issuing CA over a GOST signer.
  test::IntakeOptions options;
  options.anchors = {"gost-mixed-root-ca.pem", "gost-mixed-issuing-ca.pem"};
  options.crls = {"gost-mixed-root.crl.pem", "gost-mixed-issuing.crl.pem"};
  auto mixed = make_intake(options);
  const auto bytes =
      Envelope("voucher-application").sign_exactly("gost-mixed-individual-sign").bytes();
  expect_accepted(mixed->process(bytes, test_now()));
  // Every CA's CRL is needed, the GOST-signed one too.
  options.crls = {"gost-mixed-root.crl.pem"};
  expect_rejected(make_intake(options)->process(bytes, test_now()), Reason::certificate_untrusted,
                  "revocation of the signer certificate");
  // And the GOST hierarchy's anchors do not vouch for it.
  expect_rejected(run(bytes), Reason::certificate_untrusted, "does not chain to a trusted anchor");
}

TEST(IntakeGost, AKeyOfAnotherGostAlgorithmThanTheSignatureMethodIsRefused) {
  // Signed with the 34.310-2004 key and its method; the 2015/512 certificate of the same center
  // is presented instead.
  Envelope envelope("service-act");
  envelope.sign_exactly("gost-center-head-2004");
  unsigned char* der = nullptr;
  const int length = i2d_X509(test::TestPki::get().certificate("gost-center-head"), &der);
  std::string base64(static_cast<std::size_t>(4 * ((length + 2) / 3)) + 1, '\0');
  EVP_EncodeBlock(reinterpret_cast<unsigned char*>(base64.data()), der, length);
  OPENSSL_free(der);
  base64.resize(std::strlen(base64.c_str()));
  xmlNodeSetContent(test::Envelope::find_in(envelope.signature(), "X509Certificate"),
                    xml::as_xml(base64.c_str()));
  expect_rejected(run(envelope.bytes()), Reason::signature_invalid, "could not be verified");
}

TEST(IntakeGost, GostMethodsCanBeSwitchedOff) {
  test::IntakeOptions options;
  options.allowed_algorithms = {std::string(xmldsig::kRsaSha256), std::string(xmldsig::kSha256)};
  auto rsa_only = make_intake(options);
  expect_rejected(
      rsa_only->process(
          Envelope("voucher-application").sign_exactly("gost-individual-sign").bytes(), test_now()),
      Reason::signature_algorithm_not_allowed,
      std::string(gost::kGost2015_512Uri) + "' is not in trust.allowed_algorithms");
}

TEST(IntakeReasons, CodesRoundTrip) {
  for (auto reason : {Reason::xml_malformed, Reason::signature_reference_mismatch,
                      Reason::domain_inconsistent, Reason::json_invalid}) {
    EXPECT_EQ(reason_from_code(code(reason)), reason);
  }
  EXPECT_EQ(code(Reason::certificate_wrong_key_usage), "certificate.wrong_key_usage");
  EXPECT_FALSE(reason_from_code("signature.bogus").has_value());
}

// --- the evidence archive checked again (issue 18) ----------------------------------------------

// The certificates a message presents, as the archive records them: PEM, signer first.
std::string presented_chain(const std::string& bytes) {
  std::string pem;
  const std::regex certificate("<ds:X509Certificate>([^<]+)<");
  for (auto match = std::sregex_iterator(bytes.begin(), bytes.end(), certificate);
       match != std::sregex_iterator(); ++match) {
    pem +=
        revocation::pem_certificate(xmldsig::detail::decode_base64((*match)[1].str()).value_or(""));
  }
  return pem;
}

std::optional<std::string> archived_problem(const std::string& bytes, const std::string& chain,
                                            Instant at) {
  const auto& intake = default_intake();
  auto problem = intake.check_archived(bytes, chain, at, *intake.trust()->without_revocation());
  if (!problem) return std::nullopt;
  return std::string(code(problem->reason)) + ": " + problem->detail;
}

TEST_P(IntakeArchived, AnAcceptedDocumentVerifiesAgainWithTheChainItWasAcceptedOn) {
  const auto bytes = signed_application();
  const auto accepted = expect_accepted(run(bytes));
  EXPECT_EQ(accepted.evidence.chain_pem, presented_chain(bytes));
  EXPECT_EQ(archived_problem(bytes, accepted.evidence.chain_pem, accepted.evidence.verified_at),
            std::nullopt);
  // One changed character of the document, or another chain than the one recorded, fails.
  EXPECT_THAT(archived_problem(replace(bytes, "Сварщик", "Инженер"), accepted.evidence.chain_pem,
                               accepted.evidence.verified_at),
              ::testing::Optional(HasSubstr("signature.invalid")));
  const auto other = Envelope("service-act").sign("center-head").bytes();
  EXPECT_THAT(archived_problem(bytes, presented_chain(other), accepted.evidence.verified_at),
              ::testing::Optional(HasSubstr("not the ones recorded with it")));
}

// The record names the signer certificate by its serial and issuer, and the issuer's CRL it was
// judged on; a signer's third document, answered from the cache of verified chains (which keeps
// those names, not the certificate; a chain joins it when verified a second time), says the same.
TEST_P(IntakeArchived, TheEvidenceNamesTheSignersSerialAndIssuerFromTheCacheToo) {
  const auto bytes = signed_application();
  const std::regex first("<ds:X509Certificate>([^<]+)<");
  std::smatch match;
  ASSERT_TRUE(std::regex_search(bytes, match, first));
  const auto leaf =
      xmldsig::parse_certificate_der(xmldsig::detail::decode_base64(match[1].str()).value_or(""));
  ASSERT_TRUE(leaf);
  const auto serial = revocation::serial_hex(leaf.get());
  const auto issuer = revocation::name_text(X509_get_issuer_name(leaf.get()));
  ASSERT_NE(issuer, revocation::name_text(X509_get_subject_name(leaf.get())));
  auto intake = make_intake();
  // Verified, verified again (and cached then), taken from the cache.
  std::size_t cached_before = 0;
  for (const char* when : {"verified", "verified again", "cached"}) {
    const auto accepted = expect_accepted(intake->process(bytes, test_now()));
    EXPECT_EQ(accepted.evidence.serial, serial) << when;
    EXPECT_EQ(accepted.evidence.issuer, issuer) << when;
    // The issuer's CRL, and only that one of the store's CRLs.
    const auto crls = boost::json::parse(accepted.evidence.revocation_json).as_array();
    ASSERT_EQ(crls.size(), 1U) << accepted.evidence.revocation_json;
    EXPECT_EQ(crls[0].at("issuer").as_string(), issuer) << when;
    EXPECT_TRUE(crls[0].at("thisUpdate").is_string()) << when;
    EXPECT_TRUE(crls[0].at("nextUpdate").is_string()) << when;
    EXPECT_FALSE(crls[0].at("delta").as_bool()) << when;
    EXPECT_EQ(cached_before, std::string_view(when) == "cached" ? 1U : 0U) << when;
    cached_before = intake->trust()->cached();
  }
  EXPECT_EQ(cached_before, 1U);
}

// Judged at the instant recorded, not today: a certificate that has expired since still held
// then, and one that had not yet begun did not. Revocation is not asked again: the record names
// the CRL it was judged on, and a CRL current then is not current years later.
TEST_P(IntakeArchived, TheChainIsJudgedAtTheRecordedInstantWithoutRevocation) {
  const auto expired = Envelope("voucher-application").sign("individual-expired").bytes();
  const auto chain = presented_chain(expired);
  EXPECT_EQ(archived_problem(expired, chain, *parse_instant("2020-06-01T09:00:00Z")), std::nullopt);
  EXPECT_THAT(archived_problem(expired, chain, test_now()),
              ::testing::Optional(HasSubstr("certificate.expired")));
  EXPECT_THAT(archived_problem(expired, chain, *parse_instant("2019-06-01T09:00:00Z")),
              ::testing::Optional(HasSubstr("certificate.")));
  const auto revoked = Envelope("voucher-application").sign("individual-revoked").bytes();
  EXPECT_EQ(archived_problem(revoked, presented_chain(revoked), test_now()), std::nullopt);
  const auto foreign = Envelope("voucher-application").sign("individual-foreign").bytes();
  EXPECT_THAT(archived_problem(foreign, presented_chain(foreign), test_now()),
              ::testing::Optional(HasSubstr("does not chain to a trusted anchor")));
}

}  // namespace
}  // namespace nqs::intake
