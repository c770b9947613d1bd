#include "xmldsig/trust_config.hpp"

#include <fmt/format.h>

#include "gost/algorithms.hpp"
#include "revocation/http_fetch.hpp"
#include "revocation/ocsp.hpp"
#include "xmldsig/signature.hpp"

namespace nqs::xmldsig {

using yaml::existing_files;
using yaml::Reader;
namespace {

std::vector<std::string> default_allowed_algorithms() {
  std::vector<std::string> out;
  for (const auto& algorithm : gost::algorithms()) {
    out.emplace_back(algorithm.signature_uri);
    out.emplace_back(algorithm.digest_uri);
  }
  for (auto uri : {kRsaSha256, kEcdsaSha256, kSha256})
    out.emplace_back(uri);
  return out;
}

// Revocation: fetched CRLs and OCSP, with their bounds.
void read_revocation(Reader& trust, TrustConfig& out) {
  out.crl_fetch = trust.flag("crl_fetch", out.crl_fetch);
  // Revocation is always checked: without CRL files, fetching or OCSP nothing could be accepted.
  if (out.crls.empty() && !out.crl_fetch && out.revocation == RevocationPolicy::crl) {
    if (auto crls = trust.field("crls")) {
      crls->problem(
          "list the CRLs of the anchors, or let the daemon fetch them (trust.crl_fetch) or ask "
          "OCSP (trust.revocation): revocation is always checked");
    } else {
      trust.problem(
          "give trust.crls, or let the daemon fetch them (trust.crl_fetch) or ask OCSP "
          "(trust.revocation): revocation is always checked");
    }
  }
  for (const auto& entry : trust.list("crl_urls")) {
    auto url = entry.as_text();
    if (!url) continue;
    if (auto parsed = revocation::parse_http_url(*url); !parsed) {
      entry.problem(parsed.error().message);
      continue;
    }
    out.crl_urls.push_back(*url);
  }
  {
    std::filesystem::path dir(trust.text("crl_cache_dir", "../var/crls"));
    if (dir.is_relative()) dir = (trust.file().parent_path() / dir).lexically_normal();
    out.crl_cache_dir = dir;
  }
  using std::chrono::hours;
  using std::chrono::milliseconds;
  using std::chrono::seconds;
  out.crl_refresh_interval = trust.duration("crl_refresh_interval", milliseconds{100},
                                            hours{24 * 7}, out.crl_refresh_interval);
  out.crl_refresh_before =
      trust.duration("crl_refresh_before", milliseconds{0}, hours{24 * 30}, out.crl_refresh_before);
  out.crl_warn_before =
      trust.duration("crl_warn_before", milliseconds{0}, hours{24 * 30}, out.crl_warn_before);
  out.crl_fetch_timeout = trust.duration("crl_fetch_timeout", milliseconds{100},
                                         std::chrono::minutes{10}, out.crl_fetch_timeout);
  out.crl_max_bytes = trust.integer("crl_max_bytes", 1024, 1024LL * 1024 * 1024, out.crl_max_bytes);
  if (auto url = trust.field("ocsp_url")) {
    if (auto text = url->as_text()) {
      if (auto parsed = revocation::parse_http_url(*text); !parsed) {
        url->problem(parsed.error().message);
      } else {
        out.ocsp_url = *text;
      }
    }
  }
  out.ocsp_timeout =
      trust.duration("ocsp_timeout", milliseconds{100}, std::chrono::minutes{1}, out.ocsp_timeout);
  out.ocsp_max_age = trust.duration("ocsp_max_age", seconds{1}, hours{24 * 7}, out.ocsp_max_age);
  out.ocsp_cache_size = trust.integer("ocsp_cache_size", 0, 10'000'000, out.ocsp_cache_size);
  out.expiry_warn_before = trust.duration("expiry_warn_before", milliseconds{0}, hours{24 * 365},
                                          out.expiry_warn_before);
}

// The signature and digest methods a signed document may use.
void read_algorithms(Reader& trust, TrustConfig& out) {
  if (trust.field("allowed_algorithms")) {
    for (const auto& entry : trust.list("allowed_algorithms")) {
      auto uri = entry.as_text();
      if (!uri) continue;
      if (!is_supported_algorithm(*uri)) {
        entry.problem(
            fmt::format("'{}' is not a signature or digest algorithm xmlsec supports here", *uri));
        continue;
      }
      out.allowed_algorithms.push_back(*uri);
    }
  } else {
    // messages.md: NCA's GOST methods, RSA-SHA256 and ECDSA-SHA256 with SHA-256 digests; SHA-1
    // is off by default.
    out.allowed_algorithms = default_allowed_algorithms();
  }
}

}  // namespace

void read_trust_config(Reader trust, TrustConfig& out) {
  // Fail closed: with no anchor every signature would be refused, so say it now.
  out.anchors = existing_files(trust, "anchors", "list at least one trust anchor");
  // Files an operator replaces (the offline option); fetched CRLs and OCSP may stand instead.
  for (const auto& entry : trust.list("crls")) {
    if (auto path = entry.as_existing_file()) out.crls.push_back(*path);
  }
  if (auto policy = trust.field("revocation")) {
    std::initializer_list<std::string_view> policies{kRevocationPolicies[0], kRevocationPolicies[1],
                                                     kRevocationPolicies[2]};
    if (auto chosen = policy->as_choice(policies)) {
      out.revocation = *chosen == "ocsp"  ? RevocationPolicy::ocsp
                       : *chosen == "crl" ? RevocationPolicy::crl
                                          : RevocationPolicy::ocsp_then_crl;
    }
  }
  read_revocation(trust, out);
  read_algorithms(trust, out);
  out.certificate_cache_size = static_cast<std::size_t>(
      trust.integer("certificate_cache_size", 0, 10'000'000,
                    static_cast<std::int64_t>(out.certificate_cache_size)));
  out.min_rsa_bits = static_cast<int>(trust.integer("min_rsa_bits", 1024, 16384, out.min_rsa_bits));
  if (trust.field("ec_curves")) {
    out.ec_curves.clear();
    for (const auto& entry : trust.list("ec_curves")) {
      std::initializer_list<std::string_view> curves{kEcCurves[0], kEcCurves[1], kEcCurves[2]};
      if (auto curve = entry.as_choice(curves)) out.ec_curves.push_back(*curve);
    }
  }
  trust.finish();
}

TrustSettings trust_settings(const TrustConfig& trust, bool offline) {
  TrustSettings settings;
  settings.anchors = trust.anchors;
  settings.crls = trust.crls;
  settings.cache_size = trust.certificate_cache_size;
  settings.min_rsa_bits = trust.min_rsa_bits;
  settings.ec_curves = trust.ec_curves;
  settings.revocation = offline ? RevocationPolicy::crl : trust.revocation;
  if (settings.revocation != RevocationPolicy::crl) {
    revocation::OcspSettings ocsp;
    ocsp.url = trust.ocsp_url;
    ocsp.limits.timeout = trust.ocsp_timeout;
    ocsp.max_age = trust.ocsp_max_age;
    ocsp.cache_size = static_cast<std::size_t>(trust.ocsp_cache_size);
    settings.ocsp = std::make_shared<revocation::OcspClient>(std::move(ocsp));
  }
  return settings;
}

}  // namespace nqs::xmldsig
