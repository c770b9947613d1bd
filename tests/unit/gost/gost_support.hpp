#pragma once

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <string>

#include "gost/openssl_keys.hpp"
#include "test_support.hpp"

namespace nqs::test {

// NCA RK's test material (tests/fixtures/nca-gost/README.md).
inline std::filesystem::path nca_fixture(const std::string& name) {
  return source_path("tests/fixtures/nca-gost/" + name);
}

// A certificate in PEM or DER.
inline std::shared_ptr<X509> nca_certificate(const std::string& name) {
  gost::register_with_openssl();
  const std::string bytes = read_file(nca_fixture(name));
  BIO* bio = BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size()));
  X509* certificate = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (certificate == nullptr) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    certificate = d2i_X509(nullptr, &p, static_cast<long>(bytes.size()));
  }
  ERR_clear_error();
  if (certificate == nullptr) throw std::runtime_error("not a certificate: " + name);
  return {certificate, X509_free};
}

inline std::shared_ptr<X509_CRL> nca_crl(const std::string& name) {
  gost::register_with_openssl();
  const std::string bytes = read_file(nca_fixture(name));
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  X509_CRL* crl = d2i_X509_CRL(nullptr, &p, static_cast<long>(bytes.size()));
  if (crl == nullptr) throw std::runtime_error("not a CRL: " + name);
  return {crl, X509_CRL_free};
}

}  // namespace nqs::test
