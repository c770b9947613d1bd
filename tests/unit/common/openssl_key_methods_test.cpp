#include "common/openssl_key_methods.hpp"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/pem.h>
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

}  // namespace
}  // namespace nqs
