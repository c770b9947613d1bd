#include "notify/signer.hpp"

#include <fmt/format.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>

#include <boost/json.hpp>
#include <cstdio>
#include <fstream>
#include <mutex>

#include "common/openssl_error.hpp"
#include "common/openssl_key_methods.hpp"
#include "gost/openssl_keys.hpp"
#include "revocation/x509_facts.hpp"

namespace nqs::notify {
namespace {

Result<Signer> checked(Signer signer, const std::string& where) {
  if (!signer.key) return make_error(fmt::format("{}: no private key", where));
  signer.key = with_builtin_methods(signer.key.get());
  if (signer.certificates.empty()) return make_error(fmt::format("{}: no certificate", where));
  if (X509_check_private_key(signer.certificates.front().get(), signer.key.get()) != 1) {
    ERR_clear_error();
    return make_error(fmt::format("{}: the first certificate is not the one of the key", where));
  }
  return signer;
}

// A library context with the default and legacy providers, for PKCS#12 files only; kept for the
// process, because what is read in it keeps a reference to it.
OSSL_LIB_CTX* pkcs12_context() {
  static OSSL_LIB_CTX* context = [] {
    OSSL_LIB_CTX* created = OSSL_LIB_CTX_new();
    OSSL_PROVIDER_load(created, "default");
    OSSL_PROVIDER_load(created, "legacy");  // RC2-40 and 3DES bags; absent: such files fail
    ERR_clear_error();
    return created;
  }();
  return context;
}

// A certificate read again in the default library context.
std::shared_ptr<X509> reparsed(X509* certificate) {
  unsigned char* der = nullptr;
  const int length = i2d_X509(certificate, &der);
  const unsigned char* p = der;
  X509* copy = length > 0 ? d2i_X509(nullptr, &p, length) : nullptr;
  OPENSSL_free(der);
  return copy == nullptr ? nullptr : std::shared_ptr<X509>(copy, X509_free);
}

}  // namespace

Result<Signer> load_signer(const std::filesystem::path& key,
                           const std::filesystem::path& certificates) {
  gost::register_key_methods();
  Signer signer;
  FILE* key_file = std::fopen(key.c_str(), "r");
  if (key_file == nullptr) return make_error(fmt::format("{}: cannot be read", key.string()));
  EVP_PKEY* private_key = PEM_read_PrivateKey(key_file, nullptr, nullptr, nullptr);
  std::fclose(key_file);
  if (private_key == nullptr) {
    ERR_clear_error();
    return make_error(fmt::format("{}: not a PEM private key (unencrypted)", key.string()));
  }
  signer.key.reset(private_key, EVP_PKEY_free);
  FILE* certificate_file = std::fopen(certificates.c_str(), "r");
  if (certificate_file == nullptr)
    return make_error(fmt::format("{}: cannot be read", certificates.string()));
  while (X509* certificate = PEM_read_X509(certificate_file, nullptr, nullptr, nullptr)) {
    signer.certificates.emplace_back(certificate, X509_free);
  }
  ERR_clear_error();
  std::fclose(certificate_file);
  if (signer.certificates.empty()) {
    return make_error(fmt::format("{}: no PEM certificate", certificates.string()));
  }
  return checked(std::move(signer), certificates.string());
}

Result<Signer> load_pkcs12_signer(const std::filesystem::path& file, const std::string& password) {
  gost::register_key_methods();
  std::ifstream in(file, std::ios::binary);
  if (!in) return make_error(fmt::format("{}: cannot be read", file.string()));
  const std::string bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};

  // PKCS12_* take the library context of the thread's default: the one with the legacy provider,
  // for the length of the reading.
  OSSL_LIB_CTX* previous = OSSL_LIB_CTX_set0_default(pkcs12_context());
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  PKCS12* p12 = d2i_PKCS12(nullptr, &p, static_cast<long>(bytes.size()));
  EVP_PKEY* key = nullptr;
  X509* certificate = nullptr;
  STACK_OF(X509)* cas = nullptr;
  std::string problem;
  if (p12 == nullptr) {
    problem = "not a PKCS#12 file";
  } else if (PKCS12_verify_mac(p12, password.c_str(), static_cast<int>(password.size())) != 1) {
    problem = "the password is wrong (or the file is damaged): its MAC does not verify";
  } else if (PKCS12_parse(p12, password.c_str(), &key, &certificate, &cas) != 1) {
    problem = "cannot be decrypted or read: " + openssl_error();
  }
  OSSL_LIB_CTX_set0_default(previous);
  PKCS12_free(p12);
  ERR_clear_error();

  Signer signer;
  signer.key.reset(key, EVP_PKEY_free);
  if (certificate != nullptr) {
    signer.certificates.push_back(reparsed(certificate));
    X509_free(certificate);
  }
  for (int i = 0; i < sk_X509_num(cas); ++i) {
    if (auto ca = reparsed(sk_X509_value(cas, i))) signer.certificates.push_back(std::move(ca));
  }
  sk_X509_pop_free(cas, X509_free);
  if (!problem.empty()) return make_error(fmt::format("{}: {}", file.string(), problem));
  return checked(std::move(signer), file.string());
}

xmldsig::SigningOptions signing_options(EVP_PKEY* key) {
  xmldsig::SigningOptions options;
  if (const auto* gost_key = gost::key_of(key)) {
    options.c14n = xmldsig::kInclusiveC14n;
    options.reference_c14n = xmldsig::kInclusiveC14nWithComments;
    options.signature_method = gost_key->public_key.algorithm->signature_uri;
    options.digest_method = gost_key->public_key.algorithm->digest_uri;
  } else if (EVP_PKEY_base_id(key) == EVP_PKEY_EC) {
    options.signature_method = xmldsig::kEcdsaSha256;
  }
  return options;
}

SignerEvidence signer_evidence(const Signer& signer) {
  SignerEvidence out;
  if (signer.certificates.empty()) return out;
  X509* certificate = signer.certificates.front().get();
  out.signer_json = boost::json::serialize(
      boost::json::object{{"subject", revocation::name_text(X509_get_subject_name(certificate))},
                          {"serial", revocation::serial_hex(certificate)},
                          {"issuer", revocation::name_text(X509_get_issuer_name(certificate))}});
  for (const auto& each : signer.certificates)
    out.chain_pem += revocation::pem_certificate(revocation::certificate_der(each.get()));
  return out;
}

}  // namespace nqs::notify
