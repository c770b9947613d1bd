// The signature methods of the ENGINE's GOST keys (openssl_keys_internal.hpp): X509_verify,
// X509_CRL_verify and X509_sign through item_verify/item_sign, and signatures of a digest.
#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <utility>

#include "common/ids.hpp"
#include "common/verified_signatures.hpp"
#include "gost/openssl_keys.hpp"
#include "gost/openssl_keys_internal.hpp"

namespace nqs::gost {
namespace {

struct OpenSslFree {
  void operator()(unsigned char* bytes) const { OPENSSL_free(bytes); }
};
using Der = std::unique_ptr<unsigned char, OpenSslFree>;

// The DER of what is signed: the to-be-signed structure (its encoding as read, for a structure
// that was read).
std::optional<std::pair<Der, std::span<const std::uint8_t>>> der_of(const ASN1_ITEM* item,
                                                                    const void* value) {
  unsigned char* der = nullptr;
  const int length = ASN1_item_i2d(static_cast<const ASN1_VALUE*>(value), &der, item);
  if (length <= 0) return std::nullopt;
  return std::pair{Der(der), std::span<const std::uint8_t>(der, static_cast<std::size_t>(length))};
}

// Certificates' and CRLs' signatures that verified: a GOST verify costs 30 times an RSA one.
VerifiedSignatures& verified_signatures() {
  static VerifiedSignatures instance(4096);
  return instance;
}

}  // namespace

namespace detail {

// X509_verify, X509_CRL_verify and OCSP: 1 if `signature` over `value` verifies with the key and
// names the key's own signature algorithm, without parameters (NCA writes NULL).
int item_verify(EVP_MD_CTX*, const ASN1_ITEM* item, const void* value, const X509_ALGOR* method,
                const ASN1_BIT_STRING* signature, EVP_PKEY* key) {
  const auto* data = key_data(key);
  const Algorithm& algorithm = *data->public_key.algorithm;
  const ASN1_OBJECT* object = nullptr;
  int type = 0;
  X509_ALGOR_get0(&object, &type, nullptr, method);
  const int nid = OBJ_obj2nid(object);
  if (nid == NID_undef || nid != registration().signature_nids[index_of(algorithm)] ||
      (type != V_ASN1_UNDEF && type != V_ASN1_NULL)) {
    return 0;
  }
  const auto der = der_of(item, value);
  if (!der) return 0;
  const auto& signed_bytes = der->second;
  const std::span<const std::uint8_t> bytes(signature->data,
                                            static_cast<std::size_t>(signature->length));
  // What is signed is named by its SHA-256, not by the GOST digest the verify needs: a link seen
  // before (the issuing CA's certificate, for each new signer) is then answered without the GOST
  // hash, whose Streebog runs at an eighth of SHA-256's speed here (gost_bench's remembered link:
  // 4.5 us with it, 2.3 without). Both are collision-resistant; a verify uses the GOST one. The
  // name is unambiguous: the algorithm fixes the key's length, the SHA-256 is 32 bytes, and the
  // signature is the rest. Without a SHA-256 (OpenSSL could not hash) nothing is remembered.
  const std::string named =
      sha256({reinterpret_cast<const char*>(signed_bytes.data()), signed_bytes.size()});
  const bool rememberable = named.size() == 32;
  std::string remembered(algorithm.name);
  remembered.append(data->public_key.xy.begin(), data->public_key.xy.end());
  remembered.append(named);
  remembered.append(bytes.begin(), bytes.end());
  if (rememberable && verified_signatures().contains(remembered)) return 1;
  if (!data->verifier->verify(gost::hash(algorithm.hash, signed_bytes), bytes)) return 0;
  if (rememberable) verified_signatures().insert(std::move(remembered));
  return 1;
}

// X509_sign, X509_CRL_sign: sets both algorithm identifiers and the signature (1: all done).
int item_sign(EVP_MD_CTX* context, const ASN1_ITEM* item, const void* value, X509_ALGOR* method1,
              X509_ALGOR* method2, ASN1_BIT_STRING* signature) {
  EVP_PKEY* key = EVP_PKEY_CTX_get0_pkey(EVP_MD_CTX_get_pkey_ctx(context));
  const auto* data = key == nullptr ? nullptr : key_data(key);
  if (data == nullptr || !data->signing_key) return 0;
  const Algorithm& algorithm = *data->public_key.algorithm;
  const int nid = registration().signature_nids[index_of(algorithm)];
  for (X509_ALGOR* method : {method1, method2}) {
    if (method != nullptr) X509_ALGOR_set0(method, OBJ_nid2obj(nid), V_ASN1_NULL, nullptr);
  }
  const auto der = der_of(item, value);
  auto bytes =
      der ? data->signing_key->sign(gost::hash(algorithm.hash, der->second)) : std::nullopt;
  if (!bytes) return 0;
  ASN1_BIT_STRING_set(signature, bytes->data(), static_cast<int>(bytes->size()));
  signature->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
  signature->flags |= ASN1_STRING_FLAG_BITS_LEFT;
  return 1;
}

int siginf_set(X509_SIG_INFO* info, const X509_ALGOR* method, const ASN1_STRING*) {
  const ASN1_OBJECT* object = nullptr;
  X509_ALGOR_get0(&object, nullptr, nullptr, method);
  const Algorithm* algorithm = algorithm_by_signature(object);
  if (algorithm == nullptr) return 0;
  X509_SIG_INFO_set(info, NID_undef, registration().key_nids[index_of(*algorithm)],
                    static_cast<int>(algorithm->size * 4), X509_SIG_INFO_TLS);
  return 1;
}

// --- the EVP methods: signatures of a digest (EVP_PKEY_sign/verify) ---

int pkey_sign(EVP_PKEY_CTX* context, unsigned char* out, size_t* length, const unsigned char* tbs,
              size_t tbs_length) {
  const auto* data = key_data(EVP_PKEY_CTX_get0_pkey(context));
  if (data == nullptr || !data->signing_key) return 0;
  const std::size_t needed = 2 * data->public_key.algorithm->size;
  if (out == nullptr) {
    *length = needed;
    return 1;
  }
  if (*length < needed) return 0;
  auto signature = data->signing_key->sign(std::span(tbs, tbs_length));
  if (!signature) return 0;
  std::copy(signature->begin(), signature->end(), out);
  *length = signature->size();
  return 1;
}

int pkey_verify(EVP_PKEY_CTX* context, const unsigned char* signature, size_t length,
                const unsigned char* tbs, size_t tbs_length) {
  const auto* data = key_data(EVP_PKEY_CTX_get0_pkey(context));
  return data != nullptr &&
         data->verifier->verify(std::span(tbs, tbs_length), std::span(signature, length));
}

// The signature's digest is the algorithm's own: whatever digest a caller names is ignored.
int pkey_ctrl(EVP_PKEY_CTX*, int type, int, void*) {
  return type == EVP_PKEY_CTRL_MD || type == EVP_PKEY_CTRL_DIGESTINIT ? 1 : -2;
}

}  // namespace detail

std::uint64_t gost_verifications_remembered() {
  return verified_signatures().remembered();
}

}  // namespace nqs::gost
