#include "xmldsig/trust_store.hpp"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <fstream>
#include <map>
#include <tuple>

#include "common/files.hpp"
#include "gost/openssl_keys.hpp"

namespace nqs::xmldsig {
namespace {

using revocation::name_text;
using revocation::to_instant;

std::string day_of(const ASN1_TIME* time) {
  auto instant = to_instant(time);
  return instant ? to_utc_string(*instant).substr(0, 10) : "an unreadable date";
}

std::optional<std::string> entry_text(const X509_NAME_ENTRY* entry) {
  unsigned char* utf8 = nullptr;
  const int length = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(entry));
  if (length < 0) return std::nullopt;
  std::string out(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  return out;
}

bool is_twelve_digits(std::string_view text) {
  return text.size() == 12 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The errors that say revocation could not be checked (not that the certificate is revoked).
bool revocation_unknown(int error) {
  switch (error) {
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
      return true;
    default:
      return false;
  }
}

Rejection classify(int error, X509* certificate, int depth) {
  const std::string who =
      depth == 0 ? "the signer certificate" : fmt::format("the CA certificate at depth {}", depth);
  const std::string subject =
      certificate != nullptr ? name_text(X509_get_subject_name(certificate)) : "unknown";
  const std::string reason = X509_verify_cert_error_string(error);
  switch (error) {
    case X509_V_ERR_CERT_HAS_EXPIRED:
      return {Reason::certificate_expired, fmt::format("{} '{}' expired on {}", who, subject,
                                                       day_of(X509_get0_notAfter(certificate)))};
    case X509_V_ERR_CERT_NOT_YET_VALID:
      return {Reason::certificate_expired,
              fmt::format("{} '{}' is not valid before {}", who, subject,
                          day_of(X509_get0_notBefore(certificate)))};
    case X509_V_ERR_CERT_REVOKED:
      return {Reason::certificate_revoked,
              fmt::format("{} '{}' (serial {}) is revoked by its CA's CRL", who, subject,
                          revocation::serial_hex(certificate))};
    default:
      // Revocation that cannot be checked is not assumed absent: fail closed.
      if (revocation_unknown(error)) {
        return {Reason::certificate_untrusted,
                fmt::format("revocation of {} '{}' cannot be checked: {}", who, subject, reason)};
      }
      return {Reason::certificate_untrusted,
              fmt::format("{} '{}' does not chain to a trusted anchor: {}", who, subject, reason)};
  }
}

// What one verification learns on the way (the X509_STORE_CTX slot below carries it to the
// callback).
struct VerifyState {
  const TrustStore* trust = nullptr;
  bool ocsp_decides_signer = false;
  std::optional<Rejection> signer_crl;  // what the signer's CA's CRL said against it
  std::vector<int> missing_crl;         // the certificates whose CA's CRL is not loaded
  std::vector<int> unknown_crl;         // those, and the signer's when OCSP decides it
};

int verify_state_slot() {
  static const int slot = X509_STORE_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return slot;
}

int verify_callback(int ok, X509_STORE_CTX* context) {
  if (ok == 1) return ok;
  auto* state = static_cast<VerifyState*>(X509_STORE_CTX_get_ex_data(context, verify_state_slot()));
  if (state == nullptr) return ok;
  const int error = X509_STORE_CTX_get_error(context);
  const int depth = X509_STORE_CTX_get_error_depth(context);
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(context);
  // A chain that ends at an issuing CA configured without its root: OpenSSL asks for that CA's
  // own revocation status, which only the root's CRL could give. A trust anchor's status is not
  // part of path validation (RFC 5280, 6.1), so that one question, and only at the top, is let
  // pass.
  if ((error == X509_V_ERR_UNABLE_TO_GET_CRL || error == X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER) &&
      chain != nullptr && depth == sk_X509_num(chain) - 1 &&
      state->trust->is_partial_anchor(sk_X509_value(chain, depth))) {
    X509_STORE_CTX_set_error(context, X509_V_OK);
    return 1;
  }
  // OCSP decides the signer: what its CA's CRL says is kept for the fallback (ocsp_then_crl).
  // A revocation its CA signed in a CRL is final whatever a responder says.
  if (depth == 0 && state->ocsp_decides_signer && revocation_unknown(error) &&
      error != X509_V_ERR_CERT_REVOKED) {
    if (error == X509_V_ERR_UNABLE_TO_GET_CRL) state->unknown_crl.push_back(depth);
    if (!state->signer_crl) {
      state->signer_crl = classify(error, X509_STORE_CTX_get_current_cert(context), depth);
    }
    X509_STORE_CTX_set_error(context, X509_V_OK);
    return 1;
  }
  // A CRL not loaded yet: the rest of the chain (its signatures above all) is verified first, so
  // that its distribution point is read from a certificate known to come from the CA.
  if (error == X509_V_ERR_UNABLE_TO_GET_CRL) {
    state->missing_crl.push_back(depth);
    state->unknown_crl.push_back(depth);
    X509_STORE_CTX_set_error(context, X509_V_OK);
    return 1;
  }
  return ok;
}

struct StoreContextFree {
  void operator()(X509_STORE_CTX* context) const { X509_STORE_CTX_free(context); }
};
struct StackFree {
  void operator()(STACK_OF(X509) * stack) const { sk_X509_pop_free(stack, X509_free); }
};

}  // namespace

VerifiedCertificate::VerifiedCertificate(std::shared_ptr<X509> certificate, SignerIdentity identity,
                                         Instant not_before, Instant not_after)
    : certificate_(std::move(certificate)),
      identity_(std::move(identity)),
      not_before_(not_before),
      not_after_(not_after) {}

std::shared_ptr<X509> parse_certificate_der(const std::string& der) {
  gost::register_with_openssl();
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

SignerIdentity identity_of(X509* certificate) {
  SignerIdentity identity;
  const X509_NAME* subject = X509_get_subject_name(certificate);
  identity.subject = name_text(subject);
  for (int i = 0; i < X509_NAME_entry_count(subject); ++i) {
    const X509_NAME_ENTRY* entry = X509_NAME_get_entry(subject, i);
    const int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry));
    auto text = entry_text(entry);
    if (!text) continue;
    // NCA RK subjects: serialNumber=IIN<12 digits>; a legal entity's also OU=BIN<12 digits>.
    if (nid == NID_serialNumber && text->starts_with("IIN") && is_twelve_digits(text->substr(3))) {
      identity.iin = text->substr(3);
    } else if (nid == NID_organizationalUnitName && text->starts_with("BIN") &&
               is_twelve_digits(text->substr(3))) {
      identity.bin = text->substr(3);
    }
  }
  identity.key_usage_present = (X509_get_extension_flags(certificate) & EXFLAG_KUSAGE) != 0;
  identity.non_repudiation =
      identity.key_usage_present && (X509_get_key_usage(certificate) & KU_NON_REPUDIATION) != 0;
  if (auto* usages = static_cast<EXTENDED_KEY_USAGE*>(
          X509_get_ext_d2i(certificate, NID_ext_key_usage, nullptr, nullptr))) {
    for (int i = 0; i < sk_ASN1_OBJECT_num(usages); ++i) {
      char oid[128];
      OBJ_obj2txt(oid, sizeof oid, sk_ASN1_OBJECT_value(usages, i), 1);
      identity.extended_key_usages.emplace_back(oid);
    }
    EXTENDED_KEY_USAGE_free(usages);
  }
  return identity;
}

std::shared_ptr<TrustStore> TrustStore::load(const TrustSettings& settings,
                                             std::vector<std::string>& problems) {
  // NCA's GOST keys must be known before the first certificate is read.
  gost::register_with_openssl();
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

void TrustStore::build(const std::vector<std::shared_ptr<X509_CRL>>& fetched) {
  store_ = X509_STORE_new();
  // Every certificate of the chain must be checked against its CA's CRL, and a base CRL with its
  // delta CRL when both are loaded (RFC 5280, 5.2.4 and 5.2.6).
  X509_STORE_set_flags(store_,
                       X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL | X509_V_FLAG_USE_DELTAS);
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

std::vector<revocation::CrlFacts> TrustStore::crl_facts() const {
  std::vector<revocation::CrlFacts> out;
  for (const auto& crl : crls_)
    out.push_back(revocation::facts_of(crl.get()));
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

std::optional<std::string> TrustStore::weak_key(X509* certificate) const {
  EVP_PKEY* key = X509_get0_pubkey(certificate);
  if (key == nullptr) return "has a key that cannot be read";
  if (gost::key_of(key) != nullptr) return std::nullopt;
  switch (EVP_PKEY_get_base_id(key)) {
    case EVP_PKEY_RSA:
      if (EVP_PKEY_get_bits(key) >= min_rsa_bits_) return std::nullopt;
      return fmt::format("has an RSA key of {} bits; trust.min_rsa_bits is {}",
                         EVP_PKEY_get_bits(key), min_rsa_bits_);
    case EVP_PKEY_EC: {
      char group[64] = "";
      std::size_t length = 0;
      EVP_PKEY_get_group_name(key, group, sizeof group, &length);
      const int nid = OBJ_txt2nid(group);
      const char* nist = nid == NID_undef ? nullptr : EC_curve_nid2nist(nid);
      const std::string curve = nist != nullptr ? nist : group;
      if (std::find(ec_curves_.begin(), ec_curves_.end(), curve) != ec_curves_.end()) {
        return std::nullopt;
      }
      return fmt::format("has an EC key on the curve {}, not in trust.ec_curves", curve);
    }
    default:
      return fmt::format("has a key of a kind not accepted ({})",
                         OBJ_nid2sn(EVP_PKEY_get_base_id(key)));
  }
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
      if (now >= verified->not_before() && now <= verified->not_after()) {
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
    std::lock_guard lock(cache_mutex_);
    if (auto found = cache_.find(key); found != cache_.end()) {
      cache_order_.erase(found->second);
      cache_.erase(found);
    }
    if (cache_.size() >= cache_size_) {
      cache_.erase(cache_order_.front().first);
      cache_order_.pop_front();
    }
    cache_order_.emplace_back(key, *verified);
    cache_.emplace(std::move(key), std::prev(cache_order_.end()));
  }
  if (policy_ == RevocationPolicy::crl) return result;
  if (auto* verified = std::get_if<std::shared_ptr<const VerifiedCertificate>>(&result)) {
    return decide_by_ocsp(std::move(*verified), now);
  }
  return result;
}

CertificateCheck TrustStore::decide_by_ocsp(std::shared_ptr<const VerifiedCertificate> verified,
                                            Instant now) const {
  const std::string subject = verified->identity().subject;
  const std::string serial = revocation::serial_hex(verified->certificate());
  revocation::OcspAnswer answer;
  if (verified->chain_.size() < 2 || !ocsp_) {
    answer.detail = "no issuer certificate to ask about";
  } else {
    std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
    for (const auto& certificate : verified->chain_) {
      X509_up_ref(certificate.get());
      sk_X509_push(untrusted.get(), certificate.get());
    }
    answer = ocsp_->check(verified->certificate(), verified->chain_[1].get(), responders_,
                          untrusted.get(), now);
  }
  switch (answer.status) {
    case revocation::OcspStatus::good:
      return verified;
    case revocation::OcspStatus::revoked:
      return Rejection{Reason::certificate_revoked,
                       fmt::format("the signer certificate '{}' (serial {}) is {}", subject, serial,
                                   answer.detail)};
    case revocation::OcspStatus::unknown:
      return Rejection{Reason::certificate_untrusted,
                       fmt::format("the signer certificate '{}' (serial {}): {}", subject, serial,
                                   answer.detail)};
    case revocation::OcspStatus::unavailable:
      break;
  }
  if (policy_ == RevocationPolicy::ocsp_then_crl) {
    if (!verified->crl_says_) return verified;
    auto rejection = *verified->crl_says_;
    rejection.detail += fmt::format(" (OCSP could not answer: {})", answer.detail);
    rejection.status_pending = rejection.reason != Reason::certificate_revoked;
    return rejection;
  }
  return Rejection{Reason::certificate_untrusted,
                   fmt::format("the status of the signer certificate '{}' (serial {}) cannot be "
                               "checked: {}",
                               subject, serial, answer.detail),
                   true};
}

CertificateCheck TrustStore::verify_uncached(const std::string& leaf_der,
                                             const std::vector<std::string>& intermediates_der,
                                             Instant now) const {
  auto leaf = parse_certificate_der(leaf_der);
  if (!leaf) {
    return Rejection{Reason::certificate_untrusted,
                     "the signer certificate in ds:X509Certificate is not a DER certificate"};
  }
  std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
  for (const auto& intermediate : intermediates_) {
    X509_up_ref(intermediate.get());
    sk_X509_push(untrusted.get(), intermediate.get());
  }
  std::vector<std::shared_ptr<X509>> keep;
  for (std::size_t i = 0; i < intermediates_der.size(); ++i) {
    auto intermediate = parse_certificate_der(intermediates_der[i]);
    if (!intermediate) {
      return Rejection{Reason::certificate_untrusted,
                       fmt::format("ds:X509Certificate number {} is not a DER certificate", i + 2)};
    }
    X509_up_ref(intermediate.get());
    sk_X509_push(untrusted.get(), intermediate.get());
    keep.push_back(std::move(intermediate));
  }
  std::unique_ptr<X509_STORE_CTX, StoreContextFree> context(X509_STORE_CTX_new());
  if (!context || X509_STORE_CTX_init(context.get(), store_, leaf.get(), untrusted.get()) != 1) {
    ERR_clear_error();
    return Rejection{Reason::certificate_untrusted,
                     "the certificate chain could not be verified: out of memory", true};
  }
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(context.get()),
                             static_cast<time_t>(seconds.count()));
  VerifyState state;
  state.trust = this;
  state.ocsp_decides_signer = policy_ != RevocationPolicy::crl;
  X509_STORE_CTX_set_ex_data(context.get(), verify_state_slot(), &state);
  X509_STORE_CTX_set_verify_cb(context.get(), verify_callback);
  if (X509_verify_cert(context.get()) != 1) {
    auto rejection = classify(X509_STORE_CTX_get_error(context.get()),
                              X509_STORE_CTX_get_current_cert(context.get()),
                              X509_STORE_CTX_get_error_depth(context.get()));
    ERR_clear_error();
    return rejection;
  }
  STACK_OF(X509)* verified_chain = X509_STORE_CTX_get0_chain(context.get());
  // The chain's signatures hold, but a CRL it needs is not loaded: its distribution points, read
  // from the verified certificate, are handed to whoever fetches CRLs. Fail closed meanwhile.
  if (crl_url_sink_) {
    for (const int depth : state.unknown_crl) {
      X509* needing = sk_X509_value(verified_chain, depth);
      const auto why = fmt::format("the CRL distribution point of '{}'",
                                   name_text(X509_get_subject_name(needing)));
      for (const auto& url : revocation::crl_distribution_points(needing))
        crl_url_sink_(url, why);
      for (const auto& url : revocation::freshest_crl_points(needing))
        crl_url_sink_(url, why);
    }
  }
  if (!state.missing_crl.empty()) {
    const int depth = state.missing_crl.front();
    X509* certificate = sk_X509_value(verified_chain, depth);
    auto rejection = classify(X509_V_ERR_UNABLE_TO_GET_CRL, certificate, depth);
    const auto points = revocation::crl_distribution_points(certificate);
    if (!points.empty()) {
      rejection.detail +=
          fmt::format("; its CA's CRL is {} {}",
                      crl_url_sink_ ? "being fetched from" : "published at", points.front());
      rejection.status_pending = crl_url_sink_ != nullptr;
    }
    return rejection;
  }
  // A chain of strong keys only: a weak CA key would let anyone forge its certificates.
  for (int i = 0; i < sk_X509_num(verified_chain); ++i) {
    X509* certificate = sk_X509_value(verified_chain, i);
    if (auto weak = weak_key(certificate)) {
      return Rejection{Reason::certificate_untrusted,
                       fmt::format("{} '{}' {}",
                                   i == 0 ? "the signer certificate"
                                          : fmt::format("the CA certificate at depth {}", i),
                                   name_text(X509_get_subject_name(certificate)), *weak)};
    }
  }
  // The window in which this verification stays true: the overlap of the chain's validity and
  // the CRLs' (after the earliest nextUpdate, revocation can no longer be checked).
  Instant not_before = Instant::min();
  Instant not_after = Instant::max();
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(context.get());
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    X509* certificate = sk_X509_value(chain, i);
    if (auto from = to_instant(X509_get0_notBefore(certificate)); from && *from > not_before) {
      not_before = *from;
    }
    if (auto until = to_instant(X509_get0_notAfter(certificate)); until && *until < not_after) {
      not_after = *until;
    }
  }
  if (crl_next_update_ && *crl_next_update_ < not_after) not_after = *crl_next_update_;
  auto verified =
      std::make_shared<VerifiedCertificate>(leaf, identity_of(leaf.get()), not_before, not_after);
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    X509* certificate = sk_X509_value(chain, i);
    X509_up_ref(certificate);
    verified->chain_.emplace_back(certificate, X509_free);
  }
  verified->crl_says_ = state.signer_crl;
  return verified;
}

}  // namespace nqs::xmldsig
