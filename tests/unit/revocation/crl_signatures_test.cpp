// CRLs remember the keys their signature verified with (revocation/crl_signatures.hpp): a new
// signer's chain is checked against a national CA's CRL without a digest over all of it, and
// nothing else changes: another key or an altered CRL is refused, and every serial is found as
// OpenSSL's own look-up finds it.
#include "revocation/crl_signatures.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "revocation/x509_facts.hpp"
#include "revocation_support.hpp"
#include "xmldsig/trust_store.hpp"

namespace nqs {
namespace {

std::string der_of_crl(X509_CRL* crl) {
  return revocation::crl_to_der(crl);
}

class CrlSignatures : public ::testing::Test {
 protected:
  CrlSignatures() {
    root_ = test::root("/C=KZ/O=NQS CRL Test/CN=Root CA", test::rsa_key());
    auto key = test::rsa_key();
    issuing_ = {
        test::issue("/C=KZ/O=NQS CRL Test/CN=Issuing CA", key, "ca", root_.certificate, root_.key),
        key,
        {}};
  }

  test::Certificate leaf(const std::string& name) {
    return test::issue("/C=KZ/CN=" + name + "/serialNumber=IIN850101300124", signer_key_,
                       "sign_individual", issuing_.certificate, issuing_.key);
  }

  // The issuing CA's CRL with `revoked` and `unissued` entries more, parsed as the adapter
  // parses CRLs.
  std::shared_ptr<X509_CRL> issuing_crl(std::vector<test::Certificate> revoked, long unissued = 0,
                                        long reason = CRL_REASON_KEY_COMPROMISE) {
    test::CrlOptions options;
    options.revoked = std::move(revoked);
    options.unissued_revoked = unissued;
    options.reason = reason;
    return revocation::parse_crl(test::crl_of(issuing_, options));
  }

  test::Key signer_key_ = test::rsa_key();
  test::Ca root_;
  test::Ca issuing_;
};

TEST_F(CrlSignatures, ACrlVerifiesWithItsIssuersKeyAndWithNoOtherBeforeOrAfter) {
  const auto crl = issuing_crl({}, 10);
  ASSERT_TRUE(crl);
  EVP_PKEY* issuer = X509_get0_pubkey(issuing_.certificate.get());
  EVP_PKEY* other = X509_get0_pubkey(root_.certificate.get());
  EXPECT_NE(X509_CRL_verify(crl.get(), other), 1);
  const auto before = revocation::crl_signatures_remembered();
  EXPECT_EQ(X509_CRL_verify(crl.get(), issuer), 1);
  EXPECT_EQ(revocation::crl_signatures_remembered(), before);  // verified in full, the first time
  EXPECT_EQ(X509_CRL_verify(crl.get(), issuer), 1);
  EXPECT_EQ(revocation::crl_signatures_remembered(), before + 1);
  EXPECT_NE(X509_CRL_verify(crl.get(), other), 1);
  EXPECT_NE(X509_CRL_verify(crl.get(), signer_key_.get()), 1);
}

TEST_F(CrlSignatures, ACopyAlteredAfterSigningIsRefusedThoughTheOriginalVerified) {
  const auto original = issuing_crl({}, 100);
  ASSERT_TRUE(original);
  EVP_PKEY* issuer = X509_get0_pubkey(issuing_.certificate.get());
  ASSERT_EQ(X509_CRL_verify(original.get(), issuer), 1);
  ASSERT_EQ(X509_CRL_verify(original.get(), issuer), 1);
  // The last byte of one entry's serial number (2^40 + 50 * 7919): another serial, same length.
  auto der = der_of_crl(original.get());
  ASN1_INTEGER* serial = ASN1_INTEGER_new();
  ASN1_INTEGER_set_int64(serial, (std::int64_t{1} << 40) + 50 * 7919);
  unsigned char* encoded = nullptr;
  const int length = i2d_ASN1_INTEGER(serial, &encoded);
  const std::string needle(reinterpret_cast<char*>(encoded), static_cast<std::size_t>(length));
  OPENSSL_free(encoded);
  ASN1_INTEGER_free(serial);
  const auto at = der.find(needle);
  ASSERT_NE(at, std::string::npos);
  der[at + needle.size() - 1] ^= 0x01;
  const auto altered = revocation::parse_crl(der);
  ASSERT_TRUE(altered);
  EXPECT_NE(X509_CRL_verify(altered.get(), issuer), 1);
  EXPECT_NE(X509_CRL_verify(altered.get(), issuer), 1);
  EXPECT_EQ(X509_CRL_verify(original.get(), issuer), 1);
}

TEST_F(CrlSignatures, EverySerialOfALargeCrlIsFoundAndNoOtherNorAnotherIssuers) {
  const auto revoked = leaf("REVOKED");
  const auto crl = issuing_crl({revoked}, 5000);
  ASSERT_TRUE(crl);
  ASN1_INTEGER* serial = ASN1_INTEGER_new();
  for (long i = 0; i < 5000; ++i) {
    ASN1_INTEGER_set_int64(serial, (std::int64_t{1} << 40) + i * 7919);
    X509_REVOKED* entry = nullptr;
    ASSERT_EQ(X509_CRL_get0_by_serial(crl.get(), &entry, serial), 1) << i;
    ASSERT_EQ(ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(entry), serial), 0);
    ASN1_INTEGER_set_int64(serial, (std::int64_t{1} << 40) + i * 7919 + 1);
    ASSERT_EQ(X509_CRL_get0_by_serial(crl.get(), nullptr, serial), 0) << i;
  }
  ASN1_INTEGER_free(serial);
  EXPECT_EQ(X509_CRL_get0_by_cert(crl.get(), nullptr, revoked.get()), 1);
  EXPECT_EQ(X509_CRL_get0_by_cert(crl.get(), nullptr, leaf("NOT REVOKED").get()), 0);
  // The same serial from another CA is not the one this CRL revokes.
  auto foreign =
      test::issue("/C=KZ/CN=FOREIGN", signer_key_, "sign_individual", root_.certificate, root_.key);
  X509_set_serialNumber(foreign.get(), X509_get_serialNumber(revoked.get()));
  EXPECT_EQ(X509_CRL_get0_by_cert(crl.get(), nullptr, foreign.get()), 0);
}

TEST_F(CrlSignatures, ARemoveFromCrlEntryIsAnsweredAsOpenSslAnswersIt) {
  const auto removed = leaf("REMOVED");
  const auto crl = issuing_crl({removed}, 3, CRL_REASON_REMOVE_FROM_CRL);
  ASSERT_TRUE(crl);
  EXPECT_EQ(X509_CRL_get0_by_cert(crl.get(), nullptr, removed.get()), 2);
}

TEST_F(CrlSignatures, ANewSignersChainIsCheckedWithoutVerifyingItsCrlsAgain) {
  test::TempDir dir;
  const auto revoked = leaf("REVOKED");
  xmldsig::TrustSettings settings;
  settings.anchors = {dir.write(
      "anchors.pem", test::pem_of(root_.certificate) + test::pem_of(issuing_.certificate))};
  test::CrlOptions with_revoked;
  with_revoked.revoked = {revoked};
  with_revoked.unissued_revoked = 1000;
  settings.crls = {dir.write("root.crl.pem", test::crl_of(root_)),
                   dir.write("issuing.crl.pem", test::crl_of(issuing_, with_revoked))};
  std::vector<std::string> problems;
  const auto trust = xmldsig::TrustStore::load(settings, problems);
  ASSERT_TRUE(trust) << test::join(problems);
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const auto before = revocation::crl_signatures_remembered();
  for (const char* name : {"ONE", "TWO", "THREE"}) {
    const auto check = trust->verify(test::der_of(leaf(name)), {}, now);
    ASSERT_TRUE(std::holds_alternative<std::shared_ptr<const xmldsig::VerifiedCertificate>>(check))
        << std::get<Rejection>(check).detail;
  }
  // Each chain consults both CRLs (the issuing CA's status in the root's, the signer's in the
  // issuing CA's), verified once when the trust store loaded them.
  EXPECT_GE(revocation::crl_signatures_remembered(), before + 6);
  const auto check = trust->verify(test::der_of(revoked), {}, now);
  ASSERT_TRUE(std::holds_alternative<Rejection>(check));
  EXPECT_EQ(std::get<Rejection>(check).reason, Reason::certificate_revoked);
}

}  // namespace
}  // namespace nqs
