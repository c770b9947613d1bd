// Makes the GOST half of the test PKI (tests/pki/make-test-pki.sh makes the RSA half), shaped like
// NCA RK's: keys GOST 34.10-2015/512 with NCA's object identifiers, certificates and CRLs signed
// with them. OpenSSL's own tools cannot, so this does it with the adapter's GOST methods.
//   gost_test_pki OUTDIR                 the PKI below, unless OUTDIR already has this version
//   gost_test_pki OUTDIR --corpus DIR    also every fixture document signed with GOST (fuzzer)
// Into OUTDIR, beside the RSA files, each as NAME.key (PKCS#8 PEM, NCA's key encoding) and
// NAME.pem:
//   gost-root-ca, gost-issuing-ca        root -> issuing CA (with its key, for the benchmarks);
//                                        gost-ca-chain.pem is both
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
#include "test_ca.hpp"
#include "xml/xml.hpp"
#include "xmldsig/signature.hpp"

namespace {

using namespace nqs;
using namespace nqs::test;
namespace fs = std::filesystem;

constexpr const char* kVersion = "4";
// In the order `openssl ca` writes the RSA half's names (its policy section's), so that both
// halves print the same subjects.
constexpr const char* kApplicant =
    "/C=KZ/CN=IVANOV IVAN/serialNumber=IIN850101300124/SN=IVANOV/GN=IVAN";
constexpr const char* kCenter =
    "/C=KZ/O=TOO Test Recognition Center/OU=BIN120340501232/CN=SEITOV "
    "ASKAR/serialNumber=IIN750305300777";
constexpr const char* kPlatform = "/C=KZ/O=NQS Platform/OU=BIN140450600708/CN=NQS PLATFORM";
constexpr const char* kAdapter = "/C=KZ/O=Labour Mobility Center/OU=BIN140450600708/CN=NQS ADAPTER";

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
  // The issuing CA's key too: the benchmarks issue their applicants under it.
  out.key("gost-issuing-ca", issuing.key);
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
  xmldsig::ensure_xml_security_initialised();
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
    xml::XmlDoc doc(xmlReadFile(path.c_str(), nullptr, XML_PARSE_NONET));
    xmlNode* element = doc ? xmlDocGetRootElement(doc.get()) : nullptr;
    for (const char* step : {"Body", "SendMessage", "request", "requestData", "data"}) {
      for (xmlNode* child = element == nullptr ? nullptr : element->children; child != nullptr;
           child = child->next) {
        if (child->type == XML_ELEMENT_NODE && xml::as_view(child->name) == step) {
          element = child;
          break;
        }
      }
    }
    element = element == nullptr ? nullptr : xml::element_children(element).front();
    if (element == nullptr) fail("no document in " + path.string());
    if (xmlNode* old = xml::child_element(element, xmldsig::kXmlDsigNs, "Signature")) {
      xmlUnlinkNode(old);
      xmlFreeNode(old);
    }
    const auto* algorithm = gost::key_of(key.get())->public_key.algorithm;
    xmldsig::SigningOptions options;
    options.c14n = xmldsig::kInclusiveC14n;
    options.reference_c14n = xmldsig::kInclusiveC14nWithComments;
    options.signature_method = algorithm->signature_uri;
    options.digest_method = algorithm->digest_uri;
    if (auto problem = xmldsig::sign_enveloped(element, key.get(), {certificate.get()}, options)) {
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
