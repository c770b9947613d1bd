// GOST primitives and OpenSSL's view of NCA keys: NCA RK's own test certificates and CRL verify
// with both libraries, any changed byte fails, and what one library signs the other verifies.
#include <gtest/gtest.h>
#include <openssl/x509v3.h>

#include "gost/backend.hpp"
#include "gost_support.hpp"
#include "revocation/x509_facts.hpp"
#include "xmldsig/trust_store.hpp"

namespace nqs::gost {
namespace {

using revocation::certificate_der;
using test::nca_certificate;
using test::nca_crl;
using xmldsig::parse_certificate_der;

struct Issued {
  const char* certificate;
  const char* issuer;
  const char* algorithm;
};

class NcaCertificates : public ::testing::TestWithParam<Issued> {};

TEST_P(NcaCertificates, VerifyAgainstTheirIssuerWithOpenSsl) {
  const auto& issued = GetParam();
  auto certificate = nca_certificate(issued.certificate);
  auto issuer = nca_certificate(issued.issuer);
  EVP_PKEY* key = X509_get0_pubkey(issuer.get());
  ASSERT_NE(key, nullptr) << "the NCA key decodes";
  ASSERT_NE(key_of(key), nullptr);
  EXPECT_EQ(key_of(key)->public_key.algorithm->name, issued.algorithm);
  EXPECT_EQ(X509_verify(certificate.get(), key), 1);
  EXPECT_EQ(X509_check_issued(issuer.get(), certificate.get()), X509_V_OK);
}

TEST_P(NcaCertificates, AnyChangedByteOfTheSignedPartOrSignatureFails) {
  const auto& issued = GetParam();
  auto issuer = nca_certificate(issued.issuer);
  const std::string bytes = certificate_der(nca_certificate(issued.certificate).get());
  // A byte of the subject (inside the signed part) and the last byte (of the signature value).
  for (std::size_t at : {std::size_t{200}, bytes.size() - 1}) {
    std::string changed = bytes;
    changed[at] = static_cast<char>(changed[at] ^ 0x01);
    auto forged = parse_certificate_der(changed);
    ASSERT_NE(forged, nullptr);
    EXPECT_EQ(X509_verify(forged.get(), X509_get0_pubkey(issuer.get())), 0) << "byte " << at;
  }
  ERR_clear_error();
}

// A link that verified once is answered from memory the next time, and the memory names the key,
// what was signed and the signature itself: a certificate with one byte changed, in its signed
// part or in its signature, or checked against another key, is verified in full and fails, though
// its genuine twin is remembered.
TEST_P(NcaCertificates, ARememberedLinkIsTheSameBytesOnly) {
  const auto& issued = GetParam();
  auto issuer = nca_certificate(issued.issuer);
  EVP_PKEY* key = X509_get0_pubkey(issuer.get());
  const std::string bytes = certificate_der(nca_certificate(issued.certificate).get());
  ASSERT_EQ(X509_verify(parse_certificate_der(bytes).get(), key), 1);
  const auto before = gost_verifications_remembered();
  EXPECT_EQ(X509_verify(parse_certificate_der(bytes).get(), key), 1);
  EXPECT_EQ(gost_verifications_remembered(), before + 1) << "the second time, from memory";
  for (std::size_t at : {std::size_t{200}, bytes.size() - 1}) {
    std::string changed = bytes;
    changed[at] = static_cast<char>(changed[at] ^ 0x01);
    auto forged = parse_certificate_der(changed);
    ASSERT_NE(forged, nullptr);
    EXPECT_EQ(X509_verify(forged.get(), key), 0) << "byte " << at;
  }
  // The same certificate against another key of the same algorithm: the key is in the name.
  const auto other = generate_private_key(*key_of(key)->public_key.algorithm);
  EXPECT_EQ(X509_verify(parse_certificate_der(bytes).get(), other.get()), 0);
  EXPECT_EQ(gost_verifications_remembered(), before + 1);
  ERR_clear_error();
}

INSTANTIATE_TEST_SUITE_P(
    Gost, NcaCertificates,
    ::testing::Values(Issued{"ind2015.pem", "nca_gost2015_test.cer", "GOST 34.10-2015/512"},
                      Issued{"ceo2015.pem", "nca_gost2015_test.cer", "GOST 34.10-2015/512"},
                      Issued{"ceo2004.pem", "nca_gost_test.crt", "GOST 34.310-2004"},
                      Issued{"ceo_valid_sign_2004_gost.cer", "nca_gost_test.crt",
                             "GOST 34.310-2004"}),
    [](const ::testing::TestParamInfo<Issued>& issued) {
      std::string name = issued.param.certificate;
      return name.substr(0, name.find('.'));
    });

TEST(NcaCrl, VerifiesWithItsIssuerOnly) {
  auto crl = nca_crl("nca_gost2022_test.crl");
  EXPECT_EQ(
      X509_CRL_verify(crl.get(), X509_get0_pubkey(nca_certificate("nca_gost2015_test.cer").get())),
      1);
  // Another GOST key (the 2004 CA) does not verify it.
  EXPECT_NE(
      X509_CRL_verify(crl.get(), X509_get0_pubkey(nca_certificate("nca_gost_test.crt").get())), 1);
  ERR_clear_error();
}

TEST(NcaKeys, ARsaCertificateIsNotAGostKey) {
  auto rsa = nca_certificate("nca_rsa_test.crt");
  EXPECT_EQ(key_of(X509_get0_pubkey(rsa.get())), nullptr);
}

// The DER of an object identifier (tag, length, content).
std::string oid_der(const char* text) {
  ASN1_OBJECT* object = OBJ_txt2obj(text, 1);
  unsigned char* der = nullptr;
  const int length = i2d_ASN1_OBJECT(object, &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  ASN1_OBJECT_free(object);
  return out;
}

// A GOST 2015/512 key whose parameters name the 256-bit curve or hash is no key: the parameters
// must be the key algorithm's own.
TEST(NcaKeys, ParametersNamingAnotherCurveOrHashMakeNoKey) {
  const std::string der = certificate_der(nca_certificate("ind2015.pem").get());
  ASSERT_NE(X509_get0_pubkey(parse_certificate_der(der).get()), nullptr)
      << "as issued, the key decodes";
  const std::pair<const char*, const char*> swaps[] = {
      {"1.2.398.3.10.1.1.2.2.1", "1.2.398.3.10.1.1.2.1.1"},  // the curve: 512 -> 256
      {"1.2.398.3.10.1.3.3", "1.2.398.3.10.1.3.2"},          // the hash: 512 -> 256
  };
  int swapped = 0;
  for (const auto& [own, other] : swaps) {
    const std::string from = oid_der(own);
    const std::string to = oid_der(other);
    ASSERT_EQ(from.size(), to.size());
    const auto at = der.find(from);
    if (at == std::string::npos) continue;  // a certificate may leave the hash out
    std::string changed = der;
    changed.replace(at, from.size(), to);
    auto forged = parse_certificate_der(changed);
    ASSERT_NE(forged, nullptr) << own;
    EXPECT_EQ(X509_get0_pubkey(forged.get()), nullptr) << own << " replaced by " << other;
    ++swapped;
  }
  EXPECT_GE(swapped, 1) << "the curve is always named";
  ERR_clear_error();
}

// A signature is checked only under its key's own signature algorithm: the same bytes named as a
// GOST 2015/256 signature do not verify with a 2015/512 key (OCSP responses reach item_verify
// with no second copy of the algorithm for OpenSSL to compare).
TEST(NcaKeys, ASignatureNamedAsAnotherAlgorithmDoesNotVerify) {
  auto certificate = nca_certificate("ind2015.pem");
  auto issuer = nca_certificate("nca_gost2015_test.cer");
  EVP_PKEY* key = X509_get0_pubkey(issuer.get());
  unsigned char* tbs = nullptr;
  const int length = i2d_re_X509_tbs(certificate.get(), &tbs);
  ASSERT_GT(length, 0);
  const unsigned char* p = tbs;
  ASN1_VALUE* info = ASN1_item_d2i(nullptr, &p, length, ASN1_ITEM_rptr(X509_CINF));
  OPENSSL_free(tbs);
  ASSERT_NE(info, nullptr);
  const ASN1_BIT_STRING* signature = nullptr;
  const X509_ALGOR* own = nullptr;
  X509_get0_signature(&signature, &own, certificate.get());
  EXPECT_EQ(ASN1_item_verify(ASN1_ITEM_rptr(X509_CINF), own, signature, info, key), 1);
  X509_ALGOR* other = X509_ALGOR_new();
  X509_ALGOR_set0(other, OBJ_txt2obj("1.2.398.3.10.1.1.2.3.1", 1), V_ASN1_NULL, nullptr);
  EXPECT_NE(ASN1_item_verify(ASN1_ITEM_rptr(X509_CINF), other, signature, info, key), 1);
  X509_ALGOR_free(other);
  ASN1_item_free(info, ASN1_ITEM_rptr(X509_CINF));
  ERR_clear_error();
}

// Each back end against the other, on every curve: sign with one, verify with the other.
class Backends : public ::testing::TestWithParam<std::size_t> {};

TEST_P(Backends, WhatOneSignsTheOtherVerifies) {
  const Algorithm& algorithm = algorithms()[GetParam()];
  const Backend* engine = gost_engine();
  ASSERT_NE(engine, nullptr) << "gost-engine (libengine-gost-openssl) is installed";
  const Bytes d = new_private_key(algorithm);
  ASSERT_EQ(d.size(), algorithm.size);
  auto public_key = public_key_of(algorithm, d);
  ASSERT_TRUE(public_key.has_value());
  const Bytes message{'n', 'q', 's'};
  const Bytes digest = hash(algorithm.hash, message);
  EXPECT_EQ(digest.size(), digest_size(algorithm.hash));
  for (const Backend* signer : {engine, &libgcrypt()}) {
    const Backend* verifier = signer == engine ? &libgcrypt() : engine;
    auto signature = signer->signing_key(algorithm, d)->sign(digest);
    ASSERT_TRUE(signature.has_value()) << signer->name();
    EXPECT_EQ(signature->size(), 2 * algorithm.size);
    auto check = verifier->verifier(*public_key);
    ASSERT_NE(check, nullptr);
    EXPECT_TRUE(check->verify(digest, *signature)) << signer->name() << " -> " << verifier->name();
    Bytes other = digest;
    other[0] ^= 1;
    EXPECT_FALSE(check->verify(other, *signature));
    Bytes forged = *signature;
    forged[5] ^= 1;
    EXPECT_FALSE(check->verify(digest, forged));
  }
}

TEST_P(Backends, APointOffTheCurveIsNoKey) {
  const Algorithm& algorithm = algorithms()[GetParam()];
  auto key = public_key_of(algorithm, new_private_key(algorithm));
  ASSERT_TRUE(key.has_value());
  key->xy[3] ^= 1;
  EXPECT_EQ(libgcrypt().verifier(*key), nullptr);
  if (gost_engine() != nullptr) {
    EXPECT_EQ(gost_engine()->verifier(*key), nullptr);
  }
}

std::string algorithm_name(const ::testing::TestParamInfo<std::size_t>& index) {
  constexpr const char* kNames[] = {"gost2015_512", "gost2015_256", "gost34310_2004"};
  return kNames[index.param];
}

INSTANTIATE_TEST_SUITE_P(Gost, Backends, ::testing::Values(0U, 1U, 2U), algorithm_name);

TEST(Hashes, BothLibrariesAgreeOnStreebog) {
  const Bytes data(1000, 'x');
  const Backend* engine = gost_engine();
  ASSERT_NE(engine, nullptr);
  for (Hash h : {Hash::streebog256, Hash::streebog512}) {
    auto one = libgcrypt().digest(h);
    auto two = engine->digest(h);
    one->update(data);
    two->update(data);
    EXPECT_EQ(one->finish(), two->finish()) << name(h);
  }
  EXPECT_FALSE(engine->has(Hash::gost34311_95));
}

// OpenSSL signs certificates with a GOST key through the same methods (the test PKI does).
TEST(OpenSslKeys, SelfSignedCertificateRoundTrip) {
  const Algorithm& algorithm = algorithms()[0];
  auto key = generate_private_key(algorithm);
  ASSERT_NE(key, nullptr);
  std::unique_ptr<X509, decltype(&X509_free)> certificate(X509_new(), X509_free);
  X509_set_version(certificate.get(), X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(certificate.get()), 1);
  X509_NAME* name = X509_get_subject_name(certificate.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>("GOST root"), -1, -1, 0);
  X509_set_issuer_name(certificate.get(), name);
  X509_gmtime_adj(X509_getm_notBefore(certificate.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(certificate.get()), 3600);
  ASSERT_EQ(X509_set_pubkey(certificate.get(), key.get()), 1);
  ASSERT_GT(X509_sign(certificate.get(), key.get(), nullptr), 0);
  unsigned char* der = nullptr;
  const int length = i2d_X509(certificate.get(), &der);
  const unsigned char* p = der;
  std::unique_ptr<X509, decltype(&X509_free)> parsed(d2i_X509(nullptr, &p, length), X509_free);
  OPENSSL_free(der);
  ASSERT_NE(parsed, nullptr);
  EXPECT_EQ(X509_verify(parsed.get(), X509_get0_pubkey(parsed.get())), 1);
  EXPECT_EQ(X509_check_private_key(parsed.get(), key.get()), 1);
  EXPECT_EQ(OBJ_obj2nid(X509_get0_tbs_sigalg(parsed.get())->algorithm),
            OBJ_txt2nid("1.2.398.3.10.1.1.2.3.2"));
  EXPECT_NE(X509_get_extension_flags(parsed.get()) & EXFLAG_SS, 0U)
      << "self-signed as OpenSSL sees it";
}

}  // namespace
}  // namespace nqs::gost
