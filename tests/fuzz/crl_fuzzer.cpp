// libFuzzer target: arbitrary bytes as a CRL, as a distribution point's answer brings them (over
// plain HTTP: anyone on the path can answer). The adapter parses them with its own CRL method
// (revocation/crl_signatures.hpp) before any signature is checked. Whatever they hold, parsing
// must return, and the adapter's method must answer as OpenSSL's own on the same bytes: every
// serial OpenSSL finds revoked is found revoked, and the signature verifies with the test CAs'
// keys exactly when OpenSSL's says it does, the second time (remembered) as the first.
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/files.hpp"
#include "gost/openssl_keys.hpp"
#include "revocation/crl_signatures.hpp"
#include "revocation/x509_facts.hpp"

namespace {

using Crl = std::shared_ptr<X509_CRL>;

// The issuing CAs of the test PKI, RSA and GOST: the seeds are their CRLs.
const std::vector<std::shared_ptr<X509>>& issuers() {
  static const std::vector<std::shared_ptr<X509>> loaded = [] {
    nqs::gost::register_key_methods();
    std::vector<std::shared_ptr<X509>> out;
    for (const char* name : {"issuing-ca.pem", "gost-issuing-ca.pem", "root-ca.pem"}) {
      const auto text = nqs::read_file_bytes(std::filesystem::path(NQS_TEST_PKI_DIR) / name);
      BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
      if (X509* certificate = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
        out.emplace_back(certificate, X509_free);
      }
      BIO_free(bio);
    }
    if (out.size() != 3) std::abort();  // the test PKI is missing
    return out;
  }();
  return loaded;
}

Crl parse(const std::uint8_t* data, std::size_t size) {
  const unsigned char* at = data;
  Crl crl(d2i_X509_CRL(nullptr, &at, static_cast<long>(size)), X509_CRL_free);
  ERR_clear_error();
  return crl;
}

// A revocation OpenSSL finds, by serial alone or for a certificate of a named issuer (the CRL's
// own, another CA's), must not be missed.
void check_serial(X509_CRL* ours, X509_CRL* openssls, const ASN1_INTEGER* serial) {
  if (X509_CRL_get0_by_serial(openssls, nullptr, serial) != 0 &&
      X509_CRL_get0_by_serial(ours, nullptr, serial) == 0) {
    std::abort();
  }
  std::unique_ptr<X509, void (*)(X509*)> certificate(X509_new(), X509_free);
  X509_set_serialNumber(certificate.get(), const_cast<ASN1_INTEGER*>(serial));
  for (const X509_NAME* name :
       {X509_CRL_get_issuer(openssls), X509_get_subject_name(issuers()[2].get())}) {
    X509_set_issuer_name(certificate.get(), name);
    if (X509_CRL_get0_by_cert(openssls, nullptr, certificate.get()) != 0 &&
        X509_CRL_get0_by_cert(ours, nullptr, certificate.get()) == 0) {
      std::abort();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto& cas = issuers();
  nqs::revocation::remember_crl_signatures();
  const Crl ours = parse(data, size);
  X509_CRL_set_default_method(nullptr);
  const Crl openssls = parse(data, size);
  X509_CRL_set_default_method(nqs::revocation::crl_signatures_method());
  if (!ours != !openssls) std::abort();  // the method changes what parses
  if (!ours) return 0;
  // Every serial listed, and its neighbours.
  STACK_OF(X509_REVOKED)* revoked = X509_CRL_get_REVOKED(openssls.get());
  for (int i = 0; i < sk_X509_REVOKED_num(revoked) && i < 256; ++i) {
    const ASN1_INTEGER* serial = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revoked, i));
    check_serial(ours.get(), openssls.get(), serial);
    std::int64_t value = 0;
    if (ASN1_INTEGER_get_int64(&value, serial) == 1 && value > INT64_MIN && value < INT64_MAX) {
      for (const std::int64_t near : {value - 1, value + 1}) {
        ASN1_INTEGER* other = ASN1_INTEGER_new();
        ASN1_INTEGER_set_int64(other, near);
        check_serial(ours.get(), openssls.get(), other);
        ASN1_INTEGER_free(other);
      }
    }
  }
  ERR_clear_error();
  for (const auto& ca : cas) {
    EVP_PKEY* key = X509_get0_pubkey(ca.get());
    const bool theirs = X509_CRL_verify(openssls.get(), key) == 1;
    if ((X509_CRL_verify(ours.get(), key) == 1) != theirs) std::abort();
    if ((X509_CRL_verify(ours.get(), key) == 1) != theirs) std::abort();  // remembered
    ERR_clear_error();
  }
  return 0;
}
