// The ENGINE that teaches this process's OpenSSL NCA's GOST keys (openssl_keys.hpp). Only the
// legacy key-method callbacks OpenSSL 3.0 consults for engine keys are used: decoding and
// encoding keys, comparing them, and the item_verify/item_sign hooks through which X509_verify,
// X509_CRL_verify and X509_sign hand the to-be-signed bytes to the key's own method.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "gost/openssl_keys.hpp"

#include <openssl/asn1.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <array>
#include <mutex>
#include <string>

#include "common/openssl_key_methods.hpp"
#include "gost/der.hpp"
#include "gost/openssl_keys_internal.hpp"

namespace nqs::gost {

using detail::index_of;
using detail::item_sign;
using detail::item_verify;
using detail::kCount;
using detail::key_data;
using detail::pkey_ctrl;
using detail::pkey_sign;
using detail::pkey_verify;
using detail::registration;
using detail::siginf_set;

namespace detail {

Registration& registration() {
  static Registration instance;
  return instance;
}

std::size_t index_of(const Algorithm& algorithm) {
  return static_cast<std::size_t>(&algorithm - algorithms().data());
}

namespace {

const Algorithm* algorithm_with(const std::array<int, kCount>& nids, int nid) {
  for (std::size_t i = 0; i < kCount; ++i) {
    if (nid != NID_undef && nids[i] == nid) return &algorithms()[i];
  }
  return nullptr;
}

}  // namespace

const Algorithm* algorithm_by_key(const ASN1_OBJECT* object) {
  return algorithm_with(registration().key_nids, OBJ_obj2nid(object));
}

const Algorithm* algorithm_by_signature(const ASN1_OBJECT* object) {
  return algorithm_with(registration().signature_nids, OBJ_obj2nid(object));
}

OpenSslKey* key_data(const EVP_PKEY* key) {
  return static_cast<OpenSslKey*>(EVP_PKEY_get0(key));
}

}  // namespace detail

namespace {

int nid_for(std::string_view oid, std::string_view short_name, std::string_view long_name) {
  const std::string text(oid);
  int nid = OBJ_txt2nid(text.c_str());
  if (nid == NID_undef) {
    nid = OBJ_create(text.c_str(), std::string(short_name).c_str(), std::string(long_name).c_str());
  }
  return nid;
}

// NCA's key parameters: SEQUENCE { curve OID, hash OID }.
ASN1_STRING* encode_parameters(const Algorithm& algorithm) {
  return der::oid_sequence({algorithm.curve_oid, algorithm.hash_oid});
}

// The parameters must name the algorithm's curve; the hash, when given, its hash.
bool parameters_fit(const Algorithm& algorithm, const X509_ALGOR* parameters) {
  const ASN1_OBJECT* object = nullptr;
  int type = 0;
  const void* value = nullptr;
  X509_ALGOR_get0(&object, &type, &value, parameters);
  if (type != V_ASN1_SEQUENCE || value == nullptr) return false;
  const auto* string = static_cast<const ASN1_STRING*>(value);
  const unsigned char* p = ASN1_STRING_get0_data(string);
  const unsigned char* end = p + ASN1_STRING_length(string);
  STACK_OF(ASN1_TYPE)* sequence = d2i_ASN1_SEQUENCE_ANY(nullptr, &p, ASN1_STRING_length(string));
  bool fits = sequence != nullptr && p == end && sk_ASN1_TYPE_num(sequence) >= 1 &&
              sk_ASN1_TYPE_num(sequence) <= 2;
  const auto& r = registration();
  const std::size_t index = index_of(algorithm);
  for (int i = 0; fits && i < sk_ASN1_TYPE_num(sequence); ++i) {
    const ASN1_TYPE* item = sk_ASN1_TYPE_value(sequence, i);
    fits =
        item->type == V_ASN1_OBJECT &&
        OBJ_cmp(item->value.object, i == 0 ? r.curve_objects[index] : r.hash_objects[index]) == 0;
  }
  sk_ASN1_TYPE_pop_free(sequence, ASN1_TYPE_free);
  return fits;
}

// An OCTET STRING of exactly `size` bytes, nothing after it.
std::optional<Bytes> octets(const unsigned char* p, int length, std::size_t size) {
  const unsigned char* end = p + length;
  ASN1_OCTET_STRING* string = d2i_ASN1_OCTET_STRING(nullptr, &p, length);
  std::optional<Bytes> out;
  if (string != nullptr && p == end && static_cast<std::size_t>(string->length) == size) {
    out = Bytes(string->data, string->data + string->length);
  }
  ASN1_OCTET_STRING_free(string);
  return out;
}

int assign(EVP_PKEY* key, std::unique_ptr<OpenSslKey> data) {
  const auto& r = registration();
  const int nid = r.key_nids[index_of(*data->public_key.algorithm)];
  if (EVP_PKEY_assign(key, nid, data.get()) != 1) return 0;
  data.release();
  return 1;
}

std::unique_ptr<OpenSslKey> public_key_data(PublicKey key) {
  auto data = std::make_unique<OpenSslKey>();
  data->verifier = for_curve(key.algorithm->curve).verifier(key);
  if (!data->verifier) return nullptr;
  data->public_key = std::move(key);
  return data;
}

std::unique_ptr<OpenSslKey> private_key_data(const Algorithm& algorithm,
                                             std::span<const std::uint8_t> private_key) {
  auto public_key = public_key_of(algorithm, private_key);
  if (!public_key) return nullptr;
  auto data = public_key_data(std::move(*public_key));
  if (!data) return nullptr;
  data->private_key.assign(private_key.begin(), private_key.end());
  data->signing_key = for_curve(algorithm.curve).signing_key(algorithm, private_key);
  return data->signing_key ? std::move(data) : nullptr;
}

// --- the ASN.1 methods ---

int pub_decode(EVP_PKEY* key, const X509_PUBKEY* info) {
  ASN1_OBJECT* object = nullptr;
  const unsigned char* p = nullptr;
  int length = 0;
  X509_ALGOR* parameters = nullptr;
  if (X509_PUBKEY_get0_param(&object, &p, &length, &parameters, info) != 1) return 0;
  const Algorithm* algorithm = detail::algorithm_by_key(object);
  if (algorithm == nullptr || !parameters_fit(*algorithm, parameters)) return 0;
  auto xy = octets(p, length, 2 * algorithm->size);
  if (!xy) return 0;
  auto data = public_key_data(PublicKey{algorithm, std::move(*xy)});
  return data ? assign(key, std::move(data)) : 0;
}

int pub_encode(X509_PUBKEY* info, const EVP_PKEY* key) {
  const auto* data = key_data(key);
  const Algorithm& algorithm = *data->public_key.algorithm;
  auto [encoded, length] = der::octet_string(data->public_key.xy);
  return X509_PUBKEY_set0_param(info, OBJ_nid2obj(registration().key_nids[index_of(algorithm)]),
                                V_ASN1_SEQUENCE, encode_parameters(algorithm), encoded, length);
}

int pub_cmp(const EVP_PKEY* a, const EVP_PKEY* b) {
  const auto* left = key_data(a);
  const auto* right = key_data(b);
  return left != nullptr && right != nullptr &&
         left->public_key.algorithm == right->public_key.algorithm &&
         left->public_key.xy == right->public_key.xy;
}

int pub_print(BIO* out, const EVP_PKEY* key, int indent, ASN1_PCTX*) {
  const auto* data = key_data(key);
  return BIO_printf(out, "%*s%.*s public key (%zu bytes)\n", indent, "",
                    static_cast<int>(data->public_key.algorithm->name.size()),
                    data->public_key.algorithm->name.data(), data->public_key.xy.size()) > 0;
}

int signature_size(const EVP_PKEY* key) {
  return static_cast<int>(2 * key_data(key)->public_key.algorithm->size);
}

int key_bits(const EVP_PKEY* key) {
  return static_cast<int>(8 * key_data(key)->public_key.algorithm->size);
}

int security_bits(const EVP_PKEY* key) {
  return key_bits(key) / 2;
}

int priv_decode(EVP_PKEY* key, const PKCS8_PRIV_KEY_INFO* info) {
  const ASN1_OBJECT* object = nullptr;
  const unsigned char* p = nullptr;
  int length = 0;
  const X509_ALGOR* parameters = nullptr;
  if (PKCS8_pkey_get0(&object, &p, &length, &parameters, info) != 1) return 0;
  const Algorithm* algorithm = detail::algorithm_by_key(object);
  if (algorithm == nullptr || !parameters_fit(*algorithm, parameters)) return 0;
  // NCA's PrivateKeyInfo holds an OCTET STRING of the little-endian key.
  auto d = octets(p, length, algorithm->size);
  if (!d) return 0;
  auto data = private_key_data(*algorithm, *d);
  OPENSSL_cleanse(d->data(), d->size());
  return data ? assign(key, std::move(data)) : 0;
}

int priv_encode(PKCS8_PRIV_KEY_INFO* info, const EVP_PKEY* key) {
  const auto* data = key_data(key);
  if (data->private_key.empty()) return 0;
  const Algorithm& algorithm = *data->public_key.algorithm;
  auto [encoded, length] = der::octet_string(data->private_key);
  return PKCS8_pkey_set0(info, OBJ_nid2obj(registration().key_nids[index_of(algorithm)]), 0,
                         V_ASN1_SEQUENCE, encode_parameters(algorithm), encoded, length);
}

void key_free(EVP_PKEY* key) {
  auto* data = key_data(key);
  if (data == nullptr) return;
  OPENSSL_cleanse(data->private_key.data(), data->private_key.size());
  delete data;
}

// An ENGINE's answer for its key methods: the list of key NIDs, or the method of one.
template <typename Method>
int engine_methods(const std::array<Method*, kCount>& methods, Method** method, const int** nids,
                   int nid) {
  const auto& r = registration();
  if (method == nullptr) {
    *nids = r.key_nids.data();
    return static_cast<int>(kCount);
  }
  for (std::size_t i = 0; i < kCount; ++i) {
    if (r.key_nids[i] == nid) {
      *method = methods[i];
      return 1;
    }
  }
  *method = nullptr;
  return 0;
}

int engine_pkey_meths(ENGINE*, EVP_PKEY_METHOD** method, const int** nids, int nid) {
  return engine_methods(registration().pmeths, method, nids, nid);
}

int engine_asn1_meths(ENGINE*, EVP_PKEY_ASN1_METHOD** method, const int** nids, int nid) {
  return engine_methods(registration().ameths, method, nids, nid);
}

void register_methods() {
  auto& r = registration();
  for (std::size_t i = 0; i < kCount; ++i) {
    const Algorithm& algorithm = algorithms()[i];
    r.key_nids[i] = nid_for(algorithm.key_oid, algorithm.short_name, algorithm.name);
    r.signature_nids[i] = nid_for(algorithm.signature_oid, algorithm.signature_short_name,
                                  std::string(algorithm.name) + " signature");
    r.curve_objects[i] = OBJ_txt2obj(std::string(algorithm.curve_oid).c_str(), 1);
    r.hash_objects[i] = OBJ_txt2obj(std::string(algorithm.hash_oid).c_str(), 1);
    // No digest: X509_verify then hands the whole check to item_verify.
    OBJ_add_sigid(r.signature_nids[i], NID_undef, r.key_nids[i]);

    EVP_PKEY_ASN1_METHOD* ameth =
        EVP_PKEY_asn1_new(r.key_nids[i], 0, std::string(algorithm.short_name).c_str(),
                          std::string(algorithm.name).c_str());
    EVP_PKEY_asn1_set_public(ameth, pub_decode, pub_encode, pub_cmp, pub_print, signature_size,
                             key_bits);
    EVP_PKEY_asn1_set_private(ameth, priv_decode, priv_encode, nullptr);
    EVP_PKEY_asn1_set_free(ameth, key_free);
    EVP_PKEY_asn1_set_item(ameth, item_verify, item_sign);
    EVP_PKEY_asn1_set_siginf(ameth, siginf_set);
    EVP_PKEY_asn1_set_security_bits(ameth, security_bits);
    r.ameths[i] = ameth;

    // A custom signature context: no digest is looked up for these keys.
    EVP_PKEY_METHOD* pmeth = EVP_PKEY_meth_new(r.key_nids[i], EVP_PKEY_FLAG_SIGCTX_CUSTOM);
    EVP_PKEY_meth_set_sign(pmeth, nullptr, pkey_sign);
    EVP_PKEY_meth_set_verify(pmeth, nullptr, pkey_verify);
    EVP_PKEY_meth_set_ctrl(pmeth, pkey_ctrl, nullptr);
    r.pmeths[i] = pmeth;
  }
  ENGINE* engine = ENGINE_new();
  ENGINE_set_id(engine, "nqs-nca-gost");
  ENGINE_set_name(engine, "NCA RK GOST keys (nqs-adapter)");
  ENGINE_set_pkey_meths(engine, engine_pkey_meths);
  ENGINE_set_pkey_asn1_meths(engine, engine_asn1_meths);
  ENGINE_init(engine);
  ENGINE_register_pkey_meths(engine);
  ENGINE_register_pkey_asn1_meths(engine);
  // The methods live as long as the process; the engine keeps its functional reference.
  r.engine = engine;
  ERR_clear_error();
}

}  // namespace

void register_with_openssl() {
  static std::once_flag once;
  std::call_once(once, register_methods);
}

void register_key_methods() {
  register_with_openssl();
  use_builtin_key_methods();
}

const OpenSslKey* key_of(const EVP_PKEY* key) {
  if (key == nullptr ||
      detail::algorithm_with(registration().key_nids, EVP_PKEY_get_base_id(key)) == nullptr) {
    return nullptr;
  }
  return key_data(key);
}

std::shared_ptr<EVP_PKEY> make_private_key(const Algorithm& algorithm,
                                           std::span<const std::uint8_t> private_key) {
  register_with_openssl();
  auto data = private_key_data(algorithm, private_key);
  if (!data) return nullptr;
  std::shared_ptr<EVP_PKEY> key(EVP_PKEY_new(), EVP_PKEY_free);
  if (assign(key.get(), std::move(data)) != 1) return nullptr;
  return key;
}

std::shared_ptr<EVP_PKEY> generate_private_key(const Algorithm& algorithm) {
  auto d = new_private_key(algorithm);
  auto key = make_private_key(algorithm, d);
  OPENSSL_cleanse(d.data(), d.size());
  return key;
}

}  // namespace nqs::gost
