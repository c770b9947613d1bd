#pragma once

#include <openssl/evp.h>

#include <cstdint>
#include <memory>
#include <span>

#include "gost/algorithms.hpp"
#include "gost/backend.hpp"

// NCA's GOST keys as OpenSSL keys. OpenSSL 3 parses NCA certificates but knows neither their key
// nor their signature object identifiers; registered here (an ENGINE of this process providing
// the key's ASN.1 and EVP methods, the extension point OpenSSL 3.0 keeps for algorithms outside
// its providers), a GOST certificate's key decodes, and X509_verify, X509_CRL_verify, X509_sign,
// X509_verify_cert, PKCS#12 and PEM private keys work on it as on RSA. The arithmetic is the back
// ends' (backend.hpp).
namespace nqs::gost {

// Idempotent and thread-safe; must run before any certificate is parsed (a GOST key decoded
// before it stays unusable). The trust store and the signer call it.
void register_with_openssl();

// What the adapter reads certificates and keys with: the GOST algorithms above, and OpenSSL's
// built-in RSA method for RSA keys (common/openssl_key_methods.hpp). Idempotent and thread-safe;
// the trust store and the signer loaders call it before they read anything.
void register_key_methods();

// What an EVP_PKEY holds when it is an NCA GOST key; nullptr for any other key.
struct OpenSslKey {
  PublicKey public_key;
  std::unique_ptr<Verifier> verifier;
  Bytes private_key;                        // empty for a public key
  std::unique_ptr<SigningKey> signing_key;  // null for a public key
};
const OpenSslKey* key_of(const EVP_PKEY* key);

// An EVP_PKEY for a GOST private key (little-endian) or a new random one.
std::shared_ptr<EVP_PKEY> make_private_key(const Algorithm& algorithm,
                                           std::span<const std::uint8_t> private_key);
std::shared_ptr<EVP_PKEY> generate_private_key(const Algorithm& algorithm);

// How many GOST signatures of certificates, CRLs and OCSP answers were answered from memory (they
// had verified before) rather than verified again.
std::uint64_t gost_verifications_remembered();

}  // namespace nqs::gost
