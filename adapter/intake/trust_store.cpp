#include "intake/trust_store.hpp"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <ctime>
#include <fstream>

#include "gost/openssl_keys.hpp"

namespace nqs::intake {
namespace {

std::string name_text(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(length));
  BIO_free(bio);
  return out;
}

std::optional<Instant> to_instant(const ASN1_TIME* time) {
  std::tm parts{};
  if (time == nullptr || ASN1_TIME_to_tm(time, &parts) != 1) return std::nullopt;
  return std::chrono::time_point_cast<std::chrono::milliseconds>(
      std::chrono::system_clock::from_time_t(timegm(&parts)));
}

std::string day_of(const ASN1_TIME* time) {
  auto instant = to_instant(time);
  return instant ? to_utc_string(*instant).substr(0, 10) : "an unreadable date";
}

std::string read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
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
              fmt::format("{} '{}' (serial {}) is revoked by its CA's CRL", who, subject, [&] {
                BIGNUM* serial = ASN1_INTEGER_to_BN(X509_get0_serialNumber(certificate), nullptr);
                char* hex = BN_bn2hex(serial);
                std::string text = hex;
                OPENSSL_free(hex);
                BN_free(serial);
                return text;
              }())};
    case X509_V_ERR_UNABLE_TO_GET_CRL:
    case X509_V_ERR_CRL_HAS_EXPIRED:
    case X509_V_ERR_CRL_NOT_YET_VALID:
    case X509_V_ERR_CRL_SIGNATURE_FAILURE:
    case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
    case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
      // Revocation that cannot be checked is not assumed absent: fail closed.
      return {Reason::certificate_untrusted,
              fmt::format("revocation of {} '{}' cannot be checked: {}", who, subject, reason)};
    default:
      return {Reason::certificate_untrusted,
              fmt::format("{} '{}' does not chain to a trusted anchor: {}", who, subject, reason)};
  }
}

// A chain that ends at an issuing CA configured without its root: OpenSSL asks for that CA's own
// revocation status, which only the root's CRL could give. A trust anchor's status is not part of
// path validation (RFC 5280, 6.1), so that one question, and only at the top, is let pass.
// The X509_STORE_CTX slot that carries the trust store to the callback below.
int trust_store_slot() {
  static const int slot = X509_STORE_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return slot;
}

int accept_partial_anchor_status(int ok, X509_STORE_CTX* context) {
  if (ok == 1) return ok;
  const int error = X509_STORE_CTX_get_error(context);
  if (error != X509_V_ERR_UNABLE_TO_GET_CRL && error != X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER) {
    return ok;
  }
  STACK_OF(X509)* chain = X509_STORE_CTX_get0_chain(context);
  const int depth = X509_STORE_CTX_get_error_depth(context);
  const auto* trust =
      static_cast<const TrustStore*>(X509_STORE_CTX_get_ex_data(context, trust_store_slot()));
  if (chain == nullptr || trust == nullptr || depth != sk_X509_num(chain) - 1 ||
      !trust->is_partial_anchor(sk_X509_value(chain, depth))) {
    return ok;
  }
  X509_STORE_CTX_set_error(context, X509_V_OK);
  return 1;
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
  trust->store_ = X509_STORE_new();
  trust->cache_size_ = settings.cache_size;
  trust->min_rsa_bits_ = settings.min_rsa_bits;
  trust->ec_curves_ = settings.ec_curves;
  // Every certificate of the chain must be checked against its CA's CRL.
  X509_STORE_set_flags(trust->store_, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
  const auto problems_before = problems.size();

  std::vector<X509*> anchors;
  for (const auto& file : settings.anchors) {
    const std::string text = read_file(file);
    BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
    std::size_t in_file = 0;
    while (X509* certificate = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
      anchors.push_back(certificate);
      ++in_file;
    }
    ERR_clear_error();
    BIO_free(bio);
    // NCA publishes its CA certificates as DER (.cer): one certificate, nothing after it.
    if (in_file == 0) {
      if (auto certificate = parse_certificate_der(text)) {
        X509_up_ref(certificate.get());
        anchors.push_back(certificate.get());
        ++in_file;
      }
    }
    if (in_file == 0)
      problems.push_back(fmt::format("{}: no certificate found (PEM or DER)", file.string()));
    trust->anchor_count_ += in_file;
  }
  for (const auto& file : settings.crls) {
    const std::string text = read_file(file);
    BIO* bio = BIO_new_mem_buf(text.data(), static_cast<int>(text.size()));
    X509_CRL* crl = PEM_read_bio_X509_CRL(bio, nullptr, nullptr, nullptr);
    if (crl == nullptr) {
      ERR_clear_error();
      const auto* data = reinterpret_cast<const unsigned char*>(text.data());
      crl = d2i_X509_CRL(nullptr, &data, static_cast<long>(text.size()));
    }
    BIO_free(bio);
    if (crl == nullptr) {
      ERR_clear_error();
      problems.push_back(fmt::format("{}: not a CRL in PEM or DER", file.string()));
      continue;
    }
    // A CRL must come from one of the anchors and carry its signature.
    bool issuer_known = false;
    for (X509* anchor : anchors) {
      if (X509_NAME_cmp(X509_get_subject_name(anchor), X509_CRL_get_issuer(crl)) == 0 &&
          X509_CRL_verify(crl, X509_get0_pubkey(anchor)) == 1) {
        issuer_known = true;
      }
    }
    ERR_clear_error();
    if (!issuer_known) {
      problems.push_back(fmt::format("{}: the CRL of '{}' is not signed by any trust anchor",
                                     file.string(), name_text(X509_CRL_get_issuer(crl))));
    }
    if (auto next = to_instant(X509_CRL_get0_nextUpdate(crl))) {
      if (!trust->crl_next_update_ || *next < *trust->crl_next_update_)
        trust->crl_next_update_ = next;
    }
    X509_STORE_add_crl(trust->store_, crl);
    X509_CRL_free(crl);
    ++trust->crl_count_;
  }
  trust->place_anchors(anchors);
  for (X509* anchor : anchors)
    X509_free(anchor);
  if (problems.size() != problems_before) return nullptr;
  return trust;
}

// Roots are trusted as such. An issuing CA whose root is configured too is offered as an
// intermediate with every chain, so that the chain reaches the root and the issuing CA's own
// revocation (the root's CRL) and validity are checked. An issuing CA configured without its root
// (NCA publishes its issuing CAs; a deployment may trust those alone) is a trust anchor itself: the
// chain ends there, and its own status, which only its absent root could tell, is not asked.
void TrustStore::place_anchors(const std::vector<X509*>& anchors) {
  for (X509* anchor : anchors) {
    const bool root = X509_self_signed(anchor, 0) == 1;
    const bool issuer_configured = std::any_of(anchors.begin(), anchors.end(), [&](X509* other) {
      return other != anchor && X509_check_issued(other, anchor) == X509_V_OK;
    });
    if (!root && issuer_configured) {
      X509_up_ref(anchor);
      intermediates_.emplace_back(anchor, X509_free);
      continue;
    }
    X509_STORE_add_cert(store_, anchor);
    if (!root) {
      X509_up_ref(anchor);
      partial_anchors_.emplace_back(anchor, X509_free);
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
  {
    std::lock_guard lock(cache_mutex_);
    if (auto found = cache_.find(key); found != cache_.end()) {
      const auto& verified = found->second->second;
      // A cached chain is reused only inside its validity; outside, the full check says why not.
      if (now >= verified->not_before() && now <= verified->not_after()) {
        cache_order_.splice(cache_order_.end(), cache_order_, found->second);
        return verified;
      }
    }
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
  return result;
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
  X509_STORE_CTX_init(context.get(), store_, leaf.get(), untrusted.get());
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch());
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(context.get()),
                             static_cast<time_t>(seconds.count()));
  if (!partial_anchors_.empty()) {
    X509_STORE_CTX_set_ex_data(context.get(), trust_store_slot(), const_cast<TrustStore*>(this));
    X509_STORE_CTX_set_verify_cb(context.get(), accept_partial_anchor_status);
  }
  if (X509_verify_cert(context.get()) != 1) {
    auto rejection = classify(X509_STORE_CTX_get_error(context.get()),
                              X509_STORE_CTX_get_current_cert(context.get()),
                              X509_STORE_CTX_get_error_depth(context.get()));
    ERR_clear_error();
    return rejection;
  }
  // A chain of strong keys only: a weak CA key would let anyone forge its certificates.
  STACK_OF(X509)* verified_chain = X509_STORE_CTX_get0_chain(context.get());
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
  return std::make_shared<const VerifiedCertificate>(leaf, identity_of(leaf.get()), not_before,
                                                     not_after);
}

}  // namespace nqs::intake
