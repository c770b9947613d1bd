#include "store/evidence.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "common/ids.hpp"

namespace nqs::store {

std::string received_evidence_id(std::string_view message_id) {
  return fmt::format("received:{}", message_id);
}

std::string sent_evidence_id(std::string_view message_key) {
  return fmt::format("sent:{}", message_key);
}

std::string evidence_record_hash(const EvidenceRecord& record) {
  // The version tag first: a later layout hashes under a tag of its own, and old records keep
  // verifying under theirs.
  const boost::json::array fields{"nqs-evidence/1",
                                  record.seq,
                                  record.evidence_id,
                                  record.day,
                                  record.direction,
                                  record.outcome,
                                  record.reason,
                                  record.input_key,
                                  record.message_id,
                                  record.document_type,
                                  record.application_id,
                                  record.signer_json,
                                  sha256_hex(record.chain_pem),
                                  record.revocation_json,
                                  record.verified_at.time_since_epoch().count(),
                                  boost::json::value_from(record.caused),
                                  record.body_sha256,
                                  record.prev_sha256};
  return sha256_hex(boost::json::serialize(fields));
}

std::vector<EvidenceProblem> check_evidence_chain(std::span<const EvidenceRecord> records,
                                                  std::int64_t previous_seq,
                                                  std::string_view previous_hash) {
  std::vector<EvidenceProblem> problems;
  std::int64_t expected = previous_seq + 1;
  std::string previous(previous_hash);
  for (const auto& record : records) {
    auto problem = [&](std::string what) {
      problems.push_back({record.seq, record.evidence_id, std::move(what)});
    };
    if (record.seq > expected) {
      problem(expected + 1 == record.seq ? fmt::format("record {} before it is missing", expected)
                                         : fmt::format("records {} to {} before it are missing",
                                                       expected, record.seq - 1));
    } else if (record.seq < expected) {
      problem(fmt::format("it is out of place after record {}", expected - 1));
    }
    if (sha256_hex(record.body) != record.body_sha256) {
      problem("its document is not the one archived (the bytes do not have the recorded hash)");
    }
    if (evidence_record_hash(record) != record.record_sha256) {
      problem("the record was altered after it was written (its hash does not match)");
    }
    if (record.prev_sha256 != previous) {
      problem("it does not follow the record before it (a record was removed, inserted or moved)");
    }
    previous = record.record_sha256;
    expected = record.seq + 1;
  }
  return problems;
}

}  // namespace nqs::store
