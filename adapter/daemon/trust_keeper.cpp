#include "daemon/trust_keeper.hpp"

#include <fmt/format.h>

#include "intake/intake.hpp"
#include "log/logging.hpp"
#include "notify/outbound.hpp"
#include "ops/metrics.hpp"

namespace nqs::daemon {
namespace {

double unix_seconds(Instant instant) {
  return std::chrono::duration<double>(instant.time_since_epoch()).count();
}

std::string in_words(Instant::duration left) {
  const auto minutes = std::chrono::duration_cast<std::chrono::minutes>(left).count();
  if (minutes < 0) return "passed";
  if (minutes < 120) return fmt::format("in {} min", minutes);
  if (minutes < 72 * 60) return fmt::format("in {} h", minutes / 60);
  return fmt::format("in {} days", minutes / (24 * 60));
}

}  // namespace

std::shared_ptr<revocation::CrlRefresher> make_crl_refresher(
    revocation::CrlRefresherSettings settings, const Clock& clock,
    std::shared_ptr<const xmldsig::TrustStore> base, std::shared_ptr<xmldsig::TrustHolder> holder,
    revocation::CrlRefresher::Report report) {
  // The sink reaches the refresher weakly: a trust store may outlive it (a reload).
  auto self = std::make_shared<std::weak_ptr<revocation::CrlRefresher>>();
  auto publish = [base, holder, self](std::vector<std::shared_ptr<X509_CRL>> crls) {
    std::weak_ptr<revocation::CrlRefresher> weak = *self;
    // A new store (with an empty cache of verified chains), swapped in whole.
    holder->set(base->with_crls(crls, [weak](const std::string& url, const std::string& why) {
      if (auto refresher = weak.lock()) refresher->add_source(url, why);
    }));
  };
  auto refresher = std::make_shared<revocation::CrlRefresher>(
      std::move(settings), clock,
      [base](X509_CRL* crl, Instant now) { return base->check_crl(crl, now); }, std::move(publish),
      std::move(report));
  *self = refresher;
  return refresher;
}

TrustKeeper::TrustKeeper(const configuration::Setup& setup, const Clock& clock)
    : config_(setup.config.trust),
      clock_(clock),
      holder_(setup.intake->trust_holder()),
      base_(holder_->get()) {
  // The signing key is not loaded for `inspect`: nothing of it to watch then.
  const auto certificates = setup.notifications != nullptr
                                ? setup.notifications->signer().certificates
                                : decltype(setup.notifications->signer().certificates){};
  for (std::size_t i = 0; i < certificates.size(); ++i) {
    if (auto until = revocation::to_instant(X509_get0_notAfter(certificates[i].get()))) {
      watched_.push_back({i == 0 ? "signing" : "signing chain",
                          revocation::name_text(X509_get_subject_name(certificates[i].get())),
                          *until});
    }
  }
  for (const auto& anchor : base_->anchors()) {
    if (auto until = revocation::to_instant(X509_get0_notAfter(anchor.get()))) {
      watched_.push_back(
          {"anchor", revocation::name_text(X509_get_subject_name(anchor.get())), *until});
    }
  }
  if (!config_.crl_fetch) return;
  revocation::CrlRefresherSettings settings;
  for (const auto& url : config_.crl_urls)
    settings.sources.emplace_back(url, "trust.crl_urls (configuration)");
  for (const auto& url : base_->anchor_crl_points()) {
    if (std::none_of(settings.sources.begin(), settings.sources.end(),
                     [&](const auto& source) { return source.first == url; })) {
      settings.sources.emplace_back(url, "named by a trust anchor (configuration)");
    }
  }
  settings.cache_dir = config_.crl_cache_dir;
  settings.refresh_interval = config_.crl_refresh_interval;
  settings.refresh_before = config_.crl_refresh_before;
  settings.limits = {config_.crl_fetch_timeout, static_cast<std::size_t>(config_.crl_max_bytes)};
  refresher_ =
      make_crl_refresher(std::move(settings), clock_, base_, holder_,
                         [this](const revocation::CrlSourceStatus& status) { report(status); });
}

TrustKeeper::~TrustKeeper() {
  stop();
}

void TrustKeeper::start() {
  if (!refresher_) return;
  refresher_->load_cache();
  refresher_->start();
}

bool TrustKeeper::refresh_now() {
  if (!refresher_) return false;
  if (!cache_loaded_) {
    refresher_->load_cache();
    cache_loaded_ = true;
  }
  const auto sources = refresher_->status().size();
  if (sources == fetched_sources_) return false;
  refresher_->refresh(true);
  fetched_sources_ = sources;
  // A base CRL names where its delta CRLs are: those too.
  if (refresher_->status().size() != sources) refresh_now();
  return true;
}

void TrustKeeper::stop() {
  if (refresher_) refresher_->stop();
}

void TrustKeeper::report(const revocation::CrlSourceStatus& status) {
  const auto now = clock_.now();
  std::string left = "no CRL from it yet";
  if (status.crl && status.crl->next_update) {
    left = fmt::format("its CRL is current until {} ({})", to_utc_string(*status.crl->next_update),
                       in_words(*status.crl->next_update - now));
  }
  if (!status.last_error.empty()) {
    // Said at every failed attempt: how long the CRL in use still has is what matters.
    log::warn("a CRL could not be fetched", {{"url", status.url},
                                             {"error", status.last_error},
                                             {"current", left},
                                             {"failures", status.failures}});
    return;
  }
  if (!status.crl) return;
  const auto said = fmt::format(
      "{} {}", status.crl->number ? status.crl->number->decimal : std::string("none"),
      status.crl->this_update ? to_utc_string(*status.crl->this_update) : std::string());
  {
    std::lock_guard lock(reported_mutex_);
    auto& last = reported_[status.url];
    if (last == said) return;
    last = said;
  }
  log::info("CRL in use",
            {{"url", status.url},
             {"issuer", status.crl->issuer},
             {"kind", status.crl->delta ? "delta" : "base"},
             {"number", status.crl->number ? status.crl->number->decimal : std::string("none")},
             {"nextUpdate", status.crl->next_update ? to_utc_string(*status.crl->next_update)
                                                    : std::string("none")}});
}

Verdict TrustKeeper::revocation(Instant now) const {
  const auto trust = holder_->get();
  Verdict verdict;
  std::vector<std::string> parts;
  const auto facts = trust->crl_facts();
  if (facts.empty() && trust->policy() != xmldsig::RevocationPolicy::ocsp) {
    verdict.ok = false;
    parts.emplace_back("no CRL loaded");
  }
  for (const auto& crl : facts) {
    const bool lapsing = !crl.next_update || *crl.next_update <= now + config_.crl_warn_before;
    if (lapsing) verdict.ok = false;
    parts.push_back(fmt::format(
        "the {}CRL of '{}' is current until {} ({}){}", crl.delta ? "delta " : "", crl.issuer,
        crl.next_update ? to_utc_string(*crl.next_update) : std::string("never said"),
        crl.next_update ? in_words(*crl.next_update - now) : std::string("-"),
        lapsing ? fmt::format(": within trust.crl_warn_before and not refreshed") : ""));
  }
  if (refresher_) {
    for (const auto& source : refresher_->status()) {
      if (!source.last_error.empty())
        parts.push_back(
            fmt::format("{}: the last fetch failed: {}", source.url, source.last_error));
    }
  }
  if (const auto& ocsp = trust->ocsp(); ocsp && trust->policy() != xmldsig::RevocationPolicy::crl) {
    const auto stats = ocsp->stats();
    std::string answers;
    for (const auto& [status, count] : stats.answers)
      answers += fmt::format("{}{} {}", answers.empty() ? "" : ", ", count, status);
    parts.push_back(fmt::format("OCSP ({}): {}",
                                xmldsig::kRevocationPolicies[static_cast<int>(trust->policy())],
                                answers.empty() ? std::string("no answer yet") : answers));
  }
  verdict.detail = fmt::format("{} anchors; {}", trust->anchor_count(), fmt::join(parts, "; "));
  return verdict;
}

Verdict TrustKeeper::expiry(Instant now) const {
  Verdict verdict;
  std::vector<std::string> parts;
  for (const auto& watched : watched_) {
    if (watched.not_after <= now) {
      verdict.ok = false;
      parts.push_back(fmt::format("the {} certificate '{}' ended on {}", watched.role,
                                  watched.subject, to_utc_string(watched.not_after)));
    } else if (watched.not_after <= now + config_.expiry_warn_before) {
      parts.push_back(fmt::format("the {} certificate '{}' ends on {} ({})", watched.role,
                                  watched.subject, to_utc_string(watched.not_after),
                                  in_words(watched.not_after - now)));
    }
  }
  verdict.detail =
      parts.empty()
          ? fmt::format(
                "{} certificates, none ending within {} days", watched_.size(),
                std::chrono::duration_cast<std::chrono::hours>(config_.expiry_warn_before).count() /
                    24)
          : fmt::format("{}", fmt::join(parts, "; "));
  return verdict;
}

void TrustKeeper::warn_expiring(Instant now) const {
  for (const auto& watched : watched_) {
    if (watched.not_after <= now + config_.expiry_warn_before) {
      log::warn(watched.not_after <= now ? "a certificate has ended" : "a certificate ends soon",
                {{"role", watched.role},
                 {"subject", watched.subject},
                 {"notAfter", to_utc_string(watched.not_after)}});
    }
  }
}

std::vector<prometheus::MetricFamily> TrustKeeper::metrics(Instant now) const {
  using prometheus::MetricType;
  const auto trust = holder_->get();
  const auto facts = trust->crl_facts();
  ops::Scrape scrape;
  scrape.family("nqs_crl_next_update_timestamp_seconds",
                "When a CRL in use lapses (its nextUpdate).", MetricType::Gauge);
  for (const auto& crl : facts) {
    if (crl.next_update) {
      scrape.sample(unix_seconds(*crl.next_update),
                    {{"issuer", crl.issuer}, {"kind", crl.delta ? "delta" : "base"}});
    }
  }
  scrape.family("nqs_crl_age_seconds", "Time since a CRL in use was issued (its thisUpdate).",
                MetricType::Gauge);
  for (const auto& crl : facts) {
    if (crl.this_update) {
      scrape.sample(std::chrono::duration<double>(now - *crl.this_update).count(),
                    {{"issuer", crl.issuer}, {"kind", crl.delta ? "delta" : "base"}});
    }
  }
  if (refresher_) {
    const auto sources = refresher_->status();
    scrape.family("nqs_crl_fetch_ok", "1 when the last fetch from a distribution point succeeded.",
                  MetricType::Gauge);
    for (const auto& source : sources) {
      if (source.last_attempt)
        scrape.sample(source.last_error.empty() ? 1 : 0, {{"url", source.url}});
    }
    scrape.family("nqs_crl_fetch_failures_total", "Failed fetches from a distribution point.",
                  MetricType::Counter);
    for (const auto& source : sources)
      scrape.sample(static_cast<double>(source.failures), {{"url", source.url}});
    scrape.family("nqs_crl_last_fetch_timestamp_seconds",
                  "When a distribution point was last asked.", MetricType::Gauge);
    for (const auto& source : sources) {
      if (source.last_attempt)
        scrape.sample(unix_seconds(*source.last_attempt), {{"url", source.url}});
    }
  }
  if (const auto& ocsp = trust->ocsp()) {
    const auto stats = ocsp->stats();
    scrape.family("nqs_ocsp_answers_total", "OCSP answers by status (cached: from the cache).",
                  MetricType::Counter);
    for (const auto& [status, count] : stats.answers)
      scrape.sample(static_cast<double>(count), {{"status", status}});
    scrape
        .family("nqs_ocsp_request_seconds", "Time spent asking OCSP responders.",
                MetricType::Summary)
        .summary(stats.seconds_sum, stats.requests);
    scrape
        .family("nqs_ocsp_cache_entries", "OCSP answers kept until their nextUpdate.",
                MetricType::Gauge)
        .sample(static_cast<double>(stats.cached));
  }
  scrape
      .family("nqs_certificate_cache_entries", "Verified certificate chains kept.",
              MetricType::Gauge)
      .sample(static_cast<double>(trust->cached()));
  scrape.family("nqs_certificate_not_after_timestamp_seconds",
                "When a certificate the adapter signs with or trusts ends.", MetricType::Gauge);
  for (const auto& watched : watched_) {
    scrape.sample(unix_seconds(watched.not_after),
                  {{"role", watched.role}, {"subject", watched.subject}});
  }
  scrape.family("nqs_certificate_expires_in_seconds",
                "Time left before a certificate the adapter signs with or trusts ends.",
                MetricType::Gauge);
  for (const auto& watched : watched_) {
    scrape.sample(std::chrono::duration<double>(watched.not_after - now).count(),
                  {{"role", watched.role}, {"subject", watched.subject}});
  }
  return std::move(scrape).families();
}

}  // namespace nqs::daemon
