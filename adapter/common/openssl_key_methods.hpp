#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>

namespace nqs {

// Makes OpenSSL 3.0 read the RSA public key of every certificate with its own built-in RSA method
// instead of asking its providers' decoders. Every certificate parsed decodes its key: through the
// decoders that costs about 150 us on this project's machine (a search of every provider's
// decoders and key managers for each certificate), eight times a whole RSA-2048 verify, and every
// applicant's certificate is one never seen before. The built-in method is the same RSA code;
// only the look-up is skipped. Idempotent and thread-safe; call before reading certificates.
//
// Its RSA verification remembers the signatures that verified (verified_signatures.hpp; PKCS #1
// v1.5 only): a new applicant's chain then costs one RSA verify, its own certificate's, instead of
// two (the issuing CA's link again; the CRLs remember theirs, revocation/crl_signatures.hpp).
//
// Only on OpenSSL before 3.2, which caches its decoders itself (there it does nothing). Once
// called, every RSA operation of the process uses the built-in method (an ENGINE claims RSA:
// crypto/x509/x_pubkey.c decodes with the built-in method only when an ENGINE does), and for an
// RSA key held by a provider OpenSSL 3.0 then cannot:
// - sign an ASN.1 structure (X509_sign, X509_CRL_sign, OCSP_basic_sign): sign with
//   `with_builtin_methods(key)`;
// - check the key (EVP_PKEY_check and its kin), or make one from parameters (EVP_PKEY_fromdata);
// - honour provider properties, such as a FIPS provider's (this adapter configures none).
// What the adapter does with RSA works with either kind of key: verifying signatures and chains,
// signing XML-DSig (itself and through xmlsec), comparing a key with its certificate, TLS with a
// client certificate.
void use_builtin_key_methods();

// How many RSA verifications were answered from memory since the process started.
std::uint64_t rsa_verifications_remembered();

// `key` itself, or, while an ENGINE claims RSA, for an RSA key held by a provider, a copy held by
// the built-in RSA method.
std::shared_ptr<EVP_PKEY> with_builtin_methods(EVP_PKEY* key);

}  // namespace nqs
