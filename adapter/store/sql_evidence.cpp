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

Result<void> SqlStore::record_evidence_export(const EvidenceExport& exported) {
  BOOST_OUTCOME_TRY(driver_->run(
      "INSERT INTO evidence_exports (day, records, last_seq, last_sha256, file_sha256, "
      "exported_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (day) DO UPDATE SET records = "
      "excluded.records, last_seq = excluded.last_seq, last_sha256 = excluded.last_sha256, "
      "file_sha256 = excluded.file_sha256, exported_ms = excluded.exported_ms",
      SqlParams()
          .text(exported.day)
          .integer(exported.records)
          .integer(exported.last_seq)
          .text(exported.last_sha256)
          .text(exported.file_sha256)
          .instant(exported.exported_at),
      "recording an evidence export"));
  return outcome::success();
}

Result<std::optional<EvidenceArchive::EvidenceExport>> SqlStore::find_evidence_export(
    const std::string& day) {
  BOOST_OUTCOME_TRY(auto rows, driver_->run("SELECT day, records, last_seq, last_sha256, "
                                            "file_sha256, exported_ms FROM evidence_exports "
                                            "WHERE day = $1",
                                            SqlParams().text(day), "reading the evidence exports"));
  if (rows.empty()) return std::optional<EvidenceExport>{};
  return std::optional<EvidenceExport>{
      EvidenceExport{rows.text(0, 0), rows.integer(0, 1), rows.integer(0, 2), rows.text(0, 3),
                     rows.text(0, 4), Instant{std::chrono::milliseconds{rows.integer(0, 5)}}}};
}

Result<EvidenceArchive::EvidenceHead> SqlStore::evidence_purged() {
  BOOST_OUTCOME_TRY(auto rows, driver_->run("SELECT seq, record_sha256 FROM evidence_purged", {},
                                            "reading where the evidence chain starts"));
  if (rows.empty()) return make_error("the evidence chain has no start row (migration 12)");
  return EvidenceHead{rows.integer(0, 0), rows.text(0, 1)};
}

Result<EvidenceArchive::EvidencePurge> SqlStore::plan_evidence_purge(
    const std::string& before_day) {
  BOOST_OUTCOME_TRY(const auto start, evidence_purged());
  EvidencePurge plan;
  plan.first_seq = start.seq + 1;
  // Up to the record before the first one of `before_day` or later; all of them when none is.
  BOOST_OUTCOME_TRY(auto later,
                    driver_->run("SELECT min(seq) FROM evidence WHERE day >= $1",
                                 SqlParams().text(before_day), "planning an evidence purge"));
  std::int64_t last = 0;
  if (!later.is_null(0, 0)) {
    last = later.integer(0, 0) - 1;
  } else {
    BOOST_OUTCOME_TRY(auto head, evidence_head());
    last = head.seq;
  }
  if (last < plan.first_seq) return plan;
  BOOST_OUTCOME_TRY(auto days, driver_->run("SELECT DISTINCT day FROM evidence WHERE seq >= $1 "
                                            "AND seq <= $2 ORDER BY day",
                                            SqlParams().integer(plan.first_seq).integer(last),
                                            "planning an evidence purge"));
  for (std::size_t i = 0; i < days.size(); ++i)
    plan.days.push_back(days.text(i, 0));
  BOOST_OUTCOME_TRY(auto hash,
                    driver_->run("SELECT record_sha256 FROM evidence WHERE seq = $1",
                                 SqlParams().integer(last), "planning an evidence purge"));
  if (hash.empty()) {
    return make_error(fmt::format(
        "record {} is missing, so the chain cannot start after it: run evidence verify", last));
  }
  plan.last_seq = last;
  plan.last_sha256 = hash.text(0, 0);
  return plan;
}

Result<std::int64_t> SqlStore::purge_evidence(const EvidencePurge& plan, const AuditRow& audit) {
  BOOST_OUTCOME_TRY(driver_->begin());
  auto purged = [&]() -> Result<std::int64_t> {
    BOOST_OUTCOME_TRY(const auto start, evidence_purged());
    if (start.seq + 1 != plan.first_seq) {
      return make_error("another purge of the evidence archive ran meanwhile: plan it again");
    }
    // Audited first, in the same transaction: a purge not on record does not happen.
    BOOST_OUTCOME_TRY(record_audit(audit));
    BOOST_OUTCOME_TRY(auto counted,
                      driver_->run("SELECT count(*) FROM evidence WHERE seq >= $1 AND seq <= $2",
                                   SqlParams().integer(plan.first_seq).integer(plan.last_seq),
                                   "purging the evidence archive"));
    BOOST_OUTCOME_TRY(driver_->run("DELETE FROM evidence WHERE seq >= $1 AND seq <= $2",
                                   SqlParams().integer(plan.first_seq).integer(plan.last_seq),
                                   "purging the evidence archive"));
    BOOST_OUTCOME_TRY(driver_->run(
        "UPDATE evidence_purged SET seq = $1, record_sha256 = $2 WHERE one = 1",
        SqlParams().integer(plan.last_seq).text(plan.last_sha256), "moving the chain's start"));
    return counted.integer(0, 0);
  }();
  if (!purged) {
    driver_->rollback();
    return purged.error();
  }
  if (auto committed = driver_->commit(); !committed) {
    driver_->rollback();
    return committed.error();
  }
  return purged;
}

}  // namespace nqs::store
