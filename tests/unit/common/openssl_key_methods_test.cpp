// RSA_set0_key and EVP_PKEY_assign_RSA (deprecated in OpenSSL 3) make the key with an exponent no
// certificate parser would hand over.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "common/openssl_key_methods.hpp"

#include <gtest/gtest.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>

#include "xmldsig/trust_store.hpp"

namespace nqs {
namespace {

std::string test_pki_der(const std::string& name) {
  FILE* in = std::fopen((std::string(NQS_TEST_PKI_DIR) + "/" + name).c_str(), "r");
  if (in == nullptr) throw std::runtime_error("test PKI missing: run the pki fixture");
  X509* certificate = PEM_read_X509(in, nullptr, nullptr, nullptr);
  std::fclose(in);
  unsigned char* der = nullptr;
  const int length = i2d_X509(certificate, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  X509_free(certificate);
  return out;
}

std::shared_ptr<X509> test_pki_certificate(const std::string& name) {
  return xmldsig::parse_certificate_der(test_pki_der(name));
}

std::string flip_last_byte(std::string der) {
  der.back() = static_cast<char>(der.back() ^ 0x01);
  return der;
}

bool builtin_methods_expected() {
  return OpenSSL_version_num() < 0x30200000L;
}

// The applicant's certificate is read by OpenSSL's own RSA method, not a provider's decoder
// (150 us a certificate on OpenSSL 3.0, eight RSA verifies).
TEST(OpenSslKeyMethods, ACertificatesRsaKeyIsReadByTheBuiltInMethod) {
  auto certificate = xmldsig::parse_certificate_der(test_pki_der("center-head.pem"));
  ASSERT_NE(certificate, nullptr);
  const std::string description = EVP_PKEY_get0_description(X509_get0_pubkey(certificate.get()));
  if (builtin_methods_expected()) {
    EXPECT_EQ(description, "OpenSSL RSA method");
  } else {
    EXPECT_EQ(description, "OpenSSL RSA implementation");
  }
}

// An RSA key read from a file is a provider's, which OpenSSL 3.0 cannot ASN.1-sign with once the
// built-in RSA method is in use; its copy from with_builtin_methods can, and the signature holds.
TEST(OpenSslKeyMethods, AProvidersRsaKeySignsThroughItsBuiltInCopy) {
  use_builtin_key_methods();
  FILE* in = std::fopen((std::string(NQS_TEST_PKI_DIR) + "/adapter-sign.key").c_str(), "r");
  ASSERT_NE(in, nullptr) << "test PKI missing: run the pki fixture";
  std::shared_ptr<EVP_PKEY> key(PEM_read_PrivateKey(in, nullptr, nullptr, nullptr), EVP_PKEY_free);
  std::fclose(in);
  ASSERT_NE(key, nullptr);
  EXPECT_EQ(std::string(EVP_PKEY_get0_description(key.get())), "OpenSSL RSA implementation");
  std::shared_ptr<X509> certificate(X509_new(), X509_free);
  X509* x = certificate.get();
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("test"), -1, -1, 0);
  X509_set_issuer_name(x, X509_get_subject_name(x));
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key.get());
  auto usable = with_builtin_methods(key.get());
  if (builtin_methods_expected()) {
    EXPECT_LE(X509_sign(x, key.get(), EVP_sha256()), 0) << "OpenSSL 3.0's limit, documented";
    ERR_clear_error();
    EXPECT_EQ(std::string(EVP_PKEY_get0_description(usable.get())), "OpenSSL RSA method");
  }
  ASSERT_GT(X509_sign(x, usable.get(), EVP_sha256()), 0);
  EXPECT_EQ(X509_verify(x, key.get()), 1);
  // A key no provider holds is handed back as it is.
  EXPECT_EQ(with_builtin_methods(usable.get()).get(), usable.get());
}

// The issuing CA's link to its root, verified for one applicant, is not verified again for the
// next (one RSA verify of four per new applicant's chain).
TEST(OpenSslKeyMethods, AnRsaSignatureThatVerifiedIsAnsweredFromMemory) {
  if (!builtin_methods_expected()) GTEST_SKIP() << "OpenSSL 3.2 or later: providers' methods";
  auto issuing = test_pki_certificate("issuing-ca.pem");
  auto root = test_pki_certificate("root-ca.pem");
  ASSERT_TRUE(issuing && root);
  ASSERT_EQ(X509_verify(issuing.get(), X509_get0_pubkey(root.get())), 1);
  const auto before = rsa_verifications_remembered();
  ASSERT_EQ(X509_verify(issuing.get(), X509_get0_pubkey(root.get())), 1);
  EXPECT_EQ(rsa_verifications_remembered(), before + 1);
}

// Memory answers only the very same key, digest and signature: a changed signature, another key
// or a changed certificate is verified again, and fails; a failure is never remembered.
TEST(OpenSslKeyMethods, OnlyTheVerySameSignatureKeyAndDigestAreAnsweredFromMemory) {
  auto issuing = test_pki_certificate("issuing-ca.pem");
  auto root = test_pki_certificate("root-ca.pem");
  auto leaf = test_pki_certificate("individual-sign.pem");
  ASSERT_TRUE(issuing && root && leaf);
  ASSERT_EQ(X509_verify(issuing.get(), X509_get0_pubkey(root.get())), 1);
  const auto before = rsa_verifications_remembered();
  // The signature is the certificate's last field: its last byte changed.
  auto forged = xmldsig::parse_certificate_der(flip_last_byte(test_pki_der("issuing-ca.pem")));
  ASSERT_NE(forged, nullptr);
  EXPECT_NE(X509_verify(forged.get(), X509_get0_pubkey(root.get())), 1);
  EXPECT_NE(X509_verify(forged.get(), X509_get0_pubkey(root.get())), 1) << "not remembered";
  EXPECT_NE(X509_verify(issuing.get(), X509_get0_pubkey(leaf.get())), 1) << "another key";
  // The same signature over another certificate (the issuer's name changed: another digest).
  auto der = test_pki_der("issuing-ca.pem");
  const auto at = der.find("Root");
  ASSERT_NE(at, std::string::npos);
  der[at] = 'B';
  auto renamed = xmldsig::parse_certificate_der(der);
  ASSERT_NE(renamed, nullptr);
  EXPECT_NE(X509_verify(renamed.get(), X509_get0_pubkey(root.get())), 1);
  EXPECT_EQ(rsa_verifications_remembered(), before);
  ERR_clear_error();
}

// A key's numbers go into the name of its verification only up to 16,384 bits: a key with a
// longer exponent (an OCSP responder's certificate is used before its chain is checked) is
// verified, refused by OpenSSL, and never remembered; nothing is written past a buffer.
TEST(OpenSslKeyMethods, AKeyWithAnOversizedExponentIsVerifiedAndNotRemembered) {
  if (!builtin_methods_expected()) GTEST_SKIP() << "OpenSSL 3.2 or later: providers' methods";
  auto leaf = test_pki_certificate("individual-sign.pem");
  ASSERT_NE(leaf, nullptr);
  const BIGNUM* modulus = nullptr;
  RSA_get0_key(EVP_PKEY_get0_RSA(X509_get0_pubkey(leaf.get())), &modulus, nullptr, nullptr);
  BIGNUM* exponent = BN_new();
  ASSERT_EQ(BN_set_bit(exponent, 3000 * 8), 1);
  ASSERT_EQ(BN_add_word(exponent, 1), 1);
  RSA* rsa = RSA_new();
  ASSERT_EQ(RSA_set0_key(rsa, BN_dup(modulus), exponent, nullptr), 1);
  std::shared_ptr<EVP_PKEY> key(EVP_PKEY_new(), EVP_PKEY_free);
  ASSERT_EQ(EVP_PKEY_assign_RSA(key.get(), rsa), 1);
  const std::string data = "an OCSP response";
  const std::string signature(256, '\x5a');
  const auto before = rsa_verifications_remembered();
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::shared_ptr<EVP_MD_CTX> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    ASSERT_EQ(EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key.get()), 1);
    EXPECT_NE(
        EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                         signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                         data.size()),
        1);
  }
  EXPECT_EQ(rsa_verifications_remembered(), before);
  ERR_clear_error();
}

// A PSS signature depends on parameters of its own (salt length, mask digest): it is always
// verified, never answered from memory.
TEST(OpenSslKeyMethods, PssSignaturesAreNotRemembered) {
  use_builtin_key_methods();
  FILE* in = std::fopen((std::string(NQS_TEST_PKI_DIR) + "/adapter-sign.key").c_str(), "r");
  ASSERT_NE(in, nullptr) << "test PKI missing: run the pki fixture";
  std::shared_ptr<EVP_PKEY> read(PEM_read_PrivateKey(in, nullptr, nullptr, nullptr), EVP_PKEY_free);
  std::fclose(in);
  ASSERT_NE(read, nullptr);
  auto key = with_builtin_methods(read.get());
  auto certificate = test_pki_certificate("adapter-sign.pem");
  ASSERT_NE(certificate, nullptr);
  const std::string data = "a notification";
  auto pss = [](EVP_MD_CTX* context, EVP_PKEY* pkey, bool sign, int salt) {
    EVP_PKEY_CTX* pkey_context = nullptr;
    const int initialised =
        sign ? EVP_DigestSignInit(context, &pkey_context, EVP_sha256(), nullptr, pkey)
             : EVP_DigestVerifyInit(context, &pkey_context, EVP_sha256(), nullptr, pkey);
    return initialised == 1 &&
           EVP_PKEY_CTX_set_rsa_padding(pkey_context, RSA_PKCS1_PSS_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_pss_saltlen(pkey_context, salt) == 1;
  };
  std::shared_ptr<EVP_MD_CTX> signing(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  ASSERT_TRUE(pss(signing.get(), key.get(), true, 32));
  std::string signature(512, '\0');
  std::size_t length = signature.size();
  ASSERT_EQ(
      EVP_DigestSign(signing.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()),
      1);
  signature.resize(length);
  auto verify = [&](int salt) {
    std::shared_ptr<EVP_MD_CTX> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    if (!pss(context.get(), X509_get0_pubkey(certificate.get()), false, salt)) return -1;
    return EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                            signature.size(), reinterpret_cast<const unsigned char*>(data.data()),
                            data.size());
  };
  const auto before = rsa_verifications_remembered();
  EXPECT_EQ(verify(32), 1);
  EXPECT_EQ(verify(32), 1);
  EXPECT_NE(verify(20), 1) << "another salt length";
  EXPECT_EQ(rsa_verifications_remembered(), before);
  ERR_clear_error();
}

}  // namespace
}  // namespace nqs
