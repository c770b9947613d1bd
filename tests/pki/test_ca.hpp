#pragma once

// Issuing test certificates and CRLs with OpenSSL's X509 API and any key OpenSSL knows, NCA's GOST
// keys included (gost/openssl_keys.hpp): the GOST test PKI (gost_test_pki) and the benchmarks'
// applicants, each with a certificate never seen before.
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/openssl_key_methods.hpp"
#include "gost/openssl_keys.hpp"

namespace nqs::test {

using Key = std::shared_ptr<EVP_PKEY>;
using Certificate = std::shared_ptr<X509>;

[[noreturn]] inline void fail(const std::string& what) {
  ERR_print_errors_fp(stderr);
  throw std::runtime_error(what);
}

inline Key gost_key(std::size_t algorithm = 0) {
  auto key = gost::generate_private_key(gost::algorithms()[algorithm]);
  if (!key) fail("GOST key generation");
  return key;
}

inline Key rsa_key() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  if (key == nullptr) fail("RSA key generation");
  return {key, EVP_PKEY_free};
}

inline X509_NAME* name_of(const std::string& slashed) {
  X509_NAME* name = X509_NAME_new();
  std::size_t at = 1;
  while (at < slashed.size()) {
    const auto end = slashed.find('/', at);
    const auto part = slashed.substr(at, end == std::string::npos ? std::string::npos : end - at);
    const auto equals = part.find('=');
    X509_NAME_add_entry_by_txt(name, part.substr(0, equals).c_str(), MBSTRING_UTF8,
                               reinterpret_cast<const unsigned char*>(part.c_str() + equals + 1),
                               -1, -1, 0);
    at = end == std::string::npos ? slashed.size() : end + 1;
  }
  return name;
}

struct Profile {
  std::vector<std::pair<int, std::string>> extensions;
};

inline const std::map<std::string, Profile>& profiles() {
  static const std::map<std::string, Profile> table{
      {"ca",
       {{{NID_basic_constraints, "critical,CA:true"},
         {NID_key_usage, "critical,keyCertSign,cRLSign"}}}},
      {"sign_individual",
       {{{NID_basic_constraints, "critical,CA:false"},
         {NID_key_usage, "critical,digitalSignature,nonRepudiation"},
         {NID_ext_key_usage, "1.2.398.3.3.4.1.1"},
         {NID_certificate_policies, "1.2.398.3.3.2.3"}}}},
      {"auth_individual",
       {{{NID_basic_constraints, "critical,CA:false"},
         {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
         {NID_ext_key_usage, "clientAuth,1.2.398.3.3.4.1.1"}}}},
      {"sign_head",
       {{{NID_basic_constraints, "critical,CA:false"},
         {NID_key_usage, "critical,digitalSignature,nonRepudiation"},
         {NID_ext_key_usage, "1.2.398.3.3.4.1.2,1.2.398.3.3.4.1.2.1"},
         {NID_certificate_policies, "1.2.398.3.3.2.1"}}}},
      {"ocsp_responder",
       {{{NID_basic_constraints, "critical,CA:false"},
         {NID_key_usage, "critical,digitalSignature"},
         {NID_ext_key_usage, "OCSPSigning"}}}},
      {"sign_employee",
       {{{NID_basic_constraints, "critical,CA:false"},
         {NID_key_usage, "critical,digitalSignature,nonRepudiation"},
         {NID_ext_key_usage, "1.2.398.3.3.4.1.2,1.2.398.3.3.4.1.2.5"},
         {NID_certificate_policies, "1.2.398.3.3.2.1"}}}},
  };
  return table;
}

// Random serials: a benchmark's applicants never collide with the test PKI's (or its revoked).
inline long next_serial() {
  unsigned char bytes[7];
  RAND_bytes(bytes, sizeof bytes);
  long serial = 1;
  for (unsigned char byte : bytes)
    serial = serial * 256 + byte;
  return serial;
}

// Issues a certificate for `key` (self-signed when `issuer` is null), valid `from`..`until`
// (YYYYMMDDHHMMSSZ).
// `extra`: more extensions, e.g. {NID_crl_distribution_points, "URI:http://127.0.0.1:8080/ca.crl"},
// {NID_info_access, "OCSP;URI:http://127.0.0.1:8081"}.
inline Certificate issue(const std::string& subject, const Key& key, const std::string& profile,
                         const Certificate& issuer, const Key& issuer_key,
                         const std::string& from = "20200101000000Z",
                         const std::string& until = "20451231000000Z",
                         const std::vector<std::pair<int, std::string>>& extra = {}) {
  Certificate certificate(X509_new(), X509_free);
  X509* x = certificate.get();
  X509_set_version(x, X509_VERSION_3);
  ASN1_INTEGER_set(X509_get_serialNumber(x), next_serial());
  X509_NAME* name = name_of(subject);
  X509_set_subject_name(x, name);
  X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer.get()) : name);
  X509_NAME_free(name);
  ASN1_TIME_set_string(X509_getm_notBefore(x), from.c_str());
  ASN1_TIME_set_string(X509_getm_notAfter(x), until.c_str());
  if (X509_set_pubkey(x, key.get()) != 1) fail("public key of " + subject);
  X509V3_CTX context;
  X509V3_set_ctx(&context, issuer ? issuer.get() : x, x, nullptr, nullptr, 0);
  // certificatePolicies is parsed only with a configuration database: an empty one.
  std::unique_ptr<CONF, decltype(&NCONF_free)> database(NCONF_new(nullptr), NCONF_free);
  X509V3_set_nconf(&context, database.get());
  auto extensions = profiles().at(profile).extensions;
  extensions.emplace_back(NID_subject_key_identifier, "hash");
  extensions.emplace_back(NID_authority_key_identifier, "keyid:always");
  extensions.insert(extensions.end(), extra.begin(), extra.end());
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
    if (extension == nullptr) fail("extension " + value);
    X509_add_ext(x, extension, -1);
    X509_EXTENSION_free(extension);
  }
  const EVP_MD* md = gost::key_of(issuer_key.get()) != nullptr ? nullptr : EVP_sha256();
  if (X509_sign(x, with_builtin_methods(issuer_key.get()).get(), md) <= 0)
    fail("signing " + subject);
  return certificate;
}

// What was written into a memory BIO, which is freed.
inline std::string text_of(BIO* bio) {
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(length));
  BIO_free(bio);
  return out;
}

// A certificate or key as PEM, a certificate as DER.
inline std::string pem_of(const Certificate& certificate) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, certificate.get());
  return text_of(bio);
}

inline std::string pem_of(const Key& key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return text_of(bio);
}

inline std::string der_of(const Certificate& certificate) {
  unsigned char* der = nullptr;
  const int length = i2d_X509(certificate.get(), &der);
  std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  return out;
}

struct Ca {
  Certificate certificate;
  Key key;
  std::vector<Certificate> revoked;
};

inline Ca root(const std::string& subject, Key key) {
  auto certificate = issue(subject, key, "ca", nullptr, key);
  return {certificate, key, {}};
}

inline Ca intermediate(const Ca& parent, const std::string& subject, Key key) {
  return {issue(subject, key, "ca", parent.certificate, parent.key), key, {}};
}

// How a CRL is made: its times (seconds from now when `relative`, else the fixed test dates), its
// number, a delta CRL's base number, the Freshest CRL URL of a base, another signing key.
struct CrlOptions {
  bool relative = false;
  long this_update = -3600;
  long next_update = 3600;
  long number = -1;                  // none
  long delta_base = -1;              // a base CRL
  std::string freshest;              // URI of the delta CRLs
  Key signing_key;                   // default: the CA's
  std::vector<Certificate> revoked;  // instead of ca.revoked when not empty
  long unissued_revoked = 0;         // that many more entries, serials no certificate here has
  long reason = CRL_REASON_KEY_COMPROMISE;  // of the entries of `revoked`
  std::vector<std::int64_t> serials;        // more entries, with these serials, in this order
  bool sorted = true;                       // false: the entries in the order given
  // Fixed times other than the test dates (YYYYMMDDHHMMSSZ), when not `relative`; no nextUpdate
  // when empty.
  std::string this_update_at = "20200101000000Z";
  std::string next_update_at = "20451231000000Z";
};

inline std::string crl_of(const Ca& ca, const CrlOptions& options = {}) {
  std::unique_ptr<X509_CRL, decltype(&X509_CRL_free)> crl(X509_CRL_new(), X509_CRL_free);
  X509_CRL_set_version(crl.get(), 1);
  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.certificate.get()));
  ASN1_TIME* time = ASN1_TIME_new();
  if (options.relative) {
    X509_time_adj_ex(time, 0, options.this_update, nullptr);
  } else {
    ASN1_TIME_set_string(time, options.this_update_at.c_str());
  }
  X509_CRL_set1_lastUpdate(crl.get(), time);
  if (options.relative) {
    X509_time_adj_ex(time, 0, options.next_update, nullptr);
    X509_CRL_set1_nextUpdate(crl.get(), time);
  } else if (!options.next_update_at.empty()) {
    ASN1_TIME_set_string(time, options.next_update_at.c_str());
    X509_CRL_set1_nextUpdate(crl.get(), time);
  }
  if (options.number >= 0) {
    ASN1_INTEGER* number = ASN1_INTEGER_new();
    ASN1_INTEGER_set(number, options.number);
    X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, number, 0, 0);
    if (options.delta_base >= 0) {
      ASN1_INTEGER_set(number, options.delta_base);
      X509_CRL_add1_ext_i2d(crl.get(), NID_delta_crl, number, 1, 0);
    }
    ASN1_INTEGER_free(number);
  }
  const auto& revoked = options.revoked.empty() ? ca.revoked : options.revoked;
  for (const auto& certificate : revoked) {
    X509_REVOKED* entry = X509_REVOKED_new();
    X509_REVOKED_set_serialNumber(entry, X509_get_serialNumber(certificate.get()));
    ASN1_TIME_set_string(time, "20240101000000Z");
    X509_REVOKED_set_revocationDate(entry, time);
    ASN1_ENUMERATED* reason = ASN1_ENUMERATED_new();
    ASN1_ENUMERATED_set(reason, options.reason);
    X509_REVOKED_add1_ext_i2d(entry, NID_crl_reason, reason, 0, 0);
    ASN1_ENUMERATED_free(reason);
    X509_CRL_add0_revoked(crl.get(), entry);
  }
  // A national CA's CRL: serials from 2^40 up, far from the test certificates' own.
  auto serials = options.serials;
  for (long i = 0; i < options.unissued_revoked; ++i)
    serials.push_back((std::int64_t{1} << 40) + i * 7919);
  for (const auto number : serials) {
    X509_REVOKED* entry = X509_REVOKED_new();
    ASN1_INTEGER* serial = ASN1_INTEGER_new();
    ASN1_INTEGER_set_int64(serial, number);
    X509_REVOKED_set_serialNumber(entry, serial);
    ASN1_INTEGER_free(serial);
    ASN1_TIME_set_string(time, "20240101000000Z");
    X509_REVOKED_set_revocationDate(entry, time);
    X509_CRL_add0_revoked(crl.get(), entry);
  }
  ASN1_TIME_free(time);
  X509V3_CTX context;
  X509V3_set_ctx(&context, ca.certificate.get(), nullptr, nullptr, crl.get(), 0);
  X509_EXTENSION* akid =
      X509V3_EXT_conf_nid(nullptr, &context, NID_authority_key_identifier, "keyid:always");
  X509_CRL_add_ext(crl.get(), akid, -1);
  X509_EXTENSION_free(akid);
  if (!options.freshest.empty()) {
    X509_EXTENSION* freshest = X509V3_EXT_conf_nid(nullptr, &context, NID_freshest_crl,
                                                   ("URI:" + options.freshest).c_str());
    if (freshest == nullptr) fail("Freshest CRL extension");
    X509_CRL_add_ext(crl.get(), freshest, -1);
    X509_EXTENSION_free(freshest);
  }
  if (options.sorted) X509_CRL_sort(crl.get());
  const Key& key = options.signing_key ? options.signing_key : ca.key;
  const EVP_MD* md = gost::key_of(key.get()) != nullptr ? nullptr : EVP_sha256();
  if (X509_CRL_sign(crl.get(), with_builtin_methods(key.get()).get(), md) <= 0)
    fail("signing a CRL");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_CRL(bio, crl.get());
  return text_of(bio);
}

}  // namespace nqs::test
