#pragma once

#include <openssl/x509.h>

#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "common/instant.hpp"
#include "revocation/http_fetch.hpp"

namespace nqs::revocation {

enum class OcspStatus { good, revoked, unknown, unavailable };
std::string_view status_name(OcspStatus status);

struct OcspAnswer {
  OcspStatus status = OcspStatus::unavailable;
  std::string detail;  // why unavailable; the revocation time and reason when revoked
  std::optional<Instant> revoked_at;
  std::string responder;  // the URL asked
  // The responder's answer as received (DER OCSPResponse), for the evidence archive (issue 18).
  std::string response_der;
};

struct OcspSettings {
  std::string url;  // trust.ocsp_url: asked instead of the certificates' AIA
  HttpLimits limits{std::chrono::milliseconds{3000}, 64 * 1024};
  // An answer without nextUpdate is current this long after its thisUpdate; a good or revoked
  // answer is reused until its nextUpdate, and never longer than this.
  std::chrono::milliseconds max_age{std::chrono::minutes{10}};
  std::size_t cache_size = 10000;
  // A responder that failed is not asked again this long (its certificates' status is then
  // unavailable at once, and trust.revocation decides): one dead responder must not hold every
  // worker for its timeout.
  std::chrono::milliseconds pause_after_failure{std::chrono::seconds{10}};
};

struct OcspStats {
  std::map<std::string, std::uint64_t> answers;  // by status, and "cached"
  double seconds_sum = 0;                        // responders' latency
  std::uint64_t requests = 0;
  std::size_t cached = 0;
};

// RFC 6960 status requests with a nonce, from worker threads: the answer's signature verified (the
// certificate's CA, or a responder with id-kp-OCSPSigning that CA issued, chaining to `anchors`),
// its certificate id ours, its thisUpdate and nextUpdate current at `now`. Good and revoked
// answers are kept until they lapse (bounded). A responder that once echoed our nonce must echo it
// ever after: an answer without it is a replay. Only URLs from a verified certificate or the
// configuration are asked. Safe to use from several threads.
class OcspClient {
 public:
  explicit OcspClient(OcspSettings settings) : settings_(std::move(settings)) {}

  // The status of `certificate`, which `issuer` signed (the chain is already verified).
  // `anchors`: the store that responder certificates must chain to; `untrusted`: CA certificates
  // that may complete a responder's chain.
  OcspAnswer check(X509* certificate, X509* issuer, X509_STORE* anchors, STACK_OF(X509) * untrusted,
                   Instant now);

  [[nodiscard]] OcspStats stats() const;
  [[nodiscard]] const OcspSettings& settings() const { return settings_; }

 private:
  struct Cached {
    OcspAnswer answer;
    Instant until;
  };
  OcspAnswer ask(const std::string& url, X509* certificate, X509* issuer, X509_STORE* anchors,
                 STACK_OF(X509) * untrusted, Instant now, Instant& until, bool& unreachable);
  // What is wrong with the nonce check's result (OCSP_check_nonce) for a responder's answer, or
  // nothing; a responder that echoes our nonce is remembered.
  std::optional<std::string> nonce_problem(const std::string& url, int nonce);

  OcspSettings settings_;
  mutable std::mutex mutex_;
  // By certificate id (issuer name and key hashes, serial); the oldest first in the list.
  std::list<std::string> cache_order_;
  std::unordered_map<std::string, std::pair<Cached, std::list<std::string>::iterator>> cache_;
  std::set<std::string> nonce_responders_;  // URLs that echoed our nonce
  std::map<std::string, std::chrono::steady_clock::time_point> paused_;
  OcspStats stats_;
};

}  // namespace nqs::revocation
