#include "common/openssl_key_methods.hpp"

#include <gtest/gtest.h>
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

// A provider's RSA key signs an X.509 structure once copied to the built-in method (OpenSSL 3.0
// cannot otherwise, once RSA goes through the built-in method), and the signature verifies.
TEST(OpenSslKeyMethods, AProvidersRsaKeySignsThroughItsBuiltInCopy) {
  use_builtin_key_methods();
  EVP_PKEY* key = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
  ASSERT_NE(key, nullptr);
  auto usable = with_builtin_methods(key);
  X509* certificate = X509_new();
  X509_NAME_add_entry_by_txt(X509_get_subject_name(certificate), "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("test"), -1, -1, 0);
  X509_set_issuer_name(certificate, X509_get_subject_name(certificate));
  X509_gmtime_adj(X509_getm_notBefore(certificate), 0);
  X509_gmtime_adj(X509_getm_notAfter(certificate), 3600);
  X509_set_pubkey(certificate, key);
  EXPECT_GT(X509_sign(certificate, usable.get(), EVP_sha256()), 0);
  EXPECT_EQ(X509_verify(certificate, key), 1);
  if (builtin_methods_expected()) {
    EXPECT_EQ(std::string(EVP_PKEY_get0_description(usable.get())), "OpenSSL RSA method");
  }
  X509_free(certificate);
  EVP_PKEY_free(key);
}

}  // namespace
}  // namespace nqs
