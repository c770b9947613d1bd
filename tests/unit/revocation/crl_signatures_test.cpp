// CRLs remember the keys their signature verified with (revocation/crl_signatures.hpp): a new
// signer's chain is checked against a national CA's CRL without a digest over all of it, and
// nothing else changes: another key or an altered CRL is refused, and every serial is found as
// OpenSSL's own look-up finds it.
#include "revocation/crl_signatures.hpp"

#include <gtest/gtest.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "common/files.hpp"
#include "gost/openssl_keys.hpp"
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

  // A trust store of the root and the issuing CA, with the root's CRL and `issuing_crls` (the
  // issuing CA's, made with these options), written to `dir`.
  std::shared_ptr<xmldsig::TrustStore> trust_with(
      const test::TempDir& dir, const std::vector<test::CrlOptions>& issuing_crls) {
    xmldsig::TrustSettings settings;
    settings.anchors = {dir.write(
        "anchors.pem", test::pem_of(root_.certificate) + test::pem_of(issuing_.certificate))};
    settings.crls = {dir.write("root.crl.pem", test::crl_of(root_))};
    for (std::size_t i = 0; i < issuing_crls.size(); ++i) {
      settings.crls.push_back(dir.write("issuing-" + std::to_string(i) + ".crl.pem",
                                        test::crl_of(issuing_, issuing_crls[i])));
    }
    std::vector<std::string> problems;
    auto trust = xmldsig::TrustStore::load(settings, problems);
    EXPECT_TRUE(trust) << test::join(problems);
    return trust;
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

TEST_F(CrlSignatures, AnEqualKeyOfAnotherCertificateObjectIsRecognised) {
  const auto crl = issuing_crl({}, 10);
  ASSERT_TRUE(crl);
  // The issuing CA's certificate read again: the same key in another object, compared in full.
  const test::Certificate copy(X509_dup(issuing_.certificate.get()), X509_free);
  ASSERT_NE(X509_get0_pubkey(copy.get()), X509_get0_pubkey(issuing_.certificate.get()));
  ASSERT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(issuing_.certificate.get())), 1);
  const auto before = revocation::crl_signatures_remembered();
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(copy.get())), 1);
  EXPECT_EQ(revocation::crl_signatures_remembered(), before + 1);
}

TEST_F(CrlSignatures, AGostCrlIsRememberedByItsGostKeyAndNoOther) {
  gost::register_key_methods();
  const auto pki = std::filesystem::path(NQS_TEST_PKI_DIR);
  const auto crl = revocation::parse_crl(read_file_bytes(pki / "gost-issuing.crl.pem"));
  ASSERT_TRUE(crl);
  auto certificate = [&] {
    const auto text = read_file_bytes(pki / "gost-issuing-ca.pem");
    BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
    test::Certificate read(PEM_read_bio_X509(bio, nullptr, nullptr, nullptr), X509_free);
    BIO_free(bio);
    return read;
  };
  const auto one = certificate();
  const auto two = certificate();
  ASSERT_TRUE(one && two);
  EXPECT_NE(X509_CRL_verify(crl.get(), X509_get0_pubkey(issuing_.certificate.get())), 1);
  ASSERT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(one.get())), 1);
  const auto before = revocation::crl_signatures_remembered();
  EXPECT_EQ(X509_CRL_verify(crl.get(), X509_get0_pubkey(two.get())), 1);
  EXPECT_EQ(revocation::crl_signatures_remembered(), before + 1);
  EXPECT_NE(X509_CRL_verify(crl.get(), X509_get0_pubkey(issuing_.certificate.get())), 1);
}

TEST_F(CrlSignatures, AnUnsortedCrlWithRepeatedAndNegativeSerialsIsReadAsOpenSslReadsIt) {
  const auto revoked = leaf("REVOKED");
  test::CrlOptions options;
  options.revoked = {revoked};
  options.serials = {900, -5, 17, 900, 3, 1'000'000'007, -5, 255, 256, 0, 65'535};
  options.sorted = false;
  const auto der = der_of_crl(revocation::parse_crl(test::crl_of(issuing_, options)).get());
  auto parse = [&] {
    const auto* at = reinterpret_cast<const unsigned char*>(der.data());
    return std::shared_ptr<X509_CRL>(d2i_X509_CRL(nullptr, &at, static_cast<long>(der.size())),
                                     X509_CRL_free);
  };
  revocation::remember_crl_signatures();
  const auto ours = parse();
  X509_CRL_set_default_method(nullptr);
  const auto openssls = parse();
  X509_CRL_set_default_method(revocation::crl_signatures_method());
  ASSERT_TRUE(ours && openssls);
  ASN1_INTEGER* serial = ASN1_INTEGER_new();
  for (std::int64_t number = -7; number <= 1100; ++number) {
    for (const std::int64_t probe : {number, number + 1'000'000'000, number * 255}) {
      ASN1_INTEGER_set_int64(serial, probe);
      X509_REVOKED* our_entry = nullptr;
      X509_REVOKED* their_entry = nullptr;
      ASSERT_EQ(X509_CRL_get0_by_serial(ours.get(), &our_entry, serial),
                X509_CRL_get0_by_serial(openssls.get(), &their_entry, serial))
          << probe;
      ASSERT_EQ(our_entry == nullptr, their_entry == nullptr) << probe;
      if (our_entry != nullptr) {
        EXPECT_EQ(ASN1_INTEGER_cmp(X509_REVOKED_get0_serialNumber(our_entry), serial), 0);
      }
    }
  }
  ASN1_INTEGER_free(serial);
  EXPECT_EQ(X509_CRL_get0_by_cert(ours.get(), nullptr, revoked.get()), 1);
  EXPECT_EQ(X509_CRL_get0_by_cert(openssls.get(), nullptr, revoked.get()), 1);
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
  test::CrlOptions with_revoked;
  with_revoked.revoked = {revoked};
  with_revoked.unissued_revoked = 1000;
  const auto trust = trust_with(dir, {with_revoked});
  ASSERT_TRUE(trust);
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

// A certificate on hold in the base CRL and taken off in its delta CRL (RFC 5280, 5.2.4):
// OpenSSL finds it in the delta first (through this look-up) and then leaves the base unread.
TEST_F(CrlSignatures, ADeltaCrlTakesACertificateOffHoldThroughTheLookUp) {
  test::TempDir dir;
  const auto held = leaf("HELD");
  const auto still_held = leaf("STILL HELD");
  test::CrlOptions base;
  base.number = 1;
  base.freshest = "http://127.0.0.1:9/delta.crl";
  base.revoked = {held, still_held};
  base.reason = CRL_REASON_CERTIFICATE_HOLD;
  base.unissued_revoked = 100;
  test::CrlOptions delta;
  delta.number = 2;
  delta.delta_base = 1;
  delta.revoked = {held};
  delta.reason = CRL_REASON_REMOVE_FROM_CRL;
  const auto trust = trust_with(dir, {base, delta});
  ASSERT_TRUE(trust);
  const auto now =
      std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
  const auto off_hold = trust->verify(test::der_of(held), {}, now);
  EXPECT_TRUE(std::holds_alternative<std::shared_ptr<const xmldsig::VerifiedCertificate>>(off_hold))
      << std::get<Rejection>(off_hold).detail;
  const auto on_hold = trust->verify(test::der_of(still_held), {}, now);
  ASSERT_TRUE(std::holds_alternative<Rejection>(on_hold));
  EXPECT_EQ(std::get<Rejection>(on_hold).reason, Reason::certificate_revoked);
}

}  // namespace
}  // namespace nqs
