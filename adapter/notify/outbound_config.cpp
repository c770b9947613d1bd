#include "notify/outbound_config.hpp"

#include <fstream>

#include "common/environment.hpp"

namespace nqs::notify {

using yaml::Reader;

void read_outbound_config(Reader signing, Reader outbound, OutboundConfig& out) {
  // Either a PKCS#12 as NCA RK delivers the key (its password never in this file), or an
  // unencrypted PEM key and its certificate chain.
  if (auto pkcs12 = signing.field("pkcs12")) {
    out.signing_pkcs12 = pkcs12->as_existing_file().value_or("");
    if (auto password_file = signing.field("password_file")) {
      out.signing_password_file = password_file->as_existing_file().value_or("");
    } else if (pkcs12->opens_files() && !from_environment("NQS_SIGNING_PASSWORD")) {
      pkcs12->problem(
          "its password is needed: signing.password_file, or the environment variable "
          "NQS_SIGNING_PASSWORD");
    }
    for (const char* pem : {"key", "certificate"}) {
      if (auto given = signing.field(pem)) {
        given->problem("give either signing.pkcs12 or signing.key and signing.certificate");
      }
    }
  } else {
    if (auto key = signing.required("key")) out.signing_key = key->as_existing_file().value_or("");
    if (auto certificate = signing.required("certificate")) {
      out.signing_certificate = certificate->as_existing_file().value_or("");
    }
    if (auto password_file = signing.field("password_file")) {
      password_file->problem("is the password of signing.pkcs12, which is not given");
    }
  }
  signing.finish();
  out.sender_id = outbound.text("sender_id", out.sender_id);
  out.service_id = outbound.text("service_id", out.service_id);
  out.mappings = yaml::existing_files(outbound, "mappings", "list the outbound document mappings");
  outbound.finish();
}

Result<Signer> load_configured_signer(const OutboundConfig& config) {
  if (config.signing_pkcs12.empty()) {
    return load_signer(config.signing_key, config.signing_certificate);
  }
  std::string password = from_environment("NQS_SIGNING_PASSWORD").value_or("");
  if (!config.signing_password_file.empty()) {
    std::ifstream in(config.signing_password_file, std::ios::binary);
    std::getline(in, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
  }
  return load_pkcs12_signer(config.signing_pkcs12, password);
}

}  // namespace nqs::notify
