#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/instant.hpp"

namespace nqs::store {

// The evidence archive (issue 18): a signed message kept exactly as received or sent, with what
// it was judged on, written in the transaction of the input it belongs to. The records of a store
// form one hash chain in `seq` order: each holds the hash of the record before it, and its own
// hash covers every field (the body by its hash), so that altering, removing, inserting or
// reordering records is found by checking the chain alone.
struct EvidenceRecord {
  std::int64_t seq = 0;     // assigned by the store: the record's place in the chain
  std::string evidence_id;  // the caller's, unique: e.g. "received:<message id>"
  std::string day;          // YYYY-MM-DD, the local day the record belongs to (seals, export)
  std::string direction;    // received | sent
  std::string outcome;      // accepted | rejected | sent
  std::string reason;       // a rejection's reason code; empty otherwise
  std::string input_key;    // the inbox entry it belongs to
  std::string message_id;
  std::string document_type;
  std::string application_id;
  std::string signer_json;          // {"iin"|"bin", "subject", "serial", "issuer"}; {} when unknown
  std::string chain_pem;            // the certificates as presented, leaf first, PEM
  std::string revocation_json;      // the revocation facts it was judged on; {} when none
  Instant verified_at{};            // the instant it was judged (or signed, for what was sent)
  std::vector<std::string> caused;  // the keys of the messages it caused
  std::string body;                 // the exact bytes
  std::string body_sha256;          // assigned by the store when empty
  std::string prev_sha256;          // assigned by the store
  std::string record_sha256;        // assigned by the store
};

// The evidence id of a signed message received (its messageId) and of one sent (its outbox key).
std::string received_evidence_id(std::string_view message_id);
std::string sent_evidence_id(std::string_view message_key);

// The hash before the first record.
inline constexpr std::string_view kEvidenceChainStart =
    "0000000000000000000000000000000000000000000000000000000000000000";

// SHA-256 (hex) of the record's fields in a fixed order, written as one JSON array, with the body
// by its hash: what the chain links and `evidence verify` recomputes.
std::string evidence_record_hash(const EvidenceRecord& record);

// One thing wrong with a run of records, named by the record where it was found.
struct EvidenceProblem {
  std::int64_t seq = 0;
  std::string evidence_id;
  std::string what;
};

// Checks records read in `seq` order that follow the record `previous_seq` with hash
// `previous_hash` (0 and kEvidenceChainStart for the first): each body against its hash, each
// record against its own hash, each link to the one before, and that no seq is missing or out of
// place.
std::vector<EvidenceProblem> check_evidence_chain(std::span<const EvidenceRecord> records,
                                                  std::int64_t previous_seq,
                                                  std::string_view previous_hash);

}  // namespace nqs::store
