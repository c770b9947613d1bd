// The ENGINE API is deprecated in OpenSSL 3, and still the only way to choose how a public key
// inside a certificate is decoded (crypto/x509/x_pubkey.c tries an ENGINE's method first).
#define OPENSSL_SUPPRESS_DEPRECATED
#include "common/openssl_key_methods.hpp"

#include <openssl/bn.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include <array>
#include <cstdint>
#include <mutex>
#include <string>

#include "common/verified_signatures.hpp"

namespace nqs {
namespace {

// RSA only: xmlsec's ECDSA verification fails with OpenSSL's built-in EC method.
constexpr std::array<int, 1> kKeyNids{EVP_PKEY_RSA};

// RSA signatures that verified (verified_signatures.hpp): per new applicant, one of the two RSA
// verifies X509_verify_cert makes is the issuing CA's link to its root (its CRLs remember their
// signatures themselves: revocation/crl_signatures.hpp).
VerifiedSignatures& rsa_signatures() {
  static VerifiedSignatures instance(4096);
  return instance;
}

using VerifyFunction = int (*)(EVP_PKEY_CTX*, const unsigned char*, std::size_t,
                               const unsigned char*, std::size_t);
VerifyFunction builtin_verify = nullptr;

// The largest RSA modulus (and exponent) a verification is remembered for: 16,384 bits.
constexpr int kMaxNumberBytes = 2048;

void append_part(std::string& name, const unsigned char* bytes, std::size_t length) {
  const auto size = static_cast<std::uint32_t>(length);
  name.append(reinterpret_cast<const char*>(&size), sizeof size);
  name.append(reinterpret_cast<const char*>(bytes), length);
}

// The number's bytes, with their length, written straight into `name`; false (nothing written)
// for a number larger than kMaxNumberBytes.
bool append_number(std::string& name, const BIGNUM* number) {
  const int length = BN_num_bytes(number);
  if (length < 0 || length > kMaxNumberBytes) return false;
  const auto size = static_cast<std::uint32_t>(length);
  name.append(reinterpret_cast<const char*>(&size), sizeof size);
  const std::size_t at = name.size();
  name.resize(at + static_cast<std::size_t>(length));
  if (BN_bn2bin(number, reinterpret_cast<unsigned char*>(name.data() + at)) != length) {
    name.resize(at - sizeof size);
    return false;
  }
  return true;
}

// Everything an RSA verification with PKCS #1 v1.5 padding depends on: the key's modulus and
// exponent, the digest algorithm, the digest, the signature. Empty when the verification is not
// one to remember: another padding (PSS has parameters of its own), or a modulus or exponent
// beyond 16,384 bits (which OpenSSL refuses anyway).
std::string verification_name(EVP_PKEY_CTX* context, const unsigned char* signature,
                              std::size_t signature_length, const unsigned char* digest,
                              std::size_t digest_length) {
  int padding = 0;
  const EVP_MD* md = nullptr;
  const RSA* rsa = EVP_PKEY_get0_RSA(EVP_PKEY_CTX_get0_pkey(context));
  // Whatever the look-ups queue on OpenSSL's error stack is theirs alone: the caller's stays.
  ERR_set_mark();
  const bool remembered = rsa != nullptr && EVP_PKEY_CTX_get_rsa_padding(context, &padding) > 0 &&
                          padding == RSA_PKCS1_PADDING &&
                          EVP_PKEY_CTX_get_signature_md(context, &md) > 0;
  ERR_pop_to_mark();
  if (!remembered) return {};
  const BIGNUM* modulus = nullptr;
  const BIGNUM* exponent = nullptr;
  RSA_get0_key(rsa, &modulus, &exponent, nullptr);
  if (modulus == nullptr || exponent == nullptr) return {};
  std::string name;
  name.reserve(signature_length + digest_length + 600);  // a 2048-bit key's name in one piece
  if (!append_number(name, modulus) || !append_number(name, exponent)) return {};
  const int md_type = md != nullptr ? EVP_MD_get_type(md) : 0;
  append_part(name, reinterpret_cast<const unsigned char*>(&md_type), sizeof md_type);
  append_part(name, digest, digest_length);
  append_part(name, signature, signature_length);
  return name;
}

// The built-in RSA verification, answered from memory for a signature that verified before.
int remembering_verify(EVP_PKEY_CTX* context, const unsigned char* signature,
                       std::size_t signature_length, const unsigned char* digest,
                       std::size_t digest_length) {
  auto name = verification_name(context, signature, signature_length, digest, digest_length);
  if (!name.empty() && rsa_signatures().contains(name)) return 1;
  const int verified = builtin_verify(context, signature, signature_length, digest, digest_length);
  if (verified == 1 && !name.empty()) rsa_signatures().insert(std::move(name));
  return verified;
}

// OpenSSL's own RSA method with remembering_verify, or nullptr.
EVP_PKEY_METHOD* remembering_rsa_method() {
  const EVP_PKEY_METHOD* builtin = EVP_PKEY_meth_find(EVP_PKEY_RSA);
  if (builtin == nullptr) return nullptr;
  int id = 0;
  int flags = 0;
  EVP_PKEY_meth_get0_info(&id, &flags, builtin);
  EVP_PKEY_METHOD* method = EVP_PKEY_meth_new(EVP_PKEY_RSA, flags);
  if (method == nullptr) return nullptr;
  EVP_PKEY_meth_copy(method, builtin);
  int (*verify_init)(EVP_PKEY_CTX*) = nullptr;
  EVP_PKEY_meth_get_verify(builtin, &verify_init, &builtin_verify);
  if (builtin_verify == nullptr) {
    EVP_PKEY_meth_free(method);
    return nullptr;
  }
  EVP_PKEY_meth_set_verify(method, verify_init, remembering_verify);
  return method;
}

// The ENGINE's methods, made once before it is registered; never freed (OpenSSL keeps using
// them until the process ends).
EVP_PKEY_METHOD* rsa_method = nullptr;

// The ENGINE's answer: its key NIDs, or its method for one of them.
int builtin_methods(ENGINE*, EVP_PKEY_METHOD** method, const int** nids, int nid) {
  if (method == nullptr) {
    *nids = kKeyNids.data();
    return static_cast<int>(kKeyNids.size());
  }
  *method = nid == EVP_PKEY_RSA ? rsa_method : nullptr;
  return *method != nullptr ? 1 : 0;
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
    rsa_method = remembering_rsa_method();
    if (rsa_method == nullptr) return;  // only slower
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

std::uint64_t rsa_verifications_remembered() {
  return rsa_signatures().remembered();
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
