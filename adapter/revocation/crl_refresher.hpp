#pragma once

#include <openssl/x509.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "common/clock.hpp"
#include "revocation/http_fetch.hpp"
#include "revocation/x509_facts.hpp"

namespace nqs::revocation {

struct CrlRefresherSettings {
  std::vector<std::pair<std::string, std::string>> sources;  // URL, why it is fetched
  std::filesystem::path cache_dir;                           // empty: not kept
  std::chrono::milliseconds refresh_interval{std::chrono::hours{1}};
  std::chrono::milliseconds refresh_before{std::chrono::hours{2}};
  HttpLimits limits;
  std::size_t max_sources = 64;  // learnt ones included
};

// What operators see of one distribution point.
struct CrlSourceStatus {
  std::string url;
  std::string why;
  std::optional<CrlFacts> crl;          // the CRL in use from it
  std::optional<Instant> last_attempt;  // of a fetch
  std::optional<Instant> last_success;  // a CRL received and accepted, or not modified
  std::string last_error;               // of the last attempt; empty when it succeeded
  std::uint64_t failures = 0;
};

// A CRL kept on disk from an earlier run.
struct CachedCrl {
  std::string url;
  std::string why;
  std::string etag;
  std::string last_modified;
  std::shared_ptr<X509_CRL> crl;
};
// The CRLs kept in `dir` (a missing folder is an empty cache; unreadable entries are skipped).
std::vector<CachedCrl> read_crl_cache(const std::filesystem::path& dir);

// Keeps CRLs fresh from their distribution points (RFC 5280, 4.2.1.13) on a thread of its own:
// each fetched at least every refresh_interval and ahead of its nextUpdate, with conditional
// requests; a CRL `check` refuses (a foreign signature, stale) or older than the one in use is not
// taken; what is taken is written to the cache folder and `publish`ed with the others. A base
// CRL's Freshest CRL points are fetched too (its delta CRLs). Never a URL from an unverified
// message: sources come from the configuration, the anchors, or verified certificates.
class CrlRefresher {
 public:
  using Check = std::function<std::optional<std::string>(X509_CRL*, Instant)>;
  using Publish = std::function<void(std::vector<std::shared_ptr<X509_CRL>>)>;
  // Called after each attempt, on the refresher's thread.
  using Report = std::function<void(const CrlSourceStatus&)>;

  CrlRefresher(CrlRefresherSettings settings, const Clock& clock, Check check, Publish publish,
               Report report);
  ~CrlRefresher();
  CrlRefresher(const CrlRefresher&) = delete;
  CrlRefresher& operator=(const CrlRefresher&) = delete;

  // Takes the cached CRLs that `check` accepts and publishes them (before any network).
  void load_cache();
  // A source learnt from a verified certificate; fetched at the next turn. Thread-safe.
  void add_source(const std::string& url, const std::string& why);
  // One turn on the calling thread: every source that is due (all of them with `all`).
  void refresh(bool all = false);
  // The thread: a turn every half second until stop().
  void start();
  void stop();

  [[nodiscard]] std::vector<CrlSourceStatus> status() const;

 private:
  struct Source {
    CrlSourceStatus status;
    std::shared_ptr<X509_CRL> crl;
    std::string der;  // of `crl`: a new one is compared with it
    std::string etag;
    std::string last_modified;
    bool learnt = false;
  };
  [[nodiscard]] bool due(const Source& source, Instant now) const;
  // The request for one source: conditional when a CRL from it is in use.
  [[nodiscard]] HttpRequest request_for(const std::string& url) const;
  // The CRL of an answer to `request` that `check` accepts, or none with `error` set (none and no
  // error: not modified).
  std::shared_ptr<X509_CRL> crl_of(const HttpRequest& request, const Result<HttpAnswer>& answer,
                                   Instant now, std::string& error) const;
  // Whether the base CRL of a delta CRL is in use (mutex_ held).
  [[nodiscard]] bool base_in_use(const CrlFacts& delta) const;
  // Fetches one source; true when its CRL changed.
  bool fetch(const std::string& url, Instant now);
  void publish_current();

  CrlRefresherSettings settings_;
  const Clock& clock_;
  Check check_;
  Publish publish_;
  Report report_;
  mutable std::mutex mutex_;
  std::map<std::string, Source> sources_;
  std::condition_variable wake_;
  bool stopping_ = false;
  bool woken_ = false;  // a source was learnt
  std::thread thread_;
};

}  // namespace nqs::revocation
