#include "xmldsig/trust_store.hpp"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <boost/json.hpp>
#include <limits>
#include <map>

#include "common/files.hpp"
#include "gost/openssl_keys.hpp"

namespace nqs::xmldsig {

using revocation::name_text;

std::shared_ptr<X509> parse_certificate_der(const std::string& der) {
  gost::register_key_methods();
  const auto* data = reinterpret_cast<const unsigned char*>(der.data());
  X509* certificate = d2i_X509(nullptr, &data, static_cast<long>(der.size()));
  // Trailing bytes after the certificate are refused: one certificate, exactly.
  if (certificate != nullptr &&
      data != reinterpret_cast<const unsigned char*>(der.data()) + der.size()) {
    X509_free(certificate);
    return nullptr;
  }
  if (certificate == nullptr) {
    ERR_clear_error();
    return nullptr;
  }
  return std::shared_ptr<X509>(certificate, X509_free);
}

std::shared_ptr<TrustStore> TrustStore::load(const TrustSettings& settings,
                                             std::vector<std::string>& problems) {
  // NCA's GOST keys must be known before the first certificate is read.
  gost::register_key_methods();
  std::shared_ptr<TrustStore> trust(new TrustStore());
  trust->cache_size_ = settings.cache_size;
  trust->min_rsa_bits_ = settings.min_rsa_bits;
  trust->ec_curves_ = settings.ec_curves;
  trust->policy_ = settings.revocation;
  trust->ocsp_ = settings.ocsp;
  const auto problems_before = problems.size();

  for (const auto& file : settings.anchors) {
    const std::string text = read_file_bytes(file);
    BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
    std::size_t in_file = 0;
    while (X509* certificate = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      trust->anchors_.emplace_back(certificate, X509_free);
      ++in_file;
    }
    ERR_clear_error();
    BIO_free(bio);
    // NCA publishes its CA certificates as DER (.cer): one certificate, nothing after it.
    if (in_file == 0) {
      if (auto certificate = parse_certificate_der(text)) {
        trust->anchors_.push_back(std::move(certificate));
        ++in_file;
      }
    }
    if (in_file == 0)
      problems.push_back(fmt::format("{}: no certificate found (PEM or DER)", file.string()));
  }
  for (const auto& file : settings.crls) {
    auto crl = revocation::parse_crl(read_file_bytes(file));
    if (!crl) {
      problems.push_back(fmt::format("{}: not a CRL in PEM or DER", file.string()));
      continue;
    }
    // A CRL must come from one of the anchors and carry its signature.
    const bool issuer_known =
        std::any_of(trust->anchors_.begin(), trust->anchors_.end(), [&](const auto& anchor) {
          return X509_NAME_cmp(X509_get_subject_name(anchor.get()),
                               X509_CRL_get_issuer(crl.get())) == 0 &&
                 X509_CRL_verify(crl.get(), X509_get0_pubkey(anchor.get())) == 1;
        });
    ERR_clear_error();
    if (!issuer_known) {
      problems.push_back(fmt::format("{}: the CRL of '{}' is not signed by any trust anchor",
                                     file.string(), name_text(X509_CRL_get_issuer(crl.get()))));
    }
    trust->file_crls_.push_back(std::move(crl));
  }
  if (problems.size() != problems_before) return nullptr;
  trust->build({});
  return trust;
}

std::shared_ptr<TrustStore> TrustStore::with_crls(
    const std::vector<std::shared_ptr<X509_CRL>>& fetched, CrlUrlSink sink) const {
  std::shared_ptr<TrustStore> trust(new TrustStore());
  trust->cache_size_ = cache_size_;
  trust->min_rsa_bits_ = min_rsa_bits_;
  trust->ec_curves_ = ec_curves_;
  trust->policy_ = policy_;
  trust->ocsp_ = ocsp_;
  trust->crl_url_sink_ = std::move(sink);
  trust->anchors_ = anchors_;
  trust->file_crls_ = file_crls_;
  trust->build(fetched);
  return trust;
}

std::shared_ptr<TrustStore> TrustStore::without_revocation() const {
  std::shared_ptr<TrustStore> trust(new TrustStore());
  trust->cache_size_ = cache_size_;
  trust->min_rsa_bits_ = min_rsa_bits_;
  trust->ec_curves_ = ec_curves_;
  trust->policy_ = RevocationPolicy::crl;
  trust->revocation_checked_ = false;
  trust->anchors_ = anchors_;
  trust->build({});
  return trust;
}

namespace {

// What the evidence of each accepted document says of its signer's issuer's CRLs, by issuer: a
// JSON array of their facts, in the order of `facts`.
std::map<std::string, std::string, std::less<>> facts_json_by_issuer(
    const std::vector<revocation::CrlFacts>& facts) {
  std::map<std::string, boost::json::array> arrays;
  auto instant = [](const std::optional<Instant>& at) -> boost::json::value {
    return at ? boost::json::value(to_utc_string(*at)) : boost::json::value(nullptr);
  };
  for (const auto& crl : facts) {
    arrays[crl.issuer].push_back(boost::json::object{
        {"issuer", crl.issuer},
        {"number", crl.number ? boost::json::value(crl.number->decimal) : nullptr},
        {"thisUpdate", instant(crl.this_update)},
        {"nextUpdate", instant(crl.next_update)},
        {"delta", crl.delta}});
  }
  std::map<std::string, std::string, std::less<>> out;
  for (const auto& [issuer, array] : arrays)
    out.emplace(issuer, boost::json::serialize(array));
  return out;
}

}  // namespace

void TrustStore::build(const std::vector<std::shared_ptr<X509_CRL>>& fetched) {
  store_ = X509_STORE_new();
  // Every certificate of the chain must be checked against its CA's CRL, and a base CRL with its
  // delta CRL when both are loaded (RFC 5280, 5.2.4 and 5.2.6).
  if (revocation_checked_) {
    X509_STORE_set_flags(
        store_, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL | X509_V_FLAG_USE_DELTAS);
  }
  place_anchors();
  // Of one issuer's base CRLs only the newest is used: OpenSSL takes any current one, and an
  // older CRL still inside its nextUpdate would hide a revocation the newer one lists. Of its
  // delta CRLs, the newest that completes that base (RFC 5280, 5.2.4: its BaseCRLNumber no
  // greater than the base's number, its own number greater), so that a delta whose base did not
  // arrive never pushes out one that applies.
  using Entry = std::pair<revocation::CrlFacts, std::shared_ptr<X509_CRL>>;
  struct OfIssuer {
    std::optional<Entry> base;
    std::vector<Entry> deltas;
  };
  std::map<std::string, OfIssuer> by_issuer;
  auto newer = [](const revocation::CrlFacts& a, const revocation::CrlFacts& b) {
    if (a.number && b.number && *a.number != *b.number) return *a.number > *b.number;
    return a.this_update.value_or(Instant::min()) > b.this_update.value_or(Instant::min());
  };
  auto offer = [&](const std::shared_ptr<X509_CRL>& crl) {
    auto facts = revocation::facts_of(crl.get());
    unsigned char* der = nullptr;
    const int length = i2d_X509_NAME(X509_CRL_get_issuer(crl.get()), &der);
    std::string issuer(reinterpret_cast<char*>(der), static_cast<std::size_t>(std::max(length, 0)));
    OPENSSL_free(der);
    auto& entry = by_issuer[issuer];
    if (facts.delta) {
      entry.deltas.emplace_back(std::move(facts), crl);
    } else if (!entry.base || newer(facts, entry.base->first)) {
      entry.base = Entry{std::move(facts), crl};
    }
  };
  for (const auto& crl : file_crls_)
    offer(crl);
  for (const auto& crl : fetched)
    offer(crl);
  auto use = [&](const Entry& entry) {
    X509_STORE_add_crl(store_, entry.second.get());
    crls_.push_back(entry.second);
    crl_facts_.push_back(entry.first);
    if (const auto& next = entry.first.next_update;
        next && (!crl_next_update_ || *next < *crl_next_update_)) {
      crl_next_update_ = next;
    }
  };
  for (const auto& [issuer, entry] : by_issuer) {
    if (!entry.base) continue;  // a delta alone is no CRL
    use(*entry.base);
    const auto& base = entry.base->first;
    const Entry* delta = nullptr;
    for (const auto& candidate : entry.deltas) {
      const auto& facts = candidate.first;
      if (!base.number || !facts.number || !facts.delta_base || *facts.delta_base > *base.number ||
          *facts.number <= *base.number) {
        continue;
      }
      if (delta == nullptr || newer(facts, delta->first)) delta = &candidate;
    }
    if (delta != nullptr) use(*delta);
  }
  crl_facts_json_ = facts_json_by_issuer(crl_facts_);
  find_when_in_time();
  // OCSP responders chain to any anchor; no CRL is asked of them (RFC 6960, 4.2.2.2.1).
  responders_ = X509_STORE_new();
  for (const auto& anchor : anchors_)
    X509_STORE_add_cert(responders_, anchor.get());
  X509_STORE_set_flags(responders_, X509_V_FLAG_PARTIAL_CHAIN);
  ERR_clear_error();
}

std::optional<std::string> TrustStore::check_crl(X509_CRL* crl, Instant now) const {
  const auto facts = revocation::facts_of(crl);
  const bool signed_by_anchor = std::any_of(anchors_.begin(), anchors_.end(), [&](const auto& a) {
    return X509_NAME_cmp(X509_get_subject_name(a.get()), X509_CRL_get_issuer(crl)) == 0 &&
           X509_CRL_verify(crl, X509_get0_pubkey(a.get())) == 1;
  });
  ERR_clear_error();
  if (!signed_by_anchor) {
    return fmt::format("the CRL of '{}' is not signed by a trust anchor of that name",
                       facts.issuer);
  }
  if (!facts.this_update || *facts.this_update > now + std::chrono::minutes{5}) {
    return fmt::format("the CRL of '{}' has no thisUpdate or one ahead of now", facts.issuer);
  }
  if (!facts.next_update || *facts.next_update <= now) {
    return fmt::format("the CRL of '{}' is stale: its nextUpdate {} has passed", facts.issuer,
                       facts.next_update ? to_utc_string(*facts.next_update) : "is missing");
  }
  return std::nullopt;
}

std::vector<std::string> TrustStore::anchor_crl_points() const {
  std::vector<std::string> out;
  for (const auto& anchor : anchors_) {
    for (auto url : revocation::crl_distribution_points(anchor.get()))
      if (std::find(out.begin(), out.end(), url) == out.end()) out.push_back(std::move(url));
    for (auto url : revocation::freshest_crl_points(anchor.get()))
      if (std::find(out.begin(), out.end(), url) == out.end()) out.push_back(std::move(url));
  }
  return out;
}

// Roots are trusted as such. An issuing CA whose root is configured too is offered as an
// intermediate with every chain, so that the chain reaches the root and the issuing CA's own
// revocation (the root's CRL) and validity are checked. An issuing CA configured without its root
// (NCA publishes its issuing CAs; a deployment may trust those alone) is a trust anchor itself: the
// chain ends there, and its own status, which only its absent root could tell, is not asked.
void TrustStore::place_anchors() {
  for (const auto& anchor : anchors_) {
    const bool root = X509_self_signed(anchor.get(), 0) == 1;
    const bool issuer_configured = std::any_of(anchors_.begin(), anchors_.end(), [&](auto& other) {
      return other != anchor && X509_check_issued(other.get(), anchor.get()) == X509_V_OK;
    });
    if (!root && issuer_configured) {
      intermediates_.push_back(anchor);
      continue;
    }
    X509_STORE_add_cert(store_, anchor.get());
    if (!root) {
      partial_anchors_.push_back(anchor);
      X509_STORE_set_flags(store_, X509_V_FLAG_PARTIAL_CHAIN);
    }
  }
  ERR_clear_error();
}

void TrustStore::find_when_in_time() {
  std::int64_t from = std::numeric_limits<std::int64_t>::min();
  std::int64_t until = std::numeric_limits<std::int64_t>::max();
  bool readable = true;
  auto within = [&](const ASN1_TIME* start, const ASN1_TIME* end) {
    const auto first = revocation::checked_seconds(start);
    const auto last = end != nullptr ? revocation::checked_seconds(end) : until;
    if (!first || !last) {
      readable = false;
      return;
    }
    from = std::max(from, *first);
    until = std::min(until, *last);
  };
  for (const auto& anchor : anchors_)
    within(X509_get0_notBefore(anchor.get()), X509_get0_notAfter(anchor.get()));
  // A CRL without nextUpdate is not stale at any instant after its thisUpdate.
  for (const auto& crl : crls_)
    within(X509_CRL_get0_lastUpdate(crl.get()), X509_CRL_get0_nextUpdate(crl.get()));
  if (readable && from < until) in_time_.emplace(from, until);
}

const std::string& TrustStore::crl_facts_json(const std::string& issuer) const {
  static const std::string kNone = "[]";
  const auto found = crl_facts_json_.find(issuer);
  return found != crl_facts_json_.end() ? found->second : kNone;
}

bool TrustStore::is_partial_anchor(const X509* certificate) const {
  return std::any_of(partial_anchors_.begin(), partial_anchors_.end(),
                     [&](const auto& anchor) { return X509_cmp(anchor.get(), certificate) == 0; });
}

TrustStore::~TrustStore() {
  X509_STORE_free(store_);
  X509_STORE_free(responders_);
}

std::size_t TrustStore::cached() const {
  std::lock_guard lock(cache_mutex_);
  return cache_.size();
}

void TrustStore::remember(std::string key,
                          const std::shared_ptr<const VerifiedCertificate>& verified) const {
  std::lock_guard lock(cache_mutex_);
  if (auto found = cache_.find(key); found != cache_.end()) {
    cache_order_.erase(found->second);
    cache_.erase(found);
  } else if (const auto hash = std::hash<std::string>{}(key); seen_once_.erase(hash) == 0) {
    // Verified for the first time (or first since it left the cache): cached the next time.
    if (seen_once_.size() >= cache_size_) seen_once_.clear();
    seen_once_.insert(hash);
    return;
  }
  if (cache_.size() >= cache_size_) {
    cache_.erase(cache_order_.front().first);
    cache_order_.pop_front();
  }
  cache_order_.emplace_back(key, verified);
  cache_.emplace(std::move(key), std::prev(cache_order_.end()));
}

CertificateCheck TrustStore::verify(const std::string& leaf_der,
                                    const std::vector<std::string>& intermediates_der,
                                    Instant now) const {
  // The cache key is the exact bytes: a different intermediate makes a different chain.
  std::string key = leaf_der;
  for (const auto& der : intermediates_der)
    key += '\0' + der;
  std::shared_ptr<const VerifiedCertificate> cached;
  {
    std::lock_guard lock(cache_mutex_);
    if (auto found = cache_.find(key); found != cache_.end()) {
      const auto& verified = found->second->second;
      // A cached chain is reused only inside its validity; outside, the full check says why not.
      // As OpenSSL judges: valid from notBefore, expired at notAfter (and a CRL stale at its
      // nextUpdate).
      if (now >= verified->not_before() && now < verified->not_after()) {
        cache_order_.splice(cache_order_.end(), cache_order_, found->second);
        cached = verified;
      }
    }
  }
  if (cached) {
    if (policy_ == RevocationPolicy::crl) return cached;
    return decide_by_ocsp(std::move(cached), now);
  }
  auto result = verify_uncached(leaf_der, intermediates_der, now);
  if (const auto* verified = std::get_if<std::shared_ptr<const VerifiedCertificate>>(&result);
      verified != nullptr && cache_size_ > 0) {
    remember(std::move(key), *verified);
  }
  if (policy_ == RevocationPolicy::crl) return result;
  if (auto* verified = std::get_if<std::shared_ptr<const VerifiedCertificate>>(&result)) {
    return decide_by_ocsp(std::move(*verified), now);
  }
  return result;
}

}  // namespace nqs::xmldsig
