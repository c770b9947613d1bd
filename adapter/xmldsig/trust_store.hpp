#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <variant>
#include <vector>

#include "common/instant.hpp"
#include "common/reason.hpp"
#include "revocation/ocsp.hpp"
#include "revocation/x509_facts.hpp"

namespace nqs::xmldsig {

// Extended key usage OIDs of NCA RK certificates (domain.md, "Identity").
inline constexpr std::string_view kEkuIndividual = "1.2.398.3.3.4.1.1";
inline constexpr std::string_view kEkuLegalEntity = "1.2.398.3.3.4.1.2";

// Who a certificate says its holder is: read from the subject, never from the document.
struct SignerIdentity {
  std::string subject;                           // RFC 2253, for messages
  std::optional<std::string> iin;                // serialNumber=IIN<12 digits>
  std::optional<std::string> bin;                // OU=BIN<12 digits>
  std::vector<std::string> extended_key_usages;  // dotted OIDs
  bool key_usage_present = false;
  bool non_repudiation = false;  // a signing key; authentication keys lack it
};

// A certificate whose chain verified against the anchors and CRLs at some time: what a document
// signed with it needs afterwards, kept (in the trust store's cache) for thousands of signers. The
// parsed certificate itself is kept only when OCSP decides the signer's status: of a GOST
// certificate's ~6 KB parsed, a document needs the key (~2.5 KB) and a few names.
class VerifiedCertificate {
 public:
  VerifiedCertificate(X509* certificate, SignerIdentity identity, Instant not_before,
                      Instant not_after);
  [[nodiscard]] EVP_PKEY* public_key() const { return public_key_.get(); }
  [[nodiscard]] const SignerIdentity& identity() const { return identity_; }
  // Its serial number (hex) and issuer (RFC 2253), for the evidence archive and for messages.
  [[nodiscard]] const std::string& serial() const { return serial_; }
  [[nodiscard]] const std::string& issuer() const { return issuer_; }
  // The period in which the whole chain is valid.
  [[nodiscard]] Instant not_before() const { return not_before_; }
  [[nodiscard]] Instant not_after() const { return not_after_; }
  // When an OCSP responder decided the signer's status: its answer as received (DER) and where
  // from (the evidence archive keeps them, issue 18); empty when a CRL did.
  [[nodiscard]] const std::string& ocsp_response() const { return ocsp_response_; }
  [[nodiscard]] const std::string& ocsp_responder() const { return ocsp_responder_; }

 private:
  std::shared_ptr<EVP_PKEY> public_key_;
  SignerIdentity identity_;
  std::string serial_;
  std::string issuer_;
  Instant not_before_;
  Instant not_after_;

  friend class TrustStore;
  // What the signer's own status needs when OCSP decides it (trust.revocation): the verified
  // chain, the signer's certificate first, and what its CA's CRL said (none when it said nothing
  // against it). Empty when CRLs alone decide.
  std::vector<std::shared_ptr<X509>> chain_;
  std::optional<Rejection> crl_says_;
  std::string ocsp_response_;
  std::string ocsp_responder_;
};

// Where the status of a signer certificate comes from (trust.revocation): its CA's CRL; its CA's
// OCSP responder; the responder, and the CRL when the responder cannot answer. The CA
// certificates above a signer are always checked against their CAs' CRLs.
enum class RevocationPolicy { crl, ocsp, ocsp_then_crl };
inline constexpr std::string_view kRevocationPolicies[] = {"crl", "ocsp", "ocsp_then_crl"};

// Told the http:// distribution points of a CRL that a verified certificate names and the trust
// store does not have (the issuing CA's CRL, learnt from the first signer it issued).
using CrlUrlSink = std::function<void(const std::string& url, const std::string& why)>;

// The EC curves an ECDSA key may be on (trust.ec_curves): their NIST names.
inline constexpr std::string_view kEcCurves[] = {"P-256", "P-384", "P-521"};

struct TrustSettings {
  std::vector<std::filesystem::path> anchors;  // PEM files: roots and intermediates
  std::vector<std::filesystem::path> crls;     // PEM or DER files
  std::size_t cache_size = 10000;
  // Weak keys are refused in every certificate of a chain: RSA below this many bits, EC on other
  // curves than these. NCA RK issues RSA-2048 and GOST.
  int min_rsa_bits = 2048;
  std::vector<std::string> ec_curves = {"P-256"};
  RevocationPolicy revocation = RevocationPolicy::crl;
  std::shared_ptr<revocation::OcspClient> ocsp;  // for the OCSP policies
};

using CertificateCheck = std::variant<std::shared_ptr<const VerifiedCertificate>, Rejection>;

// The trusted roots, intermediates and CRLs, and a bounded cache of verified chains keyed by
// their bytes, which a chain joins the second time it is verified. A reload builds a new store, so
// a new CRL takes effect with an empty cache.
// Safe to use from several threads.
class TrustStore {
 public:
  // Loads the files; every problem is appended to `problems` (one line each, with the file).
  static std::shared_ptr<TrustStore> load(const TrustSettings& settings,
                                          std::vector<std::string>& problems);

  // Verifies a signer certificate (DER) with the intermediates that came with it, at `now`:
  // certificate.untrusted (no chain to an anchor, a foreign CA, no usable CRL),
  // certificate.expired (any certificate of the chain outside its validity), certificate.revoked.
  [[nodiscard]] CertificateCheck verify(const std::string& leaf_der,
                                        const std::vector<std::string>& intermediates_der,
                                        Instant now) const;

  // The same anchors and configured CRLs with `fetched` CRLs besides (of one issuer and kind,
  // base or delta, only the newest is used), and an empty cache. `sink` learns the distribution
  // points of CRLs that verified certificates need and the store lacks.
  [[nodiscard]] std::shared_ptr<TrustStore> with_crls(
      const std::vector<std::shared_ptr<X509_CRL>>& fetched, CrlUrlSink sink) const;

  // The same anchors and key rules with no revocation checked: whether a chain held at an instant
  // long past (the evidence archive, issue 18, keeps the facts of the CRLs it was judged on; the
  // CRLs current then are not current now).
  [[nodiscard]] std::shared_ptr<TrustStore> without_revocation() const;

  // Why a CRL fetched from a distribution point cannot be used at `now` (not signed by an anchor
  // of the same name, not current); nullopt when it can.
  [[nodiscard]] std::optional<std::string> check_crl(X509_CRL* crl, Instant now) const;

  // The http:// CRL distribution points (and Freshest CRL points) the anchors name: the CRLs of
  // the CAs that issued them.
  [[nodiscard]] std::vector<std::string> anchor_crl_points() const;
  [[nodiscard]] const std::vector<std::shared_ptr<X509>>& anchors() const { return anchors_; }
  [[nodiscard]] RevocationPolicy policy() const { return policy_; }
  [[nodiscard]] const std::shared_ptr<revocation::OcspClient>& ocsp() const { return ocsp_; }

  // The earliest nextUpdate of the CRLs in use: after it, revocation cannot be checked.
  [[nodiscard]] std::optional<Instant> earliest_crl_next_update() const { return crl_next_update_; }
  // What each CRL in use says of itself, read once when the store was built (each accepted
  // document's evidence names its issuer's).
  [[nodiscard]] const std::vector<revocation::CrlFacts>& crl_facts() const { return crl_facts_; }
  // The facts of the CRLs in use whose issuer is `issuer` (RFC 2253), as the evidence archive
  // keeps them with each accepted document: a JSON array of objects with issuer, number,
  // thisUpdate, nextUpdate and delta, in the order of crl_facts(); "[]" for an issuer without one.
  // Written once when the store is built, not for every document.
  [[nodiscard]] const std::string& crl_facts_json(const std::string& issuer) const;
  [[nodiscard]] std::size_t anchor_count() const { return anchors_.size(); }
  [[nodiscard]] std::size_t crl_count() const { return crls_.size(); }
  [[nodiscard]] std::size_t cached() const;
  // How many chains were verified with OpenSSL's time checks left out, every time they compare
  // having held (times_hold).
  [[nodiscard]] std::uint64_t verified_with_times_held() const { return times_held_.load(); }
  // An issuing CA of trust.anchors configured without its root: a trust anchor of its own.
  [[nodiscard]] bool is_partial_anchor(const X509* certificate) const;

  ~TrustStore();
  TrustStore(const TrustStore&) = delete;
  TrustStore& operator=(const TrustStore&) = delete;

 private:
  TrustStore() = default;
  // A store of `anchors` and `crls` (the newest of each issuer and kind).
  void build(const std::vector<std::shared_ptr<X509_CRL>>& crls);
  // The signer's status from OCSP (and its CA's CRL, by the policy).
  [[nodiscard]] CertificateCheck decide_by_ocsp(std::shared_ptr<const VerifiedCertificate> verified,
                                                Instant now) const;
  [[nodiscard]] CertificateCheck verify_uncached(const std::string& leaf_der,
                                                 const std::vector<std::string>& intermediates_der,
                                                 Instant now) const;
  // Caches a chain verified a second time (`key` its bytes); notes it when it is the first.
  void remember(std::string key, const std::shared_ptr<const VerifiedCertificate>& verified) const;
  // Why a verified chain is not trusted for the weak key of one of its certificates.
  [[nodiscard]] std::optional<Rejection> weak_chain_key(STACK_OF(X509) * chain) const;
  // The signer of the verified `chain` (its first certificate), valid while the chain and the
  // CRLs in use are; `signer_crl` what its CA's CRL said against it.
  [[nodiscard]] std::shared_ptr<VerifiedCertificate> verified_of(
      STACK_OF(X509) * chain, const std::optional<Rejection>& signer_crl) const;

  void place_anchors();
  // Sets in_time_ from the anchors and the CRLs in use.
  void find_when_in_time();
  // Whether every validity period X509_verify_cert would compare with `at` holds it: the
  // anchors' and the CRLs' in use (in_time_), the signer's, and those of the certificates that
  // came with the signature (in `untrusted` after the configured intermediates).
  [[nodiscard]] bool times_hold(std::int64_t at, const X509* leaf,
                                STACK_OF(X509) * untrusted) const;

  // Why a certificate's key is too weak to be trusted (trust.min_rsa_bits, trust.ec_curves).
  [[nodiscard]] std::optional<std::string> weak_key(X509* certificate) const;

  X509_STORE* store_ = nullptr;
  X509_STORE* responders_ = nullptr;  // the anchors alone: what OCSP responders chain to
  int min_rsa_bits_ = 2048;
  std::vector<std::string> ec_curves_;
  RevocationPolicy policy_ = RevocationPolicy::crl;
  bool revocation_checked_ = true;
  std::shared_ptr<revocation::OcspClient> ocsp_;
  CrlUrlSink crl_url_sink_;
  std::vector<std::shared_ptr<X509>> anchors_;                      // as configured
  std::vector<std::shared_ptr<X509_CRL>> file_crls_;                // trust.crls
  std::vector<std::shared_ptr<X509_CRL>> crls_;                     // in use
  std::vector<revocation::CrlFacts> crl_facts_;                     // of crls_, in the same order
  std::map<std::string, std::string, std::less<>> crl_facts_json_;  // by issuer
  std::vector<std::shared_ptr<X509>> intermediates_;    // issuing CAs whose root is an anchor
  std::vector<std::shared_ptr<X509>> partial_anchors_;  // issuing CAs without their root
  std::optional<Instant> crl_next_update_;
  // The seconds [first, second) at which every anchor and every CRL in use is within its
  // validity, as X509_cmp_time reads them; none when one of their times is unreadable or when
  // they share no instant (an expired anchor left in trust.anchors, say).
  std::optional<std::pair<std::int64_t, std::int64_t>> in_time_;
  mutable std::atomic<std::uint64_t> times_held_{0};
  std::size_t cache_size_ = 0;

  // Least recently used first; the map points into the list.
  using CacheList = std::list<std::pair<std::string, std::shared_ptr<const VerifiedCertificate>>>;
  mutable std::mutex cache_mutex_;
  mutable CacheList cache_order_;
  mutable std::unordered_map<std::string, CacheList::iterator> cache_;
  // The chains verified once and not cached (a hash of their bytes): a chain is cached when it is
  // verified a second time. On real traffic each applicant signs once, and an entry kept for a
  // signer who does not come back (some 6 KB) costs memory and the allocator's time on every
  // document. At most cache_size hashes; all forgotten when full.
  mutable std::unordered_set<std::size_t> seen_once_;
};

// The trust store in use, replaced whole when the CRLs fetched change; a reader keeps the one it
// got for as long as it needs it. Safe to use from several threads.
class TrustHolder {
 public:
  explicit TrustHolder(std::shared_ptr<const TrustStore> trust) : trust_(std::move(trust)) {}
  [[nodiscard]] std::shared_ptr<const TrustStore> get() const {
    std::lock_guard lock(mutex_);
    return trust_;
  }
  void set(std::shared_ptr<const TrustStore> trust) {
    std::lock_guard lock(mutex_);
    trust_ = std::move(trust);
  }

 private:
  mutable std::mutex mutex_;
  std::shared_ptr<const TrustStore> trust_;
};

// Reads the identity a certificate's subject and extensions give.
SignerIdentity identity_of(X509* certificate);
// Parses a DER certificate; nullptr if it is not one.
std::shared_ptr<X509> parse_certificate_der(const std::string& der);

}  // namespace nqs::xmldsig
