// The ENGINE API is deprecated in OpenSSL 3, and still the only way to choose how a public key
// inside a certificate is decoded (crypto/x509/x_pubkey.c tries an ENGINE's method first).
#define OPENSSL_SUPPRESS_DEPRECATED
#include "common/openssl_key_methods.hpp"

#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <array>
#include <mutex>

namespace nqs {
namespace {

// RSA only: xmlsec's ECDSA verification fails with OpenSSL's built-in EC method.
constexpr std::array<int, 1> kKeyNids{EVP_PKEY_RSA};

// The ENGINE's answer: its key NIDs, or OpenSSL's own method for one of them.
int builtin_methods(ENGINE*, EVP_PKEY_METHOD** method, const int** nids, int nid) {
  if (method == nullptr) {
    *nids = kKeyNids.data();
    return static_cast<int>(kKeyNids.size());
  }
  for (const int known : kKeyNids) {
    if (known == nid) {
      // OpenSSL's own table, never freed or changed: the cast only matches the ENGINE's type.
      *method = const_cast<EVP_PKEY_METHOD*>(EVP_PKEY_meth_find(nid));
      return *method != nullptr ? 1 : 0;
    }
  }
  *method = nullptr;
  return 0;
}

// Kept for the life of the process (and reachable, for LeakSanitizer, after OpenSSL's cleanup).
ENGINE* engine = nullptr;

// Whether an ENGINE (this one, or one a configuration loaded) decides RSA operations.
bool rsa_claimed_by_an_engine() {
  ENGINE* claiming = ENGINE_get_pkey_meth_engine(EVP_PKEY_RSA);
  if (claiming == nullptr) return false;
  ENGINE_finish(claiming);
  return true;
}

}  // namespace

void use_builtin_key_methods() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (OpenSSL_version_num() >= 0x30200000L) return;
    ENGINE* created = ENGINE_new();
    if (created == nullptr) return;  // only slower: providers decode the keys
    if (ENGINE_set_id(created, "nqs-builtin-rsa") != 1 ||
        ENGINE_set_name(created, "OpenSSL's built-in RSA key method (nqs-adapter)") != 1 ||
        ENGINE_set_pkey_meths(created, builtin_methods) != 1 || ENGINE_init(created) != 1) {
      ENGINE_free(created);
      ERR_clear_error();
      return;
    }
    if (ENGINE_register_pkey_meths(created) != 1) {
      ENGINE_finish(created);
      ENGINE_free(created);
      ERR_clear_error();
      return;
    }
    engine = created;
    ERR_clear_error();
  });
}

std::shared_ptr<EVP_PKEY> with_builtin_methods(EVP_PKEY* key) {
  const bool provider_rsa = key != nullptr && EVP_PKEY_get_base_id(key) == EVP_PKEY_RSA &&
                            EVP_PKEY_get0_provider(key) != nullptr;
  RSA* rsa = provider_rsa && rsa_claimed_by_an_engine() ? EVP_PKEY_get1_RSA(key) : nullptr;
  std::shared_ptr<EVP_PKEY> copy(rsa != nullptr ? EVP_PKEY_new() : nullptr, EVP_PKEY_free);
  if (copy && EVP_PKEY_assign_RSA(copy.get(), rsa) == 1) return copy;
  // Not an RSA key a provider holds, nothing claims RSA, or the copy failed: the key itself.
  RSA_free(rsa);  // not assigned to a copy (none: a no-op)
  ERR_clear_error();
  if (key != nullptr) EVP_PKEY_up_ref(key);
  return {key, EVP_PKEY_free};
}

}  // namespace nqs
