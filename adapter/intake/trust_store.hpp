#pragma once

#include <openssl/evp.h>
#include <openssl/x509.h>

#include <chrono>
#include <filesystem>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "common/instant.hpp"
#include "intake/reason.hpp"

namespace nqs::intake {

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

// A certificate whose chain verified against the anchors and CRLs at some time.
class VerifiedCertificate {
 public:
  VerifiedCertificate(std::shared_ptr<X509> certificate, SignerIdentity identity,
                      Instant not_before, Instant not_after);
  [[nodiscard]] EVP_PKEY* public_key() const { return X509_get0_pubkey(certificate_.get()); }
  [[nodiscard]] const SignerIdentity& identity() const { return identity_; }
  // The period in which the whole chain is valid.
  [[nodiscard]] Instant not_before() const { return not_before_; }
  [[nodiscard]] Instant not_after() const { return not_after_; }

 private:
  std::shared_ptr<X509> certificate_;
  SignerIdentity identity_;
  Instant not_before_;
  Instant not_after_;
};

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
};

using CertificateCheck = std::variant<std::shared_ptr<const VerifiedCertificate>, Rejection>;

// The trusted roots, intermediates and CRLs, and a bounded cache of verified chains keyed by
// their bytes. A reload builds a new store, so a new CRL takes effect with an empty cache.
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

  // The earliest nextUpdate of the loaded CRLs: after it, revocation cannot be checked.
  [[nodiscard]] std::optional<Instant> earliest_crl_next_update() const { return crl_next_update_; }
  [[nodiscard]] std::size_t anchor_count() const { return anchor_count_; }
  [[nodiscard]] std::size_t crl_count() const { return crl_count_; }
  [[nodiscard]] std::size_t cached() const;
  // An issuing CA of trust.anchors configured without its root: a trust anchor of its own.
  [[nodiscard]] bool is_partial_anchor(const X509* certificate) const;

  ~TrustStore();
  TrustStore(const TrustStore&) = delete;
  TrustStore& operator=(const TrustStore&) = delete;

 private:
  TrustStore() = default;
  [[nodiscard]] CertificateCheck verify_uncached(const std::string& leaf_der,
                                                 const std::vector<std::string>& intermediates_der,
                                                 Instant now) const;

  void place_anchors(const std::vector<X509*>& anchors);

  // Why a certificate's key is too weak to be trusted (trust.min_rsa_bits, trust.ec_curves).
  [[nodiscard]] std::optional<std::string> weak_key(X509* certificate) const;

  X509_STORE* store_ = nullptr;
  int min_rsa_bits_ = 2048;
  std::vector<std::string> ec_curves_;
  std::vector<std::shared_ptr<X509>> intermediates_;    // issuing CAs whose root is an anchor
  std::vector<std::shared_ptr<X509>> partial_anchors_;  // issuing CAs without their root
  std::size_t anchor_count_ = 0;
  std::size_t crl_count_ = 0;
  std::optional<Instant> crl_next_update_;
  std::size_t cache_size_ = 0;

  // Least recently used first; the map points into the list.
  using CacheList = std::list<std::pair<std::string, std::shared_ptr<const VerifiedCertificate>>>;
  mutable std::mutex cache_mutex_;
  mutable CacheList cache_order_;
  mutable std::unordered_map<std::string, CacheList::iterator> cache_;
};

// Reads the identity a certificate's subject and extensions give.
SignerIdentity identity_of(X509* certificate);
// Parses a DER certificate; nullptr if it is not one.
std::shared_ptr<X509> parse_certificate_der(const std::string& der);

}  // namespace nqs::intake
