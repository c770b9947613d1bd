#pragma once
// The signature primitives alone, as a new signer's document is measured against them: one
// RSA-2048 verify (OpenSSL's RSA beneath the adapter's memory of signatures that verified) and one
// GOST verify (a key made ready once, then the backend's verify, as gost_bench times it).
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <string>
#include <vector>

#include "gost/backend.hpp"

namespace nqs::bench {

// A GOST key pair of `algorithm`, a digest of 1 KiB and its signature.
struct GostMaterial {
  gost::Bytes digest;
  gost::Bytes signature;
  gost::PublicKey public_key;
  gost::Bytes private_key;
};

inline const GostMaterial& gost_material(std::size_t algorithm_index) {
  static const std::vector<GostMaterial> all = [] {
    std::vector<GostMaterial> out;
    for (const auto& algorithm : gost::algorithms()) {
      GostMaterial m;
      m.private_key = gost::new_private_key(algorithm);
      m.public_key = *gost::public_key_of(algorithm, m.private_key);
      m.digest = gost::hash(algorithm.hash, gost::Bytes(1024, 'x'));
      m.signature = *gost::libgcrypt().signing_key(algorithm, m.private_key)->sign(m.digest);
      out.push_back(std::move(m));
    }
    return out;
  }();
  return all[algorithm_index];
}

// One GOST 34.10-2015/512 verify with the backend the adapter verifies with.
class GostVerifyAlone {
 public:
  GostVerifyAlone()
      : material_(gost_material(0)),
        verifier_(
            gost::for_curve(material_.public_key.algorithm->curve).verifier(material_.public_key)) {
  }
  bool operator()() const { return verifier_->verify(material_.digest, material_.signature); }

 private:
  const GostMaterial& material_;
  std::unique_ptr<gost::Verifier> verifier_;
};

// One RSA-2048 PKCS#1 v1.5 SHA-256 verify of a 256-byte message: its SHA-256 digest and
// RSA_verify, with `key`'s public half.
class RsaVerifyAlone {
 public:
  RsaVerifyAlone(EVP_PKEY* key, X509* certificate)
      : rsa_(EVP_PKEY_get0_RSA(X509_get0_pubkey(certificate))),
        sha256_(EVP_MD_fetch(nullptr, "SHA256", nullptr)) {
    std::size_t length = signature_.size();
    EVP_MD_CTX* sign = EVP_MD_CTX_new();
    EVP_DigestSignInit(sign, nullptr, EVP_sha256(), nullptr, key);
    EVP_DigestSign(sign, signature_.data(), &length,
                   reinterpret_cast<const unsigned char*>(message_.data()), message_.size());
    EVP_MD_CTX_free(sign);
    signature_.resize(length);
  }
  ~RsaVerifyAlone() { EVP_MD_free(sha256_); }
  RsaVerifyAlone(const RsaVerifyAlone&) = delete;
  RsaVerifyAlone& operator=(const RsaVerifyAlone&) = delete;

  bool operator()() const {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_length = 0;
    EVP_Digest(message_.data(), message_.size(), digest, &digest_length, sha256_, nullptr);
    return RSA_verify(NID_sha256, digest, digest_length, signature_.data(),
                      static_cast<unsigned int>(signature_.size()), const_cast<RSA*>(rsa_)) == 1;
  }

 private:
  const std::string message_ = std::string(256, 'x');
  std::vector<unsigned char> signature_ = std::vector<unsigned char>(512);
  const RSA* rsa_;
  EVP_MD* sha256_;
};

}  // namespace nqs::bench
