// The input log (inbox and outbox), migrations and the operators' queries, in the SQL both
// dialects understand.
#include <fmt/format.h>
#include <fmt/ranges.h>

#include <charconv>

#include "common/clock.hpp"
#include "store/sql_store.hpp"

namespace nqs::store {
namespace {

// Outbox rows with their bodies, kept in a table of their own (migration 14); a WHERE follows.
constexpr std::string_view kSelectOutbox =
    "SELECT o.id, o.message_key, o.input_key, o.exchange_name, o.routing_key, o.properties, "
    "b.body, o.created_at FROM outbox o JOIN outbox_bodies b ON b.id = o.id";

std::vector<OutboxMessage> outbox_rows(const SqlRows& rows) {
  std::vector<OutboxMessage> out;
  out.reserve(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    OutboxMessage row;
    row.id = rows.integer(i, 0);
    row.key = rows.text(i, 1);
    row.input_key = rows.text(i, 2);
    row.exchange = rows.text(i, 3);
    row.routing_key = rows.text(i, 4);
    row.properties_json = rows.text(i, 5);
    row.body = rows.text(i, 6);
    row.created_at = rows.utc(i, 7);
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace

std::int64_t SqlRows::integer(std::size_t row, std::size_t column) const {
  const auto& cell = rows_.at(row).at(column);
  if (!cell || cell->empty()) return 0;
  // What is not a whole integer (a cell altered outside the adapter: SQLite keeps text in an
  // INTEGER column) reads as 0, never an exception: a record read so no longer has its hash.
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(cell->data(), cell->data() + cell->size(), value);
  return error == std::errc{} && end == cell->data() + cell->size() ? value : 0;
}

std::optional<Instant> SqlRows::millis(std::size_t row, std::size_t column) const {
  if (is_null(row, column)) return std::nullopt;
  return Instant{std::chrono::milliseconds{integer(row, column)}};
}

Instant SqlRows::utc(std::size_t row, std::size_t column) const {
  return parse_instant(text(row, column)).value_or(Instant{});
}

Result<void> SqlStore::migrate() {
  BOOST_OUTCOME_TRY(driver_->start_migrations());
  auto migrated = [&]() -> Result<void> {
    BOOST_OUTCOME_TRY(
        driver_->run("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER "
                     "PRIMARY KEY, applied_at TEXT NOT NULL)",
                     {}, "creating schema_migrations"));
    BOOST_OUTCOME_TRY(const int current, schema_version());
    return migrate_from(current);
  }();
  auto ended = driver_->end_migrations();
  if (!migrated) return migrated;
  return ended;
}

Result<void> SqlStore::migrate_from(int current) {
  const auto migrations = driver_->migrations();
  if (current > static_cast<int>(migrations.size())) {
    return make_error(
        fmt::format("the store is at schema version {}, newer than this build "
                    "knows ({}): refusing to touch it",
                    current, migrations.size()));
  }
  for (auto version = static_cast<std::size_t>(current) + 1; version <= migrations.size();
       ++version) {
    BOOST_OUTCOME_TRY(driver_->begin());
    auto applied = driver_->run_script(migrations[version - 1], "running a migration");
    if (applied) {
      auto recorded =
          driver_->run("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                       SqlParams()
                           .integer(static_cast<std::int64_t>(version))
                           .text(to_utc_string(SystemClock().now())),
                       "recording the migration");
      if (!recorded) applied = recorded.error();
    }
    if (!applied) {
      driver_->rollback();
      return make_error(fmt::format("migration {} failed: {}", version, applied.error().message));
    }
    // SQLite leaves a transaction whose COMMIT failed open: end it.
    if (auto committed = driver_->commit(); !committed) {
      driver_->rollback();
      return committed.error();
    }
  }
  return outcome::success();
}

std::string_view outcome_name(InputOutcome outcome) {
  return outcome == InputOutcome::processed ? "processed" : "rejected";
}

std::optional<InputOutcome> outcome_named(std::string_view name) {
  if (name == "processed") return InputOutcome::processed;
  if (name == "rejected") return InputOutcome::rejected;
  return std::nullopt;
}

Result<std::optional<InboxEntry>> SqlStore::find_input(const std::string& key) {
  BOOST_OUTCOME_TRY(auto rows, driver_->run("SELECT input_key, source, outcome, reason, detail, "
                                            "document_type, body_sha256, received_at FROM inbox "
                                            "WHERE input_key = $1",
                                            SqlParams().text(key), "reading the inbox"));
  if (rows.empty()) return std::optional<InboxEntry>{};
  const auto outcome = outcome_named(rows.text(0, 2));
  if (!outcome)
    return make_error(fmt::format("the inbox holds an unknown outcome '{}'", rows.text(0, 2)));
  return std::optional<InboxEntry>{InboxEntry{rows.text(0, 0), rows.text(0, 1), *outcome,
                                              rows.text(0, 3), rows.text(0, 4), rows.text(0, 5),
                                              rows.text(0, 6), rows.utc(0, 7)}};
}

Result<Recorded> SqlStore::record_input(const InboxEntry& entry,
                                        std::vector<OutboxMessage> outbox) {
  std::vector<Input> inputs;
  inputs.push_back(Input{entry, std::move(outbox), {}, {}});
  BOOST_OUTCOME_TRY(auto recorded, record_inputs(std::move(inputs)));
  return std::move(recorded.front());
}

Result<std::vector<Recorded>> SqlStore::record_inputs(std::vector<Input> inputs) {
  BOOST_OUTCOME_TRY(driver_->begin());
  std::vector<Recorded> results;
  std::vector<EvidenceRecord*> evidence;
  for (auto& input : inputs) {
    auto result = record_in_transaction(input.entry, std::move(input.outbox));
    if (result && !result.value().duplicate) {
      if (auto applied = apply(input.changes); !applied) result = applied.error();
      for (auto& record : input.evidence)
        evidence.push_back(&record);
    }
    if (!result) {
      driver_->rollback();
      return result.error();
    }
    results.push_back(std::move(result).value());
  }
  if (!evidence.empty()) {
    if (auto archived = append_evidence(evidence); !archived) {
      driver_->rollback();
      return archived.error();
    }
  }
  if (auto committed = driver_->commit(); !committed) {
    driver_->rollback();
    return committed.error();
  }
  return results;
}

Result<Recorded> SqlStore::record_in_transaction(const InboxEntry& entry,
                                                 std::vector<OutboxMessage> outbox) {
  Recorded recorded;
  BOOST_OUTCOME_TRY(auto inserted,
                    driver_->run("INSERT INTO inbox (input_key, source, outcome, reason, detail, "
                                 "document_type, body_sha256, received_at) VALUES ($1, $2, $3, "
                                 "$4, $5, $6, $7, $8) ON CONFLICT (input_key) DO NOTHING",
                                 SqlParams()
                                     .text(entry.key)
                                     .text(entry.source)
                                     .text(std::string(outcome_name(entry.outcome)))
                                     .text(entry.reason)
                                     .text(entry.detail)
                                     .text(entry.document_type)
                                     .text(entry.body_sha256)
                                     .text(to_utc_string(entry.received_at)),
                                 "writing the inbox"));
  if (inserted.changed() == 0) {
    recorded.duplicate = true;
    return recorded;
  }
  for (auto& row : outbox) {
    BOOST_OUTCOME_TRY(
        auto added,
        driver_->run(
            "INSERT INTO outbox (message_key, input_key, exchange_name, routing_key, "
            "properties, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            SqlParams()
                .text(row.key)
                .text(entry.key)
                .text(row.exchange)
                .text(row.routing_key)
                .text(row.properties_json.empty() ? std::string("{}") : row.properties_json)
                .text(to_utc_string(row.created_at)),
            "writing the outbox"));
    row.id = added.integer(0, 0);
    BOOST_OUTCOME_TRY(driver_->run("INSERT INTO outbox_bodies (id, body) VALUES ($1, $2)",
                                   SqlParams().integer(row.id).bytes(row.body),
                                   "writing the outbox"));
    row.input_key = entry.key;
    recorded.outbox.push_back(std::move(row));
  }
  return recorded;
}

Result<std::vector<OutboxMessage>> SqlStore::pending_outbox(std::size_t limit) {
  BOOST_OUTCOME_TRY(
      auto rows,
      driver_->run(fmt::format("{} WHERE o.sent_at IS NULL ORDER BY o.id LIMIT $1", kSelectOutbox),
                   SqlParams().integer(static_cast<std::int64_t>(limit)), "reading the outbox"));
  return outbox_rows(rows);
}

Result<std::vector<OutboxMessage>> SqlStore::pending_outbox_of(const std::string& input_key) {
  BOOST_OUTCOME_TRY(auto rows,
                    driver_->run(fmt::format("{} WHERE o.sent_at IS NULL AND o.input_key "
                                             "= $1 ORDER BY o.id",
                                             kSelectOutbox),
                                 SqlParams().text(input_key), "reading the outbox"));
  return outbox_rows(rows);
}

Result<void> SqlStore::mark_sent(const std::vector<std::int64_t>& ids, Instant at) {
  // In groups of a fixed size (one statement text, prepared once), the rest of the last group
  // padded with an id no row has.
  constexpr std::size_t kGroup = 16;
  static const std::string statement = [] {
    std::vector<std::string> places;
    for (std::size_t i = 0; i < kGroup; ++i)
      places.push_back(fmt::format("${}", i + 2));
    return fmt::format("UPDATE outbox SET sent_at = $1 WHERE id IN ({}) AND sent_at IS NULL",
                       fmt::join(places, ", "));
  }();
  if (ids.empty()) return outcome::success();
  const auto when = to_utc_string(at);
  // Without waiting for the disk (issue 17): on the event loop, a flush here held every input
  // behind it once more each time the broker confirmed. A mark lost with the machine means the
  // row is published again with its message id, which consumers deduplicate; none is lost.
  BOOST_OUTCOME_TRY(driver_->begin_unflushed());
  for (std::size_t start = 0; start < ids.size(); start += kGroup) {
    SqlParams params;
    params.text(when);
    for (std::size_t i = start; i < start + kGroup; ++i)
      params.integer(i < ids.size() ? ids[i] : -1);
    auto marked = driver_->run(statement, params, "marking outbox rows sent");
    if (!marked) {
      driver_->rollback();
      return marked.error();
    }
  }
  if (auto committed = driver_->commit(); !committed) {
    driver_->rollback();
    return committed.error();
  }
  return outcome::success();
}

Result<void> SqlStore::park_outbox(std::int64_t id, const std::string& reason, Instant at) {
  BOOST_OUTCOME_TRY(driver_->run(
      "UPDATE outbox SET sent_at = $1, parked_reason = $2 WHERE id = $3 AND sent_at IS NULL",
      SqlParams().text(to_utc_string(at)).text(reason).integer(id), "setting an outbox row aside"));
  return outcome::success();
}

Result<void> SqlStore::record_audit(const AuditRow& row) {
  BOOST_OUTCOME_TRY(
      driver_->run("INSERT INTO audit (at, actor, action, dead_letter, queue, "
                   "message_id, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, "
                   "$7, $8)",
                   SqlParams()
                       .text(to_utc_string(row.at))
                       .text(row.actor)
                       .text(row.action)
                       .text(row.dead_letter)
                       .text(row.queue)
                       .text(row.message_id)
                       .text(row.outcome)
                       .text(row.detail),
                   "writing the audit"));
  return outcome::success();
}

Result<std::vector<AuditRow>> SqlStore::audit_log(std::size_t limit) {
  BOOST_OUTCOME_TRY(
      auto rows,
      driver_->run("SELECT id, at, actor, action, dead_letter, queue, message_id, "
                   "outcome, detail FROM audit ORDER BY id DESC LIMIT $1",
                   SqlParams().integer(static_cast<std::int64_t>(limit)), "reading the audit"));
  std::vector<AuditRow> out;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    out.push_back(AuditRow{rows.integer(i, 0), rows.utc(i, 1), rows.text(i, 2), rows.text(i, 3),
                           rows.text(i, 4), rows.text(i, 5), rows.text(i, 6), rows.text(i, 7),
                           rows.text(i, 8)});
  }
  return out;
}

Result<Store::OutboxStats> SqlStore::outbox_stats() {
  BOOST_OUTCOME_TRY(auto rows, driver_->run("SELECT count(*), min(created_at), (SELECT count(*) "
                                            "FROM outbox WHERE parked_reason IS NOT NULL) FROM "
                                            "outbox WHERE sent_at IS NULL",
                                            {}, "reading the outbox"));
  OutboxStats stats;
  stats.pending = rows.integer(0, 0);
  if (!rows.is_null(0, 1)) stats.oldest = parse_instant(rows.text(0, 1));
  stats.parked = rows.integer(0, 2);
  return stats;
}

Result<Store::TimerStats> SqlStore::timer_stats(Instant now) {
  BOOST_OUTCOME_TRY(auto rows, driver_->run("SELECT count(*), coalesce(sum(CASE WHEN due_ms <= $1 "
                                            "THEN 1 ELSE 0 END), 0) FROM timers",
                                            SqlParams().instant(now), "reading the timers"));
  return TimerStats{rows.integer(0, 0), rows.integer(0, 1)};
}

Result<std::int64_t> SqlStore::count_inbox(const std::string& outcome_name) {
  BOOST_OUTCOME_TRY(auto rows, driver_->run("SELECT count(*) FROM inbox WHERE outcome = $1",
                                            SqlParams().text(outcome_name), "counting the inbox"));
  return rows.integer(0, 0);
}

Result<std::int64_t> SqlStore::count_pending_outbox() {
  BOOST_OUTCOME_TRY(auto rows, driver_->run("SELECT count(*) FROM outbox WHERE sent_at IS NULL", {},
                                            "counting the outbox"));
  return rows.integer(0, 0);
}

Result<int> SqlStore::schema_version() {
  BOOST_OUTCOME_TRY(auto rows,
                    driver_->run("SELECT coalesce(max(version), 0) FROM schema_migrations", {},
                                 "reading the schema version"));
  return static_cast<int>(rows.integer(0, 0));
}

}  // namespace nqs::store
