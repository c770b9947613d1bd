#pragma once

#include <openssl/x509.h>

#include <compare>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/instant.hpp"

namespace nqs::revocation {

// A name as RFC 2253 text, for messages.
std::string name_text(const X509_NAME* name);
// An ASN.1 time; nullopt when absent or unreadable.
std::optional<Instant> to_instant(const ASN1_TIME* time);
// An ASN.1 time in seconds since the epoch, read as OpenSSL's X509_cmp_time reads it when it
// checks a certificate's or a CRL's validity (RFC 5280's fixed forms, YYMMDDHHMMSSZ or
// YYYYMMDDHHMMSSZ, then OpenSSL's own parser); nullopt where X509_cmp_time finds an error.
std::optional<std::int64_t> checked_seconds(const ASN1_TIME* time);
// A certificate's serial number in hexadecimal.
std::string serial_hex(const X509* certificate);
// DER bytes of a certificate as PEM text (as received: not parsed).
std::string pem_certificate(std::string_view der);
// A certificate's DER bytes (empty when it cannot be encoded).
std::string certificate_der(X509* certificate);

// The http:// URLs a certificate names: its CRL distribution points, its Freshest CRL (where
// delta CRLs are), its OCSP responders (Authority Information Access). Other schemes (ldap://)
// are left out; at most 8 of each.
std::vector<std::string> crl_distribution_points(X509* certificate);
std::vector<std::string> freshest_crl_points(X509* certificate);
std::vector<std::string> ocsp_responders(X509* certificate);

// A CRL read from PEM or DER; nullptr when it is neither.
std::shared_ptr<X509_CRL> parse_crl(const std::string& bytes);
std::string crl_to_der(X509_CRL* crl);

// A cRLNumber (up to 20 octets, RFC 5280 5.2.3) in decimal, compared as the number it is.
struct CrlNumber {
  std::string decimal;
  friend bool operator==(const CrlNumber&, const CrlNumber&) = default;
  friend std::strong_ordering operator<=>(const CrlNumber& a, const CrlNumber& b) {
    if (auto by_length = a.decimal.size() <=> b.decimal.size(); by_length != 0) return by_length;
    return a.decimal <=> b.decimal;
  }
};

// What a CRL says of itself.
struct CrlFacts {
  std::string issuer;  // RFC 2253
  std::optional<Instant> this_update;
  std::optional<Instant> next_update;
  std::optional<CrlNumber> number;      // cRLNumber
  bool delta = false;                   // a delta CRL (RFC 5280, 5.2.4)...
  std::optional<CrlNumber> delta_base;  // ...and the number of its base
  std::vector<std::string> freshest;    // a base CRL: where its delta CRLs are
};
CrlFacts facts_of(X509_CRL* crl);

}  // namespace nqs::revocation
