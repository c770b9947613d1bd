#include "revocation/crl_refresher.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <fstream>

#include "common/files.hpp"
#include "common/ids.hpp"

namespace nqs::revocation {
namespace {

// The first 12 bytes of the URL's SHA-256, in hex.
std::string file_stem(const std::string& url) {
  return sha256_hex(url).substr(0, 24);
}

// Written beside, then renamed: a crash leaves the old file or the new one, never half of one.
bool write_atomically(const std::filesystem::path& file, const std::string& bytes) {
  const auto temporary = file.string() + ".new";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out.flush()) return false;
  }
  std::error_code ec;
  std::filesystem::rename(temporary, file, ec);
  return !ec;
}

std::string text_of(const boost::json::object& object, std::string_view key) {
  const auto* value = object.if_contains(key);
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

bool newer_or_same(const CrlFacts& candidate, const CrlFacts& current) {
  if (candidate.number && current.number) return *candidate.number >= *current.number;
  return candidate.this_update.value_or(Instant::min()) >=
         current.this_update.value_or(Instant::min());
}

// What is written to the cache folder, copied out of the lock.
struct ToKeep {
  std::string url;
  std::string why;
  std::string etag;
  std::string last_modified;
  std::string der;
};

void keep_on_disk(const std::filesystem::path& dir, const ToKeep& kept) {
  if (dir.empty()) return;
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  const auto stem = dir / file_stem(kept.url);
  boost::json::object meta;
  meta["url"] = kept.url;
  meta["why"] = kept.why;
  meta["etag"] = kept.etag;
  meta["lastModified"] = kept.last_modified;
  auto crl_file = stem;
  crl_file += ".crl";
  auto meta_file = stem;
  meta_file += ".json";
  write_atomically(crl_file, kept.der);
  write_atomically(meta_file, boost::json::serialize(meta));
}

}  // namespace

std::vector<CachedCrl> read_crl_cache(const std::filesystem::path& dir) {
  std::vector<CachedCrl> out;
  std::error_code ec;
  if (dir.empty() || !std::filesystem::is_directory(dir, ec)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".json") continue;
    boost::system::error_code parse_error;
    auto meta = boost::json::parse(read_file_bytes(entry.path()), parse_error);
    if (parse_error || !meta.is_object()) continue;
    CachedCrl cached;
    cached.url = text_of(meta.as_object(), "url");
    cached.why = text_of(meta.as_object(), "why");
    cached.etag = text_of(meta.as_object(), "etag");
    cached.last_modified = text_of(meta.as_object(), "lastModified");
    auto crl_file = entry.path();
    crl_file.replace_extension(".crl");
    cached.crl = parse_crl(read_file_bytes(crl_file));
    if (cached.url.empty() || !cached.crl) continue;
    out.push_back(std::move(cached));
  }
  return out;
}

CrlRefresher::CrlRefresher(CrlRefresherSettings settings, const Clock& clock, Check check,
                           Publish publish, Report report)
    : settings_(std::move(settings)),
      clock_(clock),
      check_(std::move(check)),
      publish_(std::move(publish)),
      report_(std::move(report)) {
  for (const auto& [url, why] : settings_.sources) {
    auto& source = sources_[url];
    source.status.url = url;
    source.status.why = why;
  }
}

CrlRefresher::~CrlRefresher() {
  stop();
}

void CrlRefresher::load_cache() {
  const auto now = clock_.now();
  {
    std::lock_guard lock(mutex_);
    for (auto& cached : read_crl_cache(settings_.cache_dir)) {
      auto found = sources_.find(cached.url);
      if (found == sources_.end()) {
        // A source learnt in an earlier run (or one since removed from the configuration, which
        // is dropped with its file).
        if (cached.why.find("configuration") != std::string::npos ||
            sources_.size() >= settings_.max_sources) {
          continue;
        }
        found = sources_.emplace(cached.url, Source{}).first;
        found->second.status.url = cached.url;
        found->second.status.why = cached.why;
        found->second.learnt = true;
      }
      if (auto problem = check_(cached.crl.get(), now)) {
        found->second.status.last_error = "the cached CRL cannot be used: " + *problem;
        continue;
      }
      found->second.crl = cached.crl;
      found->second.der = crl_to_der(cached.crl.get());
      found->second.status.crl = facts_of(cached.crl.get());
      found->second.etag = cached.etag;
      found->second.last_modified = cached.last_modified;
    }
  }
  publish_current();
}

void CrlRefresher::add_source(const std::string& url, const std::string& why) {
  if (!parse_http_url(url)) return;
  {
    std::lock_guard lock(mutex_);
    if (sources_.contains(url) || sources_.size() >= settings_.max_sources) return;
    auto& source = sources_[url];
    source.status.url = url;
    source.status.why = why;
    source.learnt = true;
    woken_ = true;
  }
  wake_.notify_all();
}

bool CrlRefresher::due(const Source& source, Instant now) const {
  const auto& status = source.status;
  if (!status.last_attempt) return true;
  const bool failed = !status.last_error.empty();
  const auto retry =
      std::min<std::chrono::milliseconds>(settings_.refresh_interval, std::chrono::seconds{60});
  if (now >= *status.last_attempt + (failed ? retry : settings_.refresh_interval)) return true;
  // Ahead of the CRL's nextUpdate: fetched again, then retried while the same CRL comes back.
  // The window is at most half the CRL's life, so that a short-lived (delta) CRL is not asked for
  // every minute of it.
  if (status.crl && status.crl->next_update) {
    auto before = std::chrono::duration_cast<Instant::duration>(settings_.refresh_before);
    if (status.crl->this_update) {
      before = std::min(before, (*status.crl->next_update - *status.crl->this_update) / 2);
    }
    if (now >= *status.crl->next_update - before && now >= *status.last_attempt + retry) {
      return true;
    }
  }
  return false;
}

void CrlRefresher::refresh(bool all) {
  const auto now = clock_.now();
  std::vector<std::string> urls;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [url, source] : sources_)
      if (all || due(source, now)) urls.push_back(url);
  }
  bool changed = false;
  for (const auto& url : urls) {
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return;
    }
    // The time of each attempt, not of the turn: a slow fetch must not make the next one due.
    changed = fetch(url, clock_.now()) || changed;
  }
  if (changed) publish_current();
}

HttpRequest CrlRefresher::request_for(const std::string& url) const {
  HttpRequest request;
  request.url = url;
  std::lock_guard lock(mutex_);
  const auto& source = sources_.at(url);
  if (source.crl) {
    // Conditional: an unchanged CRL is not sent again (NCA's base CRLs are megabytes).
    if (!source.etag.empty()) request.headers.emplace_back("If-None-Match", source.etag);
    if (!source.last_modified.empty())
      request.headers.emplace_back("If-Modified-Since", source.last_modified);
  }
  return request;
}

std::shared_ptr<X509_CRL> CrlRefresher::crl_of(const HttpRequest& request,
                                               const Result<HttpAnswer>& answer, Instant now,
                                               std::string& error) const {
  const auto& url = request.url;
  std::shared_ptr<X509_CRL> crl;
  if (!answer) {
    error = answer.error().message;
  } else if (answer.value().status == 304) {
    // Not modified: the CRL in use stays (none in use: an answer to a question not asked).
    if (request.headers.empty()) error = fmt::format("{}: 304 Not Modified, unasked", url);
  } else if (answer.value().status != 200) {
    error = fmt::format("{}: HTTP status {}", url, answer.value().status);
  } else if (crl = parse_crl(answer.value().body); !crl) {
    error = fmt::format("{}: the answer is not a CRL (PEM or DER)", url);
  } else if (auto problem = check_(crl.get(), now)) {
    error = fmt::format("{}: {}", url, *problem);
    crl.reset();
  }
  return crl;
}

bool CrlRefresher::base_in_use(const CrlFacts& delta) const {
  return std::any_of(sources_.begin(), sources_.end(), [&](const auto& entry) {
    const auto& other = entry.second.status.crl;
    return other && !other->delta && other->issuer == delta.issuer && other->number &&
           delta.delta_base && *other->number >= *delta.delta_base;
  });
}

bool CrlRefresher::fetch(const std::string& url, Instant now) {
  const auto request = request_for(url);
  auto answer = http_exchange(request, settings_.limits);
  std::string error;
  std::shared_ptr<X509_CRL> crl = crl_of(request, answer, now, error);
  // Read before the lock: a CRL may be megabytes.
  std::optional<CrlFacts> facts;
  std::string der;
  if (crl) {
    facts = facts_of(crl.get());
    der = crl_to_der(crl.get());
  }
  bool changed = false;
  CrlSourceStatus reported;
  std::vector<std::pair<std::string, std::string>> deltas;
  std::optional<ToKeep> to_keep;
  {
    std::lock_guard lock(mutex_);
    auto& source = sources_.at(url);
    source.status.last_attempt = now;
    if (crl && source.status.crl && !newer_or_same(*facts, *source.status.crl)) {
      error = fmt::format("{}: the CRL offered is older than the one in use (a rollback)", url);
      crl.reset();
    }
    // A delta CRL replaces the one in use only once its base is in use: one whose base did not
    // arrive would leave the base alone, and the revocations of the delta it pushed out unseen.
    if (crl && facts->delta && !base_in_use(*facts)) {
      error = fmt::format(
          "{}: a delta CRL of the base CRL number {}, which is not in use yet (the delta in use "
          "stays)",
          url, facts->delta_base ? facts->delta_base->decimal : std::string("?"));
      crl.reset();
    }
    source.status.last_error = error;
    if (!error.empty()) {
      ++source.status.failures;
    } else {
      source.status.last_success = now;
    }
    if (crl) {
      changed = source.der != der;
      source.crl = crl;
      source.der = std::move(der);
      source.status.crl = std::move(facts);
      source.etag = answer.value().etag;
      source.last_modified = answer.value().last_modified;
      to_keep = ToKeep{url, source.status.why, source.etag, source.last_modified, source.der};
      for (const auto& delta_url : source.status.crl->freshest) {
        deltas.emplace_back(delta_url, fmt::format("the Freshest CRL (delta CRLs) of '{}'",
                                                   source.status.crl->issuer));
      }
    }
    reported = source.status;
  }
  // Megabytes written outside the lock: /readyz and /metrics read the status meanwhile.
  if (to_keep) keep_on_disk(settings_.cache_dir, *to_keep);
  for (const auto& [delta_url, why] : deltas)
    add_source(delta_url, why);
  if (report_) report_(reported);
  return changed;
}

void CrlRefresher::publish_current() {
  std::vector<std::shared_ptr<X509_CRL>> crls;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [url, source] : sources_)
      if (source.crl) crls.push_back(source.crl);
  }
  publish_(std::move(crls));
}

void CrlRefresher::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      lock.unlock();
      refresh();
      lock.lock();
      wake_.wait_for(lock, std::chrono::milliseconds{500}, [this] { return stopping_ || woken_; });
      woken_ = false;
    }
  });
}

void CrlRefresher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::vector<CrlSourceStatus> CrlRefresher::status() const {
  std::lock_guard lock(mutex_);
  std::vector<CrlSourceStatus> out;
  for (const auto& [url, source] : sources_)
    out.push_back(source.status);
  return out;
}

}  // namespace nqs::revocation
