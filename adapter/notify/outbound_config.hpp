#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/result.hpp"
#include "notify/signer.hpp"
#include "yaml/reader.hpp"

namespace nqs::notify {

// The adapter's own signature on its notifications to the bus, and how they are built.
struct OutboundConfig {
  std::filesystem::path signing_key;
  std::filesystem::path signing_certificate;    // PEM: the adapter's certificate, then its CAs
  std::filesystem::path signing_pkcs12;         // or both in a PKCS#12, as NCA RK delivers them
  std::filesystem::path signing_password_file;  // its password (else NQS_SIGNING_PASSWORD)
  std::string sender_id = "nqs-adapter";
  std::string service_id = "NQS_VOUCHER";
  std::vector<std::filesystem::path> mappings;
};

// Reads the `signing` and `outbound` sections.
void read_outbound_config(yaml::Reader signing, yaml::Reader outbound, OutboundConfig& out);

// The adapter's signing key from signing.pkcs12 (with its password from signing.password_file,
// else NQS_SIGNING_PASSWORD) or from signing.key and signing.certificate.
Result<Signer> load_configured_signer(const OutboundConfig& config);

}  // namespace nqs::notify
