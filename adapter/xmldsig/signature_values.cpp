// The digests and signature values of XML-DSig's methods, verified and made alike: OpenSSL's
// (RSA, ECDSA and the SHA digests, each fetched once) and the GOST back ends' (gost/backend.hpp).
#include "xmldsig/signature_values.hpp"

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>

#include <array>
#include <memory>

#include "gost/algorithms.hpp"
#include "gost/backend.hpp"
#include "gost/openssl_keys.hpp"
#include "xmldsig/signature_internal.hpp"

namespace nqs::xmldsig::detail {
namespace {

// The methods OpenSSL computes, each with its digest, fetched once: a fetch per document is a
// search of the providers.
enum class Kind { digest, rsa, ecdsa };
struct OpenSslMethod {
  std::string_view uri;
  Kind kind;
  const EVP_MD* md;
};

const OpenSslMethod* openssl_method(std::string_view uri) {
  static const std::array<OpenSslMethod, 11> methods = [] {
    const EVP_MD* sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
    const EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    const EVP_MD* sha384 = EVP_MD_fetch(nullptr, "SHA384", nullptr);
    const EVP_MD* sha512 = EVP_MD_fetch(nullptr, "SHA512", nullptr);
    return std::array<OpenSslMethod, 11>{{
        {"http://www.w3.org/2000/09/xmldsig#sha1", Kind::digest, sha1},
        {"http://www.w3.org/2001/04/xmlenc#sha256", Kind::digest, sha256},
        {"http://www.w3.org/2001/04/xmldsig-more#sha384", Kind::digest, sha384},
        {"http://www.w3.org/2001/04/xmlenc#sha512", Kind::digest, sha512},
        {"http://www.w3.org/2000/09/xmldsig#rsa-sha1", Kind::rsa, sha1},
        {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256", Kind::rsa, sha256},
        {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha384", Kind::rsa, sha384},
        {"http://www.w3.org/2001/04/xmldsig-more#rsa-sha512", Kind::rsa, sha512},
        {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256", Kind::ecdsa, sha256},
        {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384", Kind::ecdsa, sha384},
        {"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512", Kind::ecdsa, sha512},
    }};
  }();
  ERR_clear_error();  // a digest this OpenSSL lacks stays null: its methods are unsupported
  for (const auto& method : methods) {
    if (method.uri == uri) return method.md != nullptr ? &method : nullptr;
  }
  return nullptr;
}

// XML-DSig's ECDSA signature value is r and s, each of the order's size (shorter is accepted, as
// xmlsec accepts it from Java signers); OpenSSL's is DER.
std::optional<std::string> ecdsa_der(std::string_view raw, int order_bits) {
  const auto most = 2 * static_cast<std::size_t>((order_bits + 7) / 8);
  if (raw.empty() || raw.size() % 2 != 0 || raw.size() > most) return std::nullopt;
  const auto half = static_cast<int>(raw.size() / 2);
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> signature(ECDSA_SIG_new(), ECDSA_SIG_free);
  BIGNUM* r = BN_bin2bn(bytes, half, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + half, half, nullptr);
  if (!signature || r == nullptr || s == nullptr || ECDSA_SIG_set0(signature.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    ERR_clear_error();
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int length = i2d_ECDSA_SIG(signature.get(), &der);
  if (length <= 0) {
    ERR_clear_error();
    return std::nullopt;
  }
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return out;
}

// A signature that cannot be made: the same key and method fail the same way every time.
Error failed(std::string problem) {
  return make_error(std::move(problem), Failure::permanent);
}

// A signature method with the key it is used with: GOST's with a key of that algorithm, or
// OpenSSL's with an RSA or EC key as the method names.
struct KeyedMethod {
  const gost::Algorithm* algorithm = nullptr;  // GOST, with gost_key
  const gost::OpenSslKey* gost_key = nullptr;
  const OpenSslMethod* openssl = nullptr;
};

// `method` with `key`, or why they do not go together; `to_sign`: a GOST method needs the private
// key too.
std::variant<KeyedMethod, std::string> keyed_method(std::string_view method, EVP_PKEY* key,
                                                    bool to_sign) {
  if (const auto* algorithm = gost::by_signature_uri(method)) {
    const auto* gost_key = gost::key_of(key);
    if (gost_key == nullptr || gost_key->public_key.algorithm != algorithm ||
        (to_sign && !gost_key->signing_key)) {
      return fmt::format("{} needs a {} of that algorithm", algorithm->name,
                         to_sign ? "private key" : "key");
    }
    return KeyedMethod{algorithm, gost_key, nullptr};
  }
  const auto* openssl = openssl_method(method);
  if (openssl == nullptr || openssl->kind == Kind::digest) {
    return fmt::format("unsupported signature method '{}'", method);
  }
  const bool ecdsa = openssl->kind == Kind::ecdsa;
  if (gost::key_of(key) != nullptr ||
      EVP_PKEY_get_base_id(key) != (ecdsa ? EVP_PKEY_EC : EVP_PKEY_RSA)) {
    return fmt::format("the signature method '{}' needs an {} key", method, ecdsa ? "EC" : "RSA");
  }
  return KeyedMethod{nullptr, nullptr, openssl};
}

// The GOST digest of canonical ds:SignedInfo, which the GOST back ends sign and verify.
gost::Bytes gost_digest(const gost::Algorithm& algorithm, std::string_view signed_info) {
  return gost::hash(
      algorithm.hash,
      std::span(reinterpret_cast<const std::uint8_t*>(signed_info.data()), signed_info.size()));
}

}  // namespace

std::optional<gost::Bytes> digest_of(std::string_view uri, std::string_view data) {
  const std::span bytes(reinterpret_cast<const std::uint8_t*>(data.data()), data.size());
  if (auto hash = gost::hash_by_uri(uri)) return gost::hash(*hash, bytes);
  const auto* method = openssl_method(uri);
  if (method == nullptr || method->kind != Kind::digest) return std::nullopt;
  gost::Bytes out(static_cast<std::size_t>(EVP_MD_get_size(method->md)));
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), out.data(), &length, method->md, nullptr) != 1) {
    ERR_clear_error();
    return std::nullopt;
  }
  out.resize(length);
  return out;
}

// Whether `signature_value` is `key`'s signature of `signed_info` (canonical) by `method`; an
// explanation when the method and the key do not go together.
std::variant<bool, Rejection> signature_holds(std::string_view method, EVP_PKEY* key,
                                              std::string_view signed_info,
                                              std::string_view signature_value) {
  auto keyed = keyed_method(method, key, false);
  if (auto* problem = std::get_if<std::string>(&keyed)) return not_verified(*problem);
  const auto& [algorithm, gost_key, openssl] = std::get<KeyedMethod>(keyed);
  if (algorithm != nullptr) {
    return gost_key->verifier->verify(
        gost_digest(*algorithm, signed_info),
        std::span(reinterpret_cast<const std::uint8_t*>(signature_value.data()),
                  signature_value.size()));
  }
  const bool ecdsa = openssl->kind == Kind::ecdsa;
  std::string der;
  if (ecdsa) {
    auto converted = ecdsa_der(signature_value, EVP_PKEY_get_bits(key));
    if (!converted) return false;
    der = std::move(*converted);
    signature_value = der;
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                  EVP_MD_CTX_free);
  const bool holds =
      context && EVP_DigestVerifyInit(context.get(), nullptr, openssl->md, nullptr, key) == 1 &&
      EVP_DigestVerify(
          context.get(), reinterpret_cast<const unsigned char*>(signature_value.data()),
          signature_value.size(), reinterpret_cast<const unsigned char*>(signed_info.data()),
          signed_info.size()) == 1;
  ERR_clear_error();
  return holds;
}

// `key`'s signature of `signed_info` (canonical) by `method`, as XML-DSig writes it: GOST's as
// NCA writes it (the backend's), ECDSA's r and s each of the order's size, RSA's as it is; or why
// the method and the key do not go together.
Result<std::string> signature_value_of(std::string_view method, EVP_PKEY* key,
                                       std::string_view signed_info) {
  auto keyed = keyed_method(method, key, true);
  if (auto* problem = std::get_if<std::string>(&keyed)) return failed(std::move(*problem));
  const auto& [algorithm, gost_key, openssl] = std::get<KeyedMethod>(keyed);
  if (algorithm != nullptr) {
    auto value = gost_key->signing_key->sign(gost_digest(*algorithm, signed_info));
    if (!value) return failed("the GOST signature could not be made");
    return std::string(value->begin(), value->end());
  }
  const bool ecdsa = openssl->kind == Kind::ecdsa;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                  EVP_MD_CTX_free);
  std::string value(static_cast<std::size_t>(EVP_PKEY_get_size(key)), '\0');
  std::size_t length = value.size();
  const bool signed_ok =
      context && EVP_DigestSignInit(context.get(), nullptr, openssl->md, nullptr, key) == 1 &&
      EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(value.data()), &length,
                     reinterpret_cast<const unsigned char*>(signed_info.data()),
                     signed_info.size()) == 1;
  ERR_clear_error();
  if (!signed_ok) return failed("OpenSSL could not sign with the key");
  value.resize(length);
  if (!ecdsa) return value;
  // OpenSSL's ECDSA signature is DER; XML-DSig's is r then s, each as long as the order.
  const auto* der = reinterpret_cast<const unsigned char*>(value.data());
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> parsed(
      d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(value.size())), ECDSA_SIG_free);
  const int half = (EVP_PKEY_get_bits(key) + 7) / 8;
  std::string raw(2 * static_cast<std::size_t>(half), '\0');
  auto* out = reinterpret_cast<unsigned char*>(raw.data());
  if (!parsed || BN_bn2binpad(ECDSA_SIG_get0_r(parsed.get()), out, half) != half ||
      BN_bn2binpad(ECDSA_SIG_get0_s(parsed.get()), out + half, half) != half) {
    ERR_clear_error();
    return failed("OpenSSL's ECDSA signature could not be read");
  }
  return raw;
}

}  // namespace nqs::xmldsig::detail
