#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "common/instant.hpp"
#include "common/result.hpp"
#include "notify/signer.hpp"
#include "xmldsig/signature.hpp"
#include "xmldsig/trust_store.hpp"

// The daily seal of the evidence archive (issue 18): what one local day's records were, signed
// with the adapter's key and archived as a record of the chain, so that removing or replacing a
// whole day (with every hash recomputed) needs the adapter's key as well.
namespace nqs::notify {

inline constexpr std::string_view kEvidenceNs = "urn:kz:enbek:nqs:evidence:1";

// What a seal states.
struct SealFacts {
  std::string day;           // YYYY-MM-DD, local
  std::int64_t records = 0;  // the day's records (seals not counted)
  std::int64_t first_seq = 0;
  std::int64_t last_seq = 0;
  std::string last_sha256;  // the record hash of the day's last record
  Instant sealed_at{};

  bool operator==(const SealFacts&) const = default;
};

// <EvidenceSeal Id="seal"> with the facts, signed enveloped with the adapter's key and chain as
// its notifications are (signing_options).
Result<std::string> make_seal(const SealFacts& facts, const Signer& signer);

// The facts of a seal whose signature verifies with the certificate it carries, that certificate
// the adapter's: chained to `anchors` at the instant it was sealed and naming `adapter_subject`
// (RFC 2253, as the adapter's signing certificate does; a renewed certificate keeps it), so that
// no other holder of a certificate under the same CA can seal; or what is wrong, in words.
std::variant<SealFacts, std::string> read_seal(std::string_view bytes,
                                               const xmldsig::TrustStore& anchors,
                                               const xmldsig::AlgorithmPolicy& policy,
                                               std::string_view adapter_subject);

}  // namespace nqs::notify
