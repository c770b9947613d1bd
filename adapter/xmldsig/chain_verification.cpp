#include <fmt/format.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gost/openssl_keys.hpp"
#include "xmldsig/trust_store.hpp"

namespace nqs::xmldsig {
namespace {

using revocation::name_text;
using revocation::to_instant;

std::string day_of(const ASN1_TIME* time) {
  auto instant = to_instant(time);
  return instant ? to_utc_string(*instant).substr(0, 10) : "an unreadable date";
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

// The certificates the chain may be built with besides the anchors: the issuing CAs configured
// with their root, then those that came with the signature (ds:X509Certificate after the
// signer's), into `untrusted`.
std::optional<Rejection> offer_intermediates(STACK_OF(X509) * untrusted,
                                             const std::vector<std::shared_ptr<X509>>& configured,
                                             const std::vector<std::string>& intermediates_der) {
  for (const auto& intermediate : configured) {
    X509_up_ref(intermediate.get());
    sk_X509_push(untrusted, intermediate.get());
  }
  for (std::size_t i = 0; i < intermediates_der.size(); ++i) {
    auto intermediate = parse_certificate_der(intermediates_der[i]);
    if (!intermediate) {
      return Rejection{Reason::certificate_untrusted,
                       fmt::format("ds:X509Certificate number {} is not a DER certificate", i + 2)};
    }
    X509_up_ref(intermediate.get());
    sk_X509_push(untrusted, intermediate.get());
  }
  return std::nullopt;
}

// Hands `sink` the CRL distribution points (and Freshest CRL points) of the certificates of
// `chain` at `depths`.
void ask_for_crls(const CrlUrlSink& sink, const std::vector<int>& depths, STACK_OF(X509) * chain) {
  for (const int depth : depths) {
    X509* needing = sk_X509_value(chain, depth);
    const auto why = fmt::format("the CRL distribution point of '{}'",
                                 name_text(X509_get_subject_name(needing)));
    for (const auto& url : revocation::crl_distribution_points(needing))
      sink(url, why);
    for (const auto& url : revocation::freshest_crl_points(needing))
      sink(url, why);
  }
}

// Why the certificate of `chain` at `depth`, whose CA's CRL is not loaded, cannot be trusted yet:
// with where that CRL is published, or being fetched from when `fetching`.
Rejection missing_crl_rejection(STACK_OF(X509) * chain, int depth, bool fetching) {
  X509* certificate = sk_X509_value(chain, depth);
  auto rejection = classify(X509_V_ERR_UNABLE_TO_GET_CRL, certificate, depth);
  const auto points = revocation::crl_distribution_points(certificate);
  if (!points.empty()) {
    rejection.detail +=
        fmt::format("; its CA's CRL is {} {}", fetching ? "being fetched from" : "published at",
                    points.front());
    rejection.status_pending = fetching;
  }
  return rejection;
}

}  // namespace

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

CertificateCheck TrustStore::decide_by_ocsp(std::shared_ptr<const VerifiedCertificate> verified,
                                            Instant now) const {
  const std::string subject = verified->identity().subject;
  const std::string& serial = verified->serial();
  revocation::OcspAnswer answer;
  if (verified->chain_.size() < 2 || !ocsp_) {
    answer.detail = "no issuer certificate to ask about";
  } else {
    std::unique_ptr<STACK_OF(X509), StackFree> untrusted(sk_X509_new_null());
    for (const auto& certificate : verified->chain_) {
      X509_up_ref(certificate.get());
      sk_X509_push(untrusted.get(), certificate.get());
    }
    answer = ocsp_->check(verified->chain_[0].get(), verified->chain_[1].get(), responders_,
                          untrusted.get(), now);
  }
  switch (answer.status) {
    case revocation::OcspStatus::good: {
      // The same verification, with the answer it was decided on (a cached chain has none).
      auto decided = std::make_shared<VerifiedCertificate>(*verified);
      decided->ocsp_response_ = std::move(answer.response_der);
      decided->ocsp_responder_ = answer.responder;
      return decided;
    }
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
  if (auto rejection = offer_intermediates(untrusted.get(), intermediates_, intermediates_der)) {
    return *rejection;
  }
  std::unique_ptr<X509_STORE_CTX, StoreContextFree> context(X509_STORE_CTX_new());
  if (!context || X509_STORE_CTX_init(context.get(), store_, leaf.get(), untrusted.get()) != 1) {
    ERR_clear_error();
    return Rejection{Reason::certificate_untrusted,
                     "the certificate chain could not be verified: out of memory", true};
  }
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(context.get());
  if (times_hold(seconds.count(), leaf.get(), untrusted.get())) {
    // Every time OpenSSL would check holds: it need not check them again. Each of OpenSSL 3.0's
    // checks printed the instant as ASN.1 text and parsed both times back (some fourteen for a
    // new signer's chain and CRLs, 7 to 10 us). Where one might not hold, OpenSSL checks them
    // all, as before, and gives its own error and choice of issuer.
    X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_NO_CHECK_TIME);
    times_held_.fetch_add(1, std::memory_order_relaxed);
  } else {
    X509_VERIFY_PARAM_set_time(param, static_cast<time_t>(seconds.count()));
  }
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
  if (crl_url_sink_) ask_for_crls(crl_url_sink_, state.unknown_crl, verified_chain);
  if (!state.missing_crl.empty()) {
    return missing_crl_rejection(verified_chain, state.missing_crl.front(),
                                 crl_url_sink_ != nullptr);
  }
  // A chain of strong keys only: a weak CA key would let anyone forge its certificates.
  if (auto weak = weak_chain_key(verified_chain)) return *weak;
  return verified_of(verified_chain, state.signer_crl);
}

bool TrustStore::times_hold(std::int64_t at, const X509* leaf, STACK_OF(X509) * untrusted) const {
  // X509_cmp_time in OpenSSL 3.0: a time is passed when it is at or before the instant; a
  // certificate is valid from its notBefore and expired at its notAfter, a CRL current from its
  // thisUpdate and stale at its nextUpdate. (Later versions let the nextUpdate second itself
  // pass: this is stricter, and then only leaves the check to OpenSSL.)
  auto in_time = [at](const X509* certificate) {
    const auto from = revocation::checked_seconds(X509_get0_notBefore(certificate));
    const auto until = revocation::checked_seconds(X509_get0_notAfter(certificate));
    return from && until && *from <= at && at < *until;
  };
  if (!in_time_ || at < in_time_->first || at >= in_time_->second || !in_time(leaf)) return false;
  // The configured intermediates are anchors, in in_time_ already.
  for (int i = static_cast<int>(intermediates_.size()); i < sk_X509_num(untrusted); ++i) {
    if (!in_time(sk_X509_value(untrusted, i))) return false;
  }
  return true;
}

std::optional<Rejection> TrustStore::weak_chain_key(STACK_OF(X509) * chain) const {
  for (int i = 0; i < sk_X509_num(chain); ++i) {
    X509* certificate = sk_X509_value(chain, i);
    if (auto weak = weak_key(certificate)) {
      return Rejection{Reason::certificate_untrusted,
                       fmt::format("{} '{}' {}",
                                   i == 0 ? "the signer certificate"
                                          : fmt::format("the CA certificate at depth {}", i),
                                   name_text(X509_get_subject_name(certificate)), *weak)};
    }
  }
  return std::nullopt;
}

std::shared_ptr<VerifiedCertificate> TrustStore::verified_of(
    STACK_OF(X509) * chain, const std::optional<Rejection>& signer_crl) const {
  // The window in which this verification stays true: the overlap of the chain's validity and
  // the CRLs' (after the earliest nextUpdate, revocation can no longer be checked).
  Instant not_before = Instant::min();
  Instant not_after = Instant::max();
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
  X509* leaf = sk_X509_value(chain, 0);
  auto verified =
      std::make_shared<VerifiedCertificate>(leaf, identity_of(leaf), not_before, not_after);
  // The certificates themselves only for OCSP's questions (the CRLs have answered already).
  if (policy_ != RevocationPolicy::crl) {
    for (int i = 0; i < sk_X509_num(chain); ++i) {
      X509* certificate = sk_X509_value(chain, i);
      X509_up_ref(certificate);
      verified->chain_.emplace_back(certificate, X509_free);
    }
  }
  verified->crl_says_ = signer_crl;
  return verified;
}

}  // namespace nqs::xmldsig
