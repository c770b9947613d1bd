// The ENGINE API is deprecated in OpenSSL 3, and still the only way to choose how a public key
// inside a certificate is decoded (crypto/x509/x_pubkey.c tries an ENGINE's method first).
#define OPENSSL_SUPPRESS_DEPRECATED
#include "common/openssl_key_methods.hpp"

#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <array>
#include <atomic>
#include <mutex>

namespace nqs {
namespace {

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

std::atomic<bool> in_use{false};

}  // namespace

void use_builtin_key_methods() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (OpenSSL_version_num() >= 0x30200000L) return;
    ENGINE* engine = ENGINE_new();
    if (engine == nullptr) return;  // only slower: providers decode the keys
    ENGINE_set_id(engine, "nqs-builtin-keys");
    ENGINE_set_name(engine, "OpenSSL's built-in RSA and EC key methods (nqs-adapter)");
    ENGINE_set_pkey_meths(engine, builtin_methods);
    ENGINE_init(engine);
    ENGINE_register_pkey_meths(engine);
    in_use = true;
    // The engine keeps its functional reference for the life of the process.
    ERR_clear_error();
  });
}

std::shared_ptr<EVP_PKEY> with_builtin_methods(EVP_PKEY* key) {
  if (key == nullptr || !in_use || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA ||
      EVP_PKEY_get0_RSA(key) == nullptr) {
    if (key != nullptr) EVP_PKEY_up_ref(key);
    return {key, EVP_PKEY_free};
  }
  // EVP_PKEY_get1_RSA gives the built-in RSA object behind a provider's key (a copy, cached).
  std::shared_ptr<EVP_PKEY> copy(EVP_PKEY_new(), EVP_PKEY_free);
  RSA* rsa = EVP_PKEY_get1_RSA(key);
  if (!copy || rsa == nullptr || EVP_PKEY_assign_RSA(copy.get(), rsa) != 1) {
    RSA_free(rsa);
    ERR_clear_error();
    EVP_PKEY_up_ref(key);
    return {key, EVP_PKEY_free};
  }
  return copy;
}

}  // namespace nqs
