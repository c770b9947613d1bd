// GOST with gost-engine (Debian's libengine-gost-openssl), through OpenSSL's ENGINE API, the only
// one through which it signs. It knows the curves by the Russian object identifiers, so NCA's
// private keys are handed to it re-encoded under those (the key bytes are the same), and so is one
// public key a curve, whose group the engine builds and every public key after is made on; it has
// no 34.311-95 S-boxes, so that hash stays with libgcrypt.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/engine.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include <algorithm>
#include <array>
#include <mutex>

#include "gost/backend.hpp"
#include "gost/der.hpp"

namespace nqs::gost {
namespace {

struct Names {
  const char* key;
  const char* curve;
  const char* digest;  // may be null: the 512-bit keys name none
};

Names names(Curve curve) {
  switch (curve) {
    case Curve::tc26_512_a:
      return {"1.2.643.7.1.1.1.2", "1.2.643.7.1.2.1.2.1", nullptr};
    case Curve::tc26_256_a:
      return {"1.2.643.7.1.1.1.1", "1.2.643.7.1.2.1.1.1", "1.2.643.7.1.1.2.2"};
    case Curve::cryptopro_a:
      return {"1.2.643.2.2.19", "1.2.643.2.2.35.1", "1.2.643.2.2.30.1"};
  }
  return {};
}

Bytes reversed(std::span<const std::uint8_t> bytes) {
  return Bytes(bytes.rbegin(), bytes.rend());
}

// What a key handed to the engine is named with, per curve, made once: the key algorithm's object
// and the parameters, SEQUENCE { curve OID [, digest OID] }.
struct Naming {
  const ASN1_OBJECT* key = nullptr;
  const ASN1_STRING* parameters = nullptr;
};

const Naming& naming(Curve curve) {
  static const std::array<Naming, 3> all = [] {
    std::array<Naming, 3> out;
    for (const Curve each : {Curve::tc26_256_a, Curve::tc26_512_a, Curve::cryptopro_a}) {
      const auto oids = names(each);
      out[static_cast<std::size_t>(each)] = {
          OBJ_nid2obj(OBJ_txt2nid(oids.key)),
          der::oid_sequence({oids.curve, oids.digest == nullptr ? "" : oids.digest})};
    }
    return out;
  }();
  return all[static_cast<std::size_t>(curve)];
}

// The key algorithm's object (OpenSSL's own, never freed) and a copy of the parameters, for a
// key info to take over.
ASN1_OBJECT* key_object(Curve curve) {
  return const_cast<ASN1_OBJECT*>(naming(curve).key);
}
ASN1_STRING* parameters(Curve curve) {
  return ASN1_STRING_dup(naming(curve).parameters);
}

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

class EngineDigest final : public Digest {
 public:
  EngineDigest(const EVP_MD* md, ENGINE* engine) : context_(EVP_MD_CTX_new()) {
    EVP_DigestInit_ex(context_, md, engine);
  }
  ~EngineDigest() override { EVP_MD_CTX_free(context_); }
  EngineDigest(const EngineDigest&) = delete;
  EngineDigest& operator=(const EngineDigest&) = delete;
  void update(std::span<const std::uint8_t> data) override {
    EVP_DigestUpdate(context_, data.data(), data.size());
  }
  Bytes finish() override {
    Bytes out(static_cast<std::size_t>(EVP_MD_CTX_get_size(context_)));
    unsigned int length = 0;
    EVP_DigestFinal_ex(context_, out.data(), &length);
    return out;
  }

 private:
  EVP_MD_CTX* context_;
};

class EngineVerifier final : public Verifier {
 public:
  explicit EngineVerifier(Pkey key) : key_(std::move(key)) {}
  bool verify(std::span<const std::uint8_t> digest,
              std::span<const std::uint8_t> signature) const override {
    const Bytes standard = reversed(signature);  // s||r
    EVP_PKEY_CTX* context = EVP_PKEY_CTX_new(key_.get(), nullptr);
    const bool ok = context != nullptr && EVP_PKEY_verify_init(context) == 1 &&
                    EVP_PKEY_verify(context, standard.data(), standard.size(), digest.data(),
                                    digest.size()) == 1;
    EVP_PKEY_CTX_free(context);
    ERR_clear_error();
    return ok;
  }

 private:
  Pkey key_;
};

class EngineSigningKey final : public SigningKey {
 public:
  EngineSigningKey(Pkey key, std::size_t size) : key_(std::move(key)), size_(size) {}
  std::optional<Bytes> sign(std::span<const std::uint8_t> digest) const override {
    Bytes standard(2 * size_);
    std::size_t length = standard.size();
    EVP_PKEY_CTX* context = EVP_PKEY_CTX_new(key_.get(), nullptr);
    const bool ok =
        context != nullptr && EVP_PKEY_sign_init(context) == 1 &&
        EVP_PKEY_sign(context, standard.data(), &length, digest.data(), digest.size()) == 1 &&
        length == standard.size();
    EVP_PKEY_CTX_free(context);
    ERR_clear_error();
    if (!ok) return std::nullopt;
    return reversed(standard);
  }

 private:
  Pkey key_;
  std::size_t size_;
};

struct EcKeyFree {
  void operator()(EC_KEY* key) const { EC_KEY_free(key); }
};
struct BnFree {
  void operator()(BIGNUM* number) const { BN_free(number); }
};
struct PointFree {
  void operator()(EC_POINT* point) const { EC_POINT_free(point); }
};

// `key` as the engine reads a certificate's: the key info encoded under the Russian identifiers
// and decoded (the point is checked to be on the curve as it is read).
Pkey decoded(const PublicKey& key) {
  X509_PUBKEY* info = X509_PUBKEY_new();
  auto [encoded_key, length] = der::octet_string(key.xy);
  X509_PUBKEY_set0_param(info, key_object(key.algorithm->curve), V_ASN1_SEQUENCE,
                         parameters(key.algorithm->curve), encoded_key, length);
  unsigned char* encoded = nullptr;
  const int encoded_length = i2d_X509_PUBKEY(info, &encoded);
  X509_PUBKEY_free(info);
  const unsigned char* p = encoded;
  EVP_PKEY* read = encoded_length > 0 ? d2i_PUBKEY(nullptr, &p, encoded_length) : nullptr;
  OPENSSL_free(encoded);
  ERR_clear_error();
  return Pkey(read);
}

// The group of `algorithm`'s curve, as the engine builds it for each key it reads (from the
// curve's parameters, written in hexadecimal, each time): built once here, from a key it
// read (the public key of the private key 7), and copied into each key after.
const EC_GROUP* group_of(const Algorithm& algorithm) {
  static const std::array<EC_GROUP*, 3> groups = [] {
    std::array<EC_GROUP*, 3> out{};
    for (const auto& each : algorithms()) {
      Bytes seven(each.size, 0);
      seven[0] = 7;  // little-endian
      auto generator_times_seven = public_key_of(each, seven);
      auto key = generator_times_seven ? decoded(*generator_times_seven) : nullptr;
      const auto* ec = key ? static_cast<const EC_KEY*>(EVP_PKEY_get0(key.get())) : nullptr;
      const EC_GROUP* group = ec != nullptr ? EC_KEY_get0_group(ec) : nullptr;
      out[static_cast<std::size_t>(each.curve)] = group != nullptr ? EC_GROUP_dup(group) : nullptr;
    }
    return out;
  }();
  return groups[static_cast<std::size_t>(algorithm.curve)];
}

// The engine's key for `key` on `group`, made as the engine makes one when it reads a key (an
// EC_KEY of the curve's group and the point, which must be on the curve), without building the
// group again: 6.1 us a key before, 3.5 us now (gost_bench, BM_GostKeyRead).
std::unique_ptr<Verifier> verifier_in(const EC_GROUP* group, const PublicKey& key) {
  const std::size_t size = key.algorithm->size;
  const int size_int = static_cast<int>(size);
  std::unique_ptr<BIGNUM, BnFree> x(BN_lebin2bn(key.xy.data(), size_int, nullptr));
  std::unique_ptr<BIGNUM, BnFree> y(BN_lebin2bn(key.xy.data() + size, size_int, nullptr));
  std::unique_ptr<EC_KEY, EcKeyFree> ec(EC_KEY_new());
  std::unique_ptr<EC_POINT, PointFree> point(EC_POINT_new(group));
  Pkey pkey(EVP_PKEY_new());
  const bool made =
      x && y && ec && point && pkey && EC_KEY_set_group(ec.get(), group) == 1 &&
      EC_POINT_set_affine_coordinates(group, point.get(), x.get(), y.get(), nullptr) == 1 &&
      EC_KEY_set_public_key(ec.get(), point.get()) == 1 &&
      EVP_PKEY_assign(pkey.get(), OBJ_obj2nid(naming(key.algorithm->curve).key), ec.get()) == 1;
  ERR_clear_error();
  if (!made) return nullptr;
  ec.release();  // the EVP_PKEY's now
  return std::make_unique<EngineVerifier>(std::move(pkey));
}

class GostEngine final : public Backend {
 public:
  explicit GostEngine(ENGINE* engine) : engine_(engine) {}
  std::string_view name() const override { return "gost-engine"; }
  bool has(Hash hash) const override { return hash != Hash::gost34311_95; }
  bool has(Curve) const override { return true; }
  std::unique_ptr<Digest> digest(Hash hash) const override {
    const int nid = hash == Hash::streebog512   ? NID_id_GostR3411_2012_512
                    : hash == Hash::streebog256 ? NID_id_GostR3411_2012_256
                                                : NID_undef;
    const EVP_MD* md = nid == NID_undef ? nullptr : ENGINE_get_digest(engine_, nid);
    if (md == nullptr) return nullptr;
    return std::make_unique<EngineDigest>(md, engine_);
  }
  std::unique_ptr<Verifier> verifier(const PublicKey& key) const override {
    if (key.xy.size() != 2 * key.algorithm->size) return nullptr;
    // Without the group built once (it could not be), the key is read the engine's own way.
    if (const EC_GROUP* group = group_of(*key.algorithm)) return verifier_in(group, key);
    auto read = decoded(key);
    return read ? std::make_unique<EngineVerifier>(std::move(read)) : nullptr;
  }
  std::unique_ptr<SigningKey> signing_key(
      const Algorithm& algorithm, std::span<const std::uint8_t> private_key) const override {
    if (private_key.size() != algorithm.size) return nullptr;
    PKCS8_PRIV_KEY_INFO* info = PKCS8_PRIV_KEY_INFO_new();
    auto [encoded_key, length] = der::octet_string(private_key);
    PKCS8_pkey_set0(info, key_object(algorithm.curve), 0, V_ASN1_SEQUENCE,
                    parameters(algorithm.curve), encoded_key, length);
    EVP_PKEY* decoded = EVP_PKCS82PKEY(info);
    PKCS8_PRIV_KEY_INFO_free(info);
    ERR_clear_error();
    if (decoded == nullptr) return nullptr;
    return std::make_unique<EngineSigningKey>(Pkey(decoded), algorithm.size);
  }

 private:
  ENGINE* engine_;
};

// Loads the engine once, and makes OpenSSL find its key methods (for the Russian object
// identifiers only: nothing else changes hands).
ENGINE* load_engine() {
  ENGINE_load_builtin_engines();
  ENGINE* engine = ENGINE_by_id("gost");
  if (engine == nullptr) {
    ERR_clear_error();
    return nullptr;
  }
  if (ENGINE_init(engine) != 1) {
    ENGINE_free(engine);
    ERR_clear_error();
    return nullptr;
  }
  ENGINE_register_pkey_asn1_meths(engine);
  ENGINE_register_pkey_meths(engine);
  ENGINE_free(engine);  // the functional reference of ENGINE_init stays
  return engine;
}

}  // namespace

const Backend* gost_engine() {
  static const std::unique_ptr<GostEngine> backend = [] {
    ENGINE* engine = load_engine();
    return engine == nullptr ? nullptr : std::make_unique<GostEngine>(engine);
  }();
  return backend.get();
}

const Backend& for_curve(Curve) {
  const Backend* engine = gost_engine();
  return engine != nullptr ? *engine : libgcrypt();
}

const Backend& for_hash(Hash) {
  return libgcrypt();
}

}  // namespace nqs::gost
