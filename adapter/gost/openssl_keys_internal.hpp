#pragma once

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <array>
#include <cstddef>
#include <string>

#include "gost/algorithms.hpp"
#include "gost/openssl_keys.hpp"

// What the ENGINE's files share: the registration and the keys' data (openssl_keys.cpp), and the
// signature methods the registration installs (openssl_signatures.cpp).
namespace nqs::gost::detail {

inline constexpr std::size_t kCount = 3;

struct Registration {
  std::array<int, kCount> key_nids{};
  std::array<int, kCount> signature_nids{};
  // The key parameters' object identifiers, compared by their encoding (not by text).
  std::array<ASN1_OBJECT*, kCount> curve_objects{};
  std::array<ASN1_OBJECT*, kCount> hash_objects{};
  std::array<EVP_PKEY_ASN1_METHOD*, kCount> ameths{};
  std::array<EVP_PKEY_METHOD*, kCount> pmeths{};
  ENGINE* engine = nullptr;
};

Registration& registration();
std::size_t index_of(const Algorithm& algorithm);
// The algorithm whose key (signature) object identifier `object` is; nullptr for any other. An
// identifier read from DER carries the NID registered for it, so this is no text comparison.
const Algorithm* algorithm_by_key(const ASN1_OBJECT* object);
const Algorithm* algorithm_by_signature(const ASN1_OBJECT* object);
OpenSslKey* key_data(const EVP_PKEY* key);

// --- the signature methods (openssl_signatures.cpp) ---

int item_verify(EVP_MD_CTX*, const ASN1_ITEM* item, const void* value, const X509_ALGOR* method,
                const ASN1_BIT_STRING* signature, EVP_PKEY* key);
int item_sign(EVP_MD_CTX* context, const ASN1_ITEM* item, const void* value, X509_ALGOR* method1,
              X509_ALGOR* method2, ASN1_BIT_STRING* signature);
int siginf_set(X509_SIG_INFO* info, const X509_ALGOR* method, const ASN1_STRING*);
int pkey_sign(EVP_PKEY_CTX* context, unsigned char* out, size_t* length, const unsigned char* tbs,
              size_t tbs_length);
int pkey_verify(EVP_PKEY_CTX* context, const unsigned char* signature, size_t length,
                const unsigned char* tbs, size_t tbs_length);
int pkey_ctrl(EVP_PKEY_CTX*, int type, int, void*);

}  // namespace nqs::gost::detail
