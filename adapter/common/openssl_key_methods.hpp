#pragma once

#include <openssl/evp.h>

#include <memory>

namespace nqs {

// Makes OpenSSL 3.0 read RSA and EC public keys with its own built-in key methods instead of
// asking its providers' decoders. Every certificate parsed decodes its key: through the decoders
// that costs about 150 us on this project's machine (a search of every provider's decoders and key
// managers for each certificate), eight times a whole RSA-2048 verify, and every applicant's
// certificate is one never seen before. The built-in methods are the same RSA and EC code; only
// the look-up is skipped. Idempotent and thread-safe; call before reading certificates.
//
// Only on OpenSSL before 3.2, which caches its decoders itself (there it does nothing). Once
// called, every RSA operation of the process uses the built-in method, and OpenSSL 3.0 cannot
// sign an ASN.1 structure (X509_sign, X509_CRL_sign, OCSP_basic_sign) with an RSA key its
// providers decoded: sign with `with_builtin_methods(key)`.
void use_builtin_key_methods();

// `key` itself, or, once the built-in methods are in use, for an RSA key held by a provider, a
// copy held by the built-in RSA method.
std::shared_ptr<EVP_PKEY> with_builtin_methods(EVP_PKEY* key);

}  // namespace nqs
