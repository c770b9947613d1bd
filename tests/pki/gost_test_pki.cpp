// Makes the GOST half of the test PKI (tests/pki/make-test-pki.sh makes the RSA half), shaped like
// NCA RK's: keys GOST 34.10-2015/512 with NCA's object identifiers, certificates and CRLs signed
// with them. OpenSSL's own tools cannot, so this does it with the adapter's GOST methods.
//   gost_test_pki OUTDIR                 the PKI below, unless OUTDIR already has this version
//   gost_test_pki OUTDIR --corpus DIR    also every fixture document signed with GOST (fuzzer)
// Into OUTDIR, beside the RSA files, each as NAME.key (PKCS#8 PEM, NCA's key encoding) and
// NAME.pem:
//   gost-root-ca, gost-issuing-ca        root -> issuing CA; gost-ca-chain.pem is both
//   gost-root.crl.pem, gost-issuing.crl.pem   their CRLs (the issuing CA's revokes the revoked)
//   gost-individual-sign|auth|expired|revoked, gost-center-head, gost-center-employee,
//   gost-platform-transport, gost-adapter-sign   the RSA PKI's end entities again, in GOST
//   gost-center-head-2004                a legal entity's GOST 34.310-2004 signing key
//   gost-individual-foreign              issued by gost-foreign-issuing-ca, same names, other keys
//   gost-mixed-root-ca (RSA) -> gost-mixed-issuing-ca (GOST) -> gost-mixed-individual-sign, and
//   gost-mixed-root.crl.pem, gost-mixed-issuing.crl.pem: a chain that mixes RSA and GOST CAs
//   gost-adapter-sign.p12                the adapter's key as NCA delivers it, password in
//                                        gost-adapter-sign.password
#include <openssl/conf.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "gost/openssl_keys.hpp"
#include "intake/signature.hpp"
#include "intake/xml.hpp"

namespace {

using namespace nqs;
namespace fs = std::filesystem;

constexpr const char* kVersion = "3";
// In the order `openssl ca` writes the RSA half's names (its policy section's), so that both
// halves print the same subjects.
constexpr const char* kApplicant =
    "/C=KZ/CN=IVANOV IVAN/serialNumber=IIN850101300124/SN=IVANOV/GN=IVAN";
constexpr const char* kCenter =
    "/C=KZ/O=TOO Test Recognition Center/OU=BIN120340501232/CN=SEITOV "
    "ASKAR/serialNumber=IIN750305300777";
constexpr const char* kPlatform = "/C=KZ/O=NQS Platform/OU=BIN140450600708/CN=NQS PLATFORM";
constexpr const char* kAdapter = "/C=KZ/O=Labour Mobility Center/OU=BIN140450600708/CN=NQS ADAPTER";

using Key = std::shared_ptr<EVP_PKEY>;
using Certificate = std::shared_ptr<X509>;

[[noreturn]] void fail(const std::string& what) {
  ERR_print_errors_fp(stderr);
  throw std::runtime_error(what);
}

Key gost_key(std::size_t algorithm = 0) {
  auto key = gost::generate_private_key(gost::algorithms()[algorithm]);
  if (!key) fail("GOST key generation");
  return key;
}

Key rsa_key() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  if (key == nullptr) fail("RSA key generation");
  return {key, EVP_PKEY_free};
}

X509_NAME* name_of(const std::string& slashed) {
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

const std::map<std::string, Profile>& profiles() {
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
      {"sign_employee",
       {{{NID_basic_constraints, "critical,CA:false"},
         {NID_key_usage, "critical,digitalSignature,nonRepudiation"},
         {NID_ext_key_usage, "1.2.398.3.3.4.1.2,1.2.398.3.3.4.1.2.5"},
         {NID_certificate_policies, "1.2.398.3.3.2.1"}}}},
  };
  return table;
}

long next_serial() {
  static long serial = 0x2000;
  return ++serial;
}

// Issues a certificate for `key` (self-signed when `issuer` is null), valid `from`..`until`
// (YYYYMMDDHHMMSSZ).
Certificate issue(const std::string& subject, const Key& key, const std::string& profile,
                  const Certificate& issuer, const Key& issuer_key,
                  const std::string& from = "20200101000000Z",
                  const std::string& until = "20451231000000Z") {
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
  for (const auto& [nid, value] : extensions) {
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str());
    if (extension == nullptr) fail("extension " + value);
    X509_add_ext(x, extension, -1);
    X509_EXTENSION_free(extension);
  }
  const EVP_MD* md = gost::key_of(issuer_key.get()) != nullptr ? nullptr : EVP_sha256();
  if (X509_sign(x, issuer_key.get(), md) <= 0) fail("signing " + subject);
  return certificate;
}

struct Ca {
  Certificate certificate;
  Key key;
  std::vector<Certificate> revoked;
};

Ca root(const std::string& subject, Key key) {
  auto certificate = issue(subject, key, "ca", nullptr, key);
  return {certificate, key, {}};
}

Ca intermediate(const Ca& parent, const std::string& subject, Key key) {
  return {issue(subject, key, "ca", parent.certificate, parent.key), key, {}};
}

std::string crl_of(const Ca& ca) {
  std::unique_ptr<X509_CRL, decltype(&X509_CRL_free)> crl(X509_CRL_new(), X509_CRL_free);
  X509_CRL_set_version(crl.get(), 1);
  X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.certificate.get()));
  ASN1_TIME* time = ASN1_TIME_new();
  ASN1_TIME_set_string(time, "20200101000000Z");
  X509_CRL_set1_lastUpdate(crl.get(), time);
  ASN1_TIME_set_string(time, "20451231000000Z");
  X509_CRL_set1_nextUpdate(crl.get(), time);
  for (const auto& certificate : ca.revoked) {
    X509_REVOKED* entry = X509_REVOKED_new();
    X509_REVOKED_set_serialNumber(entry, X509_get_serialNumber(certificate.get()));
    ASN1_TIME_set_string(time, "20240101000000Z");
    X509_REVOKED_set_revocationDate(entry, time);
    ASN1_ENUMERATED* reason = ASN1_ENUMERATED_new();
    ASN1_ENUMERATED_set(reason, CRL_REASON_KEY_COMPROMISE);
    X509_REVOKED_add1_ext_i2d(entry, NID_crl_reason, reason, 0, 0);
    ASN1_ENUMERATED_free(reason);
    X509_CRL_add0_revoked(crl.get(), entry);
  }
  ASN1_TIME_free(time);
  X509V3_CTX context;
  X509V3_set_ctx(&context, ca.certificate.get(), nullptr, nullptr, crl.get(), 0);
  X509_EXTENSION* akid =
      X509V3_EXT_conf_nid(nullptr, &context, NID_authority_key_identifier, "keyid:always");
  X509_CRL_add_ext(crl.get(), akid, -1);
  X509_EXTENSION_free(akid);
  X509_CRL_sort(crl.get());
  const EVP_MD* md = gost::key_of(ca.key.get()) != nullptr ? nullptr : EVP_sha256();
  if (X509_CRL_sign(crl.get(), ca.key.get(), md) <= 0) fail("signing a CRL");
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_CRL(bio, crl.get());
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(length));
  BIO_free(bio);
  return out;
}

class Writer {
 public:
  explicit Writer(fs::path out) : out_(std::move(out)) {}
  void text(const std::string& name, const std::string& text) const {
    std::ofstream(out_ / name, std::ios::binary) << text;
  }
  void certificates(const std::string& name, const std::vector<Certificate>& list) const {
    FILE* file = std::fopen((out_ / name).c_str(), "w");
    for (const auto& certificate : list)
      PEM_write_X509(file, certificate.get());
    std::fclose(file);
  }
  void key(const std::string& name, const Key& key) const {
    const auto path = out_ / (name + ".key");
    FILE* file = std::fopen(path.c_str(), "w");
    if (PEM_write_PrivateKey(file, key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
      fail("writing " + name);
    }
    std::fclose(file);
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  }
  void entity(const std::string& name, const Certificate& certificate, const Key& key) const {
    certificates(name + ".pem", {certificate});
    this->key(name, key);
  }
  const fs::path& path() const { return out_; }

 private:
  fs::path out_;
};

void write_pkcs12(const Writer& writer, const std::string& name, const Key& key,
                  const Certificate& certificate, const std::vector<Certificate>& cas,
                  const std::string& password) {
  STACK_OF(X509)* chain = sk_X509_new_null();
  for (const auto& ca : cas)
    sk_X509_push(chain, ca.get());
  PKCS12* p12 = PKCS12_create(password.c_str(), name.c_str(), key.get(), certificate.get(), chain,
                              0, 0, 0, 0, 0);
  sk_X509_free(chain);
  if (p12 == nullptr) fail("PKCS#12 of " + name);
  FILE* file = std::fopen((writer.path() / (name + ".p12")).c_str(), "wb");
  i2d_PKCS12_fp(file, p12);
  std::fclose(file);
  PKCS12_free(p12);
}

void make_pki(const Writer& out) {
  Ca root_ca = root("/C=KZ/O=NQS Test/CN=NQS Test GOST Root CA", gost_key());
  Ca issuing = intermediate(root_ca, "/C=KZ/O=NQS Test/CN=NQS Test GOST Issuing CA", gost_key());
  Ca foreign_root = root("/C=KZ/O=NQS Test/CN=NQS Test GOST Root CA", gost_key());
  Ca foreign =
      intermediate(foreign_root, "/C=KZ/O=NQS Test/CN=NQS Test GOST Issuing CA", gost_key());

  auto entity = [&](const std::string& name, const char* subject, const std::string& profile,
                    Ca& ca, Key key = gost_key(), const std::string& from = "20200101000000Z",
                    const std::string& until = "20451231000000Z") {
    auto certificate = issue(subject, key, profile, ca.certificate, ca.key, from, until);
    out.entity(name, certificate, key);
    return std::pair{certificate, key};
  };
  entity("gost-individual-sign", kApplicant, "sign_individual", issuing);
  entity("gost-individual-auth", kApplicant, "auth_individual", issuing);
  entity("gost-individual-expired", kApplicant, "sign_individual", issuing, gost_key(),
         "20200101000000Z", "20210101000000Z");
  auto [revoked, revoked_key] =
      entity("gost-individual-revoked", kApplicant, "sign_individual", issuing);
  issuing.revoked.push_back(revoked);
  entity("gost-individual-foreign", kApplicant, "sign_individual", foreign);
  entity("gost-center-head", kCenter, "sign_head", issuing);
  entity("gost-center-head-2004", kCenter, "sign_head", issuing, gost_key(2));
  entity("gost-center-employee", kCenter, "sign_employee", issuing);
  entity("gost-platform-transport", kPlatform, "sign_head", issuing);
  auto [adapter, adapter_key] = entity("gost-adapter-sign", kAdapter, "sign_head", issuing);

  out.certificates("gost-root-ca.pem", {root_ca.certificate});
  out.certificates("gost-issuing-ca.pem", {issuing.certificate});
  out.certificates("gost-ca-chain.pem", {root_ca.certificate, issuing.certificate});
  out.certificates("gost-foreign-issuing-ca.pem", {foreign.certificate});
  out.certificates("gost-adapter-chain.pem", {adapter, issuing.certificate});
  out.text("gost-root.crl.pem", crl_of(root_ca));
  out.text("gost-issuing.crl.pem", crl_of(issuing));
  // The adapter's key as NCA delivers it: a password-protected PKCS#12 with the chain.
  unsigned char random[12];
  RAND_bytes(random, sizeof random);
  std::string password;
  for (unsigned char c : random)
    password += "abcdefghjkmnpqrstuvwxyz23456789"[c % 31];
  out.text("gost-adapter-sign.password", password + "\n");
  write_pkcs12(out, "gost-adapter-sign", adapter_key, adapter, {issuing.certificate}, password);

  // RSA root -> GOST issuing CA -> GOST signer.
  Ca mixed_root = root("/C=KZ/O=NQS Test/CN=NQS Test Mixed RSA Root CA", rsa_key());
  Ca mixed =
      intermediate(mixed_root, "/C=KZ/O=NQS Test/CN=NQS Test Mixed GOST Issuing CA", gost_key());
  entity("gost-mixed-individual-sign", kApplicant, "sign_individual", mixed);
  out.certificates("gost-mixed-root-ca.pem", {mixed_root.certificate});
  out.certificates("gost-mixed-issuing-ca.pem", {mixed.certificate});
  out.text("gost-mixed-root.crl.pem", crl_of(mixed_root));
  out.text("gost-mixed-issuing.crl.pem", crl_of(mixed));
}

// Every fixture document signed with the GOST keys, in the Kalkan profile (fuzzer seeds).
void sign_fixtures(const fs::path& pki, const fs::path& source, const fs::path& corpus) {
  intake::ensure_xml_security_initialised();
  fs::create_directories(corpus);
  const std::vector<std::pair<std::string, std::string>> documents{
      {"voucher-application", "gost-individual-sign"},
      {"recognition-center-decision", "gost-center-head"},
      {"sick-leave-notice", "gost-individual-sign"},
      {"recognition-outcome", "gost-center-head-2004"},
      {"service-act", "gost-center-head"}};
  for (const auto& [document, signer] : documents) {
    FILE* key_file = std::fopen((pki / (signer + ".key")).c_str(), "r");
    FILE* certificate_file = std::fopen((pki / (signer + ".pem")).c_str(), "r");
    if (key_file == nullptr || certificate_file == nullptr)
      fail("no key or certificate of " + signer);
    Key key(PEM_read_PrivateKey(key_file, nullptr, nullptr, nullptr), EVP_PKEY_free);
    Certificate certificate(PEM_read_X509(certificate_file, nullptr, nullptr, nullptr), X509_free);
    std::fclose(key_file);
    std::fclose(certificate_file);
    const auto path = source / "tests/fixtures/documents" / (document + ".xml");
    intake::XmlDoc doc(xmlReadFile(path.c_str(), nullptr, XML_PARSE_NONET));
    xmlNode* element = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    for (const char* step : {"Body", "SendMessage", "request", "requestData", "data"}) {
      for (xmlNode* child = element == nullptr ? nullptr : element->children; child != nullptr;
           child = child->next) {
        if (child->type == XML_ELEMENT_NODE && intake::as_view(child->name) == step) {
          element = child;
          break;
        }
      }
    }
    element = element == nullptr ? nullptr : intake::element_children(element).front();
    if (element == nullptr) fail("no document in " + path.string());
    if (xmlNode* old = intake::child_element(element, intake::kXmlDsigNs, "Signature")) {
      xmlUnlinkNode(old);
      xmlFreeNode(old);
    }
    const auto* algorithm = gost::key_of(key.get())->public_key.algorithm;
    intake::SigningOptions options;
    options.c14n = intake::kInclusiveC14n;
    options.reference_c14n = intake::kInclusiveC14nWithComments;
    options.signature_method = algorithm->signature_uri;
    options.digest_method = algorithm->digest_uri;
    if (auto problem = intake::sign_enveloped(element, key.get(), {certificate.get()}, options)) {
      fail(*problem);
    }
    xmlSaveFormatFileEnc((corpus / ("gost-" + document + ".xml")).c_str(), doc.get(), "UTF-8", 0);
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    if (argc != 2 && !(argc == 4 && std::string(argv[2]) == "--corpus")) {
      std::cerr << "usage: gost_test_pki OUTDIR [--corpus DIR]\n";
      return 2;
    }
    gost::register_with_openssl();
    const fs::path out = argv[1];
    fs::create_directories(out);
    std::string version;
    std::ifstream(out / "gost-pki-version") >> version;
    if (version != kVersion) {
      make_pki(Writer(out));
      std::ofstream(out / "gost-pki-version") << kVersion << "\n";
      std::cout << "GOST test PKI written to " << out.string() << "\n";
    }
    if (argc == 4) sign_fixtures(out, NQS_SOURCE_DIR, argv[3]);
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "gost_test_pki: " << error.what() << "\n";
    return 1;
  }
}
