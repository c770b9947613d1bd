#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "xmldsig/trust_store.hpp"
#include "yaml/reader.hpp"

namespace nqs::xmldsig {

// The `trust` section of the configuration: the anchors, revocation and the algorithms allowed.
struct TrustConfig {
  std::vector<std::filesystem::path> anchors;
  std::vector<std::filesystem::path> crls;  // the offline option: files an operator replaces
  std::vector<std::string> allowed_algorithms;
  std::size_t certificate_cache_size = 10000;
  int min_rsa_bits = 2048;
  std::vector<std::string> ec_curves = {"P-256"};
  xmldsig::RevocationPolicy revocation = xmldsig::RevocationPolicy::crl;
  // CRLs fetched from the anchors' distribution points, these URLs, and those that verified
  // signer certificates name; kept in crl_cache_dir.
  bool crl_fetch = true;
  std::vector<std::string> crl_urls;
  std::filesystem::path crl_cache_dir;  // resolved against the configuration file's folder
  std::chrono::milliseconds crl_refresh_interval{std::chrono::hours{1}};
  std::chrono::milliseconds crl_refresh_before{std::chrono::hours{2}};
  std::chrono::milliseconds crl_warn_before{std::chrono::hours{1}};
  std::chrono::milliseconds crl_fetch_timeout{std::chrono::seconds{30}};
  std::int64_t crl_max_bytes = 128LL * 1024 * 1024;
  std::string ocsp_url;  // instead of the certificates' AIA
  std::chrono::milliseconds ocsp_timeout{std::chrono::seconds{3}};
  std::chrono::milliseconds ocsp_max_age{std::chrono::minutes{10}};
  std::int64_t ocsp_cache_size = 10000;
  // The adapter's signing certificate, the anchors and the CRL signers: said ahead of their end.
  std::chrono::milliseconds expiry_warn_before{std::chrono::hours{24 * 30}};
};

// Reads the `trust` section.
void read_trust_config(yaml::Reader trust, TrustConfig& out);

// How the trust store checks revocation: offline (inspect --offline), by the CRL files and the
// cached CRLs alone.
TrustSettings trust_settings(const TrustConfig& trust, bool offline);

}  // namespace nqs::xmldsig
