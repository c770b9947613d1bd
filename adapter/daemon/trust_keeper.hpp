#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "configuration/config.hpp"
#include "ops/metrics.hpp"
#include "revocation/crl_refresher.hpp"
#include "xmldsig/trust_store.hpp"

namespace nqs::daemon {

// A refresher whose CRLs go into `holder` as a new store made from `base` (the anchors and CRL
// files), and whose sources grow with the distribution points that verified certificates name.
std::shared_ptr<revocation::CrlRefresher> make_crl_refresher(
    revocation::CrlRefresherSettings settings, const Clock& clock,
    std::shared_ptr<const xmldsig::TrustStore> base, std::shared_ptr<xmldsig::TrustHolder> holder,
    revocation::CrlRefresher::Report report);

// One readiness check's verdict.
struct Verdict {
  bool ok = true;
  std::string detail;
};

// Keeps the trust the intake uses fresh while the daemon runs, by itself: CRLs fetched from the
// anchors' distribution points, trust.crl_urls and those verified signer certificates name, on a
// thread of its own, swapped into the intake as they change; and says ahead of time what is about
// to lapse: a CRL that could not be refreshed (trust.crl_warn_before), the adapter's signing
// certificate, an anchor (trust.expiry_warn_before).
class TrustKeeper {
 public:
  TrustKeeper(const configuration::Setup& setup, const Clock& clock);
  ~TrustKeeper();
  TrustKeeper(const TrustKeeper&) = delete;
  TrustKeeper& operator=(const TrustKeeper&) = delete;

  // The cached CRLs first, then the refresher's thread.
  void start();
  void stop();
  // inspect: the cached CRLs, then every source fetched on the calling thread; true when a source
  // was fetched that had not been before (one learnt from a verified certificate).
  bool refresh_now();

  // /readyz: the CRLs in use are current and none lapses within trust.crl_warn_before.
  [[nodiscard]] Verdict revocation(Instant now) const;
  // /readyz: no certificate the adapter trusts or signs with has ended; those ending within
  // trust.expiry_warn_before are named (not failing).
  [[nodiscard]] Verdict expiry(Instant now) const;
  // Logs the certificates ending within trust.expiry_warn_before (at start-up and daily).
  void warn_expiring(Instant now) const;
  // The trust part of /metrics.
  [[nodiscard]] std::vector<prometheus::MetricFamily> metrics(Instant now) const;

 private:
  struct Watched {
    std::string role;  // signing, anchor
    std::string subject;
    Instant not_after;
  };
  void report(const revocation::CrlSourceStatus& status);

  configuration::TrustConfig config_;
  const Clock& clock_;
  std::shared_ptr<xmldsig::TrustHolder> holder_;
  std::shared_ptr<const xmldsig::TrustStore> base_;
  std::vector<Watched> watched_;
  std::shared_ptr<revocation::CrlRefresher> refresher_;
  std::mutex reported_mutex_;
  std::map<std::string, std::string> reported_;  // URL -> the last CRL or error logged
  bool cache_loaded_ = false;
  std::size_t fetched_sources_ = 0;
};

}  // namespace nqs::daemon
