// The evidence archive (evidence.hpp), in the SQL both dialects understand.
#include <fmt/format.h>

#include <boost/json.hpp>

#include "common/ids.hpp"
#include "store/sql_store.hpp"

namespace nqs::store {
namespace {

constexpr std::string_view kEvidenceColumns =
    "seq, evidence_id, day, direction, outcome, reason, input_key, message_id, document_type, "
    "application_id, signer, chain, revocation, verified_ms, caused, body, body_sha256, "
    "prev_sha256, record_sha256";

// The keys of `caused` as the column keeps them (a JSON array of strings); what is not one is
// kept as a single key, so that the record's hash, not this reading, says it was altered.
std::vector<std::string> caused_of(const std::string& text) {
  boost::system::error_code error;
  const auto parsed = boost::json::parse(text, error);
  std::vector<std::string> keys;
  if (error || !parsed.is_array()) return {text};
  for (const auto& key : parsed.as_array()) {
    if (!key.is_string()) return {text};
    keys.emplace_back(key.as_string());
  }
  return keys;
}

std::vector<EvidenceRecord> evidence_rows(const SqlRows& rows) {
  std::vector<EvidenceRecord> out;
  out.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EvidenceRecord record;
    record.seq = rows.integer(i, 0);
    record.evidence_id = rows.text(i, 1);
    record.day = rows.text(i, 2);
    record.direction = rows.text(i, 3);
    record.outcome = rows.text(i, 4);
    record.reason = rows.text(i, 5);
    record.input_key = rows.text(i, 6);
    record.message_id = rows.text(i, 7);
    record.document_type = rows.text(i, 8);
    record.application_id = rows.text(i, 9);
    record.signer_json = rows.text(i, 10);
    record.chain_pem = rows.text(i, 11);
    record.revocation_json = rows.text(i, 12);
    record.verified_at = Instant{std::chrono::milliseconds{rows.integer(i, 13)}};
    record.caused = caused_of(rows.text(i, 14));
    record.body = rows.text(i, 15);
    record.body_sha256 = rows.text(i, 16);
    record.prev_sha256 = rows.text(i, 17);
    record.record_sha256 = rows.text(i, 18);
    out.push_back(std::move(record));
  }
  return out;
}

}  // namespace

Result<void> SqlStore::append_evidence(std::span<EvidenceRecord*> records) {
  // Several instances: the head row is locked until this transaction ends, so that their records
  // join the one chain one transaction after the other.
  BOOST_OUTCOME_TRY(
      auto head,
      driver_->run(driver_->shared() ? "SELECT seq, record_sha256 FROM evidence_head FOR UPDATE"
                                     : "SELECT seq, record_sha256 FROM evidence_head",
                   {}, "reading the evidence chain's head"));
  if (head.empty()) return make_error("the evidence chain has no head row (migration 10)");
  std::int64_t seq = head.integer(0, 0);
  std::string previous = head.text(0, 1);
  for (auto* record : records) {
    record->seq = ++seq;
    record->prev_sha256 = previous;
    if (record->body_sha256.empty()) record->body_sha256 = sha256_hex(record->body);
    // As kept (and hashed): what is unknown is an empty JSON object.
    if (record->signer_json.empty()) record->signer_json = "{}";
    if (record->revocation_json.empty()) record->revocation_json = "{}";
    record->record_sha256 = evidence_record_hash(*record);
    BOOST_OUTCOME_TRY(driver_->run(
        fmt::format("INSERT INTO evidence ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, "
                    "$11, $12, $13, $14, $15, $16, $17, $18, $19)",
                    kEvidenceColumns),
        SqlParams()
            .integer(record->seq)
            .text(record->evidence_id)
            .text(record->day)
            .text(record->direction)
            .text(record->outcome)
            .text(record->reason)
            .text(record->input_key)
            .text(record->message_id)
            .text(record->document_type)
            .text(record->application_id)
            .text(record->signer_json)
            .text(record->chain_pem)
            .text(record->revocation_json)
            .instant(record->verified_at)
            .text(boost::json::serialize(boost::json::value_from(record->caused)))
            .bytes(std::move(record->body))  // read no more: the records end here
            .text(record->body_sha256)
            .text(record->prev_sha256)
            .text(record->record_sha256),
        "archiving a signed message"));
    previous = record->record_sha256;
  }
  BOOST_OUTCOME_TRY(
      driver_->run("UPDATE evidence_head SET seq = $1, record_sha256 = $2 WHERE one = 1",
                   SqlParams().integer(seq).text(previous), "moving the evidence chain's head"));
  return outcome::success();
}

Result<EvidenceArchive::EvidenceHead> SqlStore::evidence_head() {
  BOOST_OUTCOME_TRY(auto rows, driver_->run("SELECT seq, record_sha256 FROM evidence_head", {},
                                            "reading the evidence chain's head"));
  if (rows.empty()) return make_error("the evidence chain has no head row (migration 10)");
  return EvidenceHead{rows.integer(0, 0), rows.text(0, 1)};
}

Result<std::vector<EvidenceRecord>> SqlStore::evidence_after(std::int64_t after_seq,
                                                             std::size_t limit) {
  BOOST_OUTCOME_TRY(
      auto rows,
      driver_->run(fmt::format("SELECT {} FROM evidence WHERE seq > $1 ORDER BY seq LIMIT $2",
                               kEvidenceColumns),
                   SqlParams().integer(after_seq).integer(static_cast<std::int64_t>(limit)),
                   "reading the evidence archive"));
  return evidence_rows(rows);
}

Result<std::vector<EvidenceRecord>> SqlStore::find_evidence(const std::string& id) {
  if (id.empty()) return std::vector<EvidenceRecord>{};
  BOOST_OUTCOME_TRY(
      auto rows,
      driver_->run(fmt::format("SELECT {} FROM evidence WHERE evidence_id = $1 OR message_id = $1 "
                               "OR application_id = $1 ORDER BY seq",
                               kEvidenceColumns),
                   SqlParams().text(id), "reading the evidence archive"));
  return evidence_rows(rows);
}

Result<std::vector<EvidenceRecord>> SqlStore::evidence_of_day(const std::string& day,
                                                              std::int64_t after_seq,
                                                              std::size_t limit) {
  BOOST_OUTCOME_TRY(auto rows,
                    driver_->run(fmt::format("SELECT {} FROM evidence WHERE day = $1 AND seq > $2 "
                                             "ORDER BY seq LIMIT $3",
                                             kEvidenceColumns),
                                 SqlParams().text(day).integer(after_seq).integer(
                                     static_cast<std::int64_t>(limit)),
                                 "reading a day's evidence"));
  return evidence_rows(rows);
}

Result<std::optional<std::string>> SqlStore::next_unsealed_day(const std::string& before_day) {
  // The last day sealed, by the seals' own index (migration 11); then the first day after it.
  BOOST_OUTCOME_TRY(auto sealed,
                    driver_->run("SELECT max(day) FROM evidence WHERE direction = 'seal'", {},
                                 "reading the evidence seals"));
  const std::string after = sealed.is_null(0, 0) ? std::string() : sealed.text(0, 0);
  BOOST_OUTCOME_TRY(auto next, driver_->run("SELECT min(day) FROM evidence WHERE day > $1 AND "
                                            "day < $2",
                                            SqlParams().text(after).text(before_day),
                                            "reading the evidence archive's days"));
  if (next.is_null(0, 0)) return std::optional<std::string>{};
  return std::optional<std::string>{next.text(0, 0)};
}

Result<EvidenceArchive::EvidenceDay> SqlStore::evidence_day(const std::string& day) {
  BOOST_OUTCOME_TRY(auto rows, driver_->run("SELECT count(*), min(seq), max(seq) FROM evidence "
                                            "WHERE day = $1 AND direction <> 'seal'",
                                            SqlParams().text(day), "reading a day's evidence"));
  EvidenceDay facts;
  facts.records = rows.integer(0, 0);
  if (facts.records == 0) return facts;
  facts.first_seq = rows.integer(0, 1);
  facts.last_seq = rows.integer(0, 2);
  BOOST_OUTCOME_TRY(auto last,
                    driver_->run("SELECT record_sha256 FROM evidence WHERE seq = $1",
                                 SqlParams().integer(facts.last_seq), "reading a day's evidence"));
  if (!last.empty()) facts.last_sha256 = last.text(0, 0);
  return facts;
}

}  // namespace nqs::store
