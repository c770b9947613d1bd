// The evidence chain's checks on records in memory: each kind of tampering is found and named by
// the record where it shows.
#include "store/evidence.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "common/ids.hpp"

namespace nqs::store {
namespace {

using ::testing::HasSubstr;

// A chain of `count` records linked as the store links them.
std::vector<EvidenceRecord> chain(int count) {
  std::vector<EvidenceRecord> records;
  std::string previous(kEvidenceChainStart);
  for (int i = 1; i <= count; ++i) {
    EvidenceRecord record;
    record.seq = i;
    record.evidence_id = "received:m-" + std::to_string(i);
    record.day = "2025-09-01";
    record.direction = "received";
    record.outcome = "accepted";
    record.message_id = "m-" + std::to_string(i);
    record.caused = {"command:m-" + std::to_string(i)};
    record.body = "<signed>" + std::to_string(i) + "</signed>";
    record.body_sha256 = sha256_hex(record.body);
    record.prev_sha256 = previous;
    record.record_sha256 = evidence_record_hash(record);
    previous = record.record_sha256;
    records.push_back(std::move(record));
  }
  return records;
}

// "seq: what" for each problem, one line each.
std::string problems_of(const std::vector<EvidenceRecord>& records) {
  std::string out;
  for (const auto& problem : check_evidence_chain(records, 0, kEvidenceChainStart))
    out += std::to_string(problem.seq) + ": " + problem.what + "\n";
  return out;
}

TEST(EvidenceChain, AnUnbrokenChainHasNoProblem) {
  EXPECT_EQ(problems_of(chain(5)), "");
  // A run that starts later is checked against the record before it.
  const auto records = chain(5);
  EXPECT_TRUE(
      check_evidence_chain(std::span(records).subspan(2), 2, records[1].record_sha256).empty());
  EXPECT_FALSE(check_evidence_chain(std::span(records).subspan(2), 2, kEvidenceChainStart).empty());
}

TEST(EvidenceChain, EachFieldIsCovered) {
  // Any field changed changes the record's hash.
  const auto original = chain(1).front();
  // Each text field gets one more character (a literal assigned here trips GCC 12's -Wrestrict).
  using Field = std::string EvidenceRecord::*;
  std::vector<std::function<void(EvidenceRecord&)>> changes;
  for (Field field :
       {&EvidenceRecord::evidence_id, &EvidenceRecord::day, &EvidenceRecord::direction,
        &EvidenceRecord::outcome, &EvidenceRecord::reason, &EvidenceRecord::input_key,
        &EvidenceRecord::message_id, &EvidenceRecord::document_type,
        &EvidenceRecord::application_id, &EvidenceRecord::signer_json, &EvidenceRecord::chain_pem,
        &EvidenceRecord::revocation_json, &EvidenceRecord::body_sha256,
        &EvidenceRecord::prev_sha256}) {
    changes.emplace_back([field](EvidenceRecord& r) { (r.*field).push_back('x'); });
  }
  changes.emplace_back([](EvidenceRecord& r) { r.verified_at += std::chrono::milliseconds{1}; });
  changes.emplace_back([](EvidenceRecord& r) { r.caused.push_back(r.caused.front()); });
  // The same characters split otherwise: a key boundary counts.
  changes.emplace_back([](EvidenceRecord& r) {
    auto key = r.caused.front();
    r.caused = {key.substr(0, 3), key.substr(3)};
  });
  changes.emplace_back([](EvidenceRecord& r) { r.seq = 2; });
  for (std::size_t i = 0; i < changes.size(); ++i) {
    auto changed = original;
    changes[i](changed);
    EXPECT_NE(evidence_record_hash(changed), original.record_sha256) << "change " << i;
  }
}

TEST(EvidenceChain, ADocumentAlteredByOneByteIsNamed) {
  auto records = chain(3);
  records[1].body[3] ^= 1;
  EXPECT_EQ(problems_of(records),
            "2: its document is not the one archived (the bytes do not have the recorded hash)\n");
}

TEST(EvidenceChain, ARecordAlteredIsNamed) {
  auto records = chain(3);
  records[1].application_id = "someone else's";
  EXPECT_EQ(problems_of(records),
            "2: the record was altered after it was written (its hash does not match)\n");
  // Altered and its hash written again: the next record no longer follows it.
  records[1].record_sha256 = evidence_record_hash(records[1]);
  EXPECT_THAT(problems_of(records), HasSubstr("3: it does not follow the record before it"));
}

TEST(EvidenceChain, ARecordRemovedIsNamed) {
  auto records = chain(4);
  records.erase(records.begin() + 1);
  EXPECT_EQ(problems_of(records),
            "3: record 2 before it is missing\n"
            "3: it does not follow the record before it (a record was removed, inserted or "
            "moved)\n");
}

TEST(EvidenceChain, TwoRecordsReorderedAreNamed) {
  auto records = chain(4);
  std::swap(records[1].seq, records[2].seq);  // their places in the chain exchanged
  const auto problems = problems_of(records);
  EXPECT_THAT(problems, HasSubstr("3: the record was altered"));
  EXPECT_THAT(problems, HasSubstr("2: the record was altered"));
  std::swap(records[1], records[2]);  // read back in seq order
  EXPECT_THAT(problems_of(records), HasSubstr("does not follow the record before it"));
}

}  // namespace
}  // namespace nqs::store
