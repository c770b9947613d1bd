#include <fmt/format.h>
#include <sqlite3.h>

#include <array>
#include <filesystem>
#include <limits>

#include "store/store.hpp"

namespace nqs::store {
namespace {

// Versioned migrations, applied in order, each in its own transaction with its version row.
// Standard SQL apart from SQLite's INTEGER PRIMARY KEY (a PostgreSQL store maps it to an
// identity column).
constexpr std::array<std::string_view, 7> kMigrations{{
    R"sql(
CREATE TABLE inbox (
  input_key      TEXT PRIMARY KEY,
  source         TEXT NOT NULL,
  outcome        TEXT NOT NULL CHECK (outcome IN ('processed', 'rejected')),
  reason         TEXT,
  detail         TEXT,
  document_type  TEXT,
  body_sha256    TEXT NOT NULL,
  received_at    TEXT NOT NULL
);
CREATE TABLE outbox (
  id             INTEGER PRIMARY KEY,
  message_key    TEXT NOT NULL UNIQUE,
  input_key      TEXT NOT NULL REFERENCES inbox (input_key),
  exchange_name  TEXT NOT NULL,
  routing_key    TEXT NOT NULL,
  properties     TEXT NOT NULL,
  body           BLOB NOT NULL,
  created_at     TEXT NOT NULL,
  sent_at        TEXT
);
CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL;
)sql",
    // 2: the domain's state (issue 5): applications, quota, the unemployment register.
    R"sql(
CREATE TABLE applications (
  application_id TEXT PRIMARY KEY,
  iin            TEXT NOT NULL,
  quota_year     INTEGER NOT NULL,
  region         TEXT NOT NULL,
  stage          TEXT NOT NULL,
  voucher_id     TEXT NOT NULL,
  act_number     TEXT NOT NULL,
  state          TEXT NOT NULL
);
CREATE INDEX applications_by_person ON applications (iin, quota_year);
CREATE UNIQUE INDEX applications_by_voucher ON applications (voucher_id) WHERE voucher_id <> '';
CREATE UNIQUE INDEX applications_by_act ON applications (act_number) WHERE act_number <> '';
CREATE TABLE quota (
  region    TEXT NOT NULL,
  year      INTEGER NOT NULL,
  allocated INTEGER NOT NULL CHECK (allocated >= 0),
  reserved  INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (region, year),
  CONSTRAINT quota_within_allocation CHECK (reserved >= 0 AND reserved <= allocated)
);
CREATE TABLE unemployment (
  iin         TEXT PRIMARY KEY,
  registered  INTEGER NOT NULL,
  region      TEXT NOT NULL,
  since       TEXT NOT NULL,
  occurred_at TEXT NOT NULL
);
)sql",
    // 3: durable timers (issue 6): one per kind and subject, found by their due time.
    R"sql(
CREATE TABLE timers (
  kind     TEXT NOT NULL,
  subject  TEXT NOT NULL,
  due_ms   INTEGER NOT NULL,
  payload  TEXT NOT NULL,
  PRIMARY KEY (kind, subject)
);
CREATE INDEX timers_by_due ON timers (due_ms);
ALTER TABLE timers ADD COLUMN claimed_until_ms INTEGER;
ALTER TABLE applications ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
-- Statutory deadlines (issue 6): one row per application and step, open until closed.
CREATE TABLE deadlines (
  application_id TEXT NOT NULL,
  step           TEXT NOT NULL,
  responsible    TEXT NOT NULL,
  basis          TEXT NOT NULL,
  started_ms     INTEGER NOT NULL,
  due_ms         INTEGER NOT NULL,
  warned_ms      INTEGER,
  breached_ms    INTEGER,
  closed_ms      INTEGER,
  PRIMARY KEY (application_id, step)
);
CREATE INDEX deadlines_open ON deadlines (due_ms) WHERE closed_ms IS NULL;
-- Art. 3: one application a person and year that is not refused (in progress or with a voucher),
-- whatever instance decides it; a person may have any number of refused ones.
CREATE UNIQUE INDEX applications_live ON applications (iin, quota_year)
  WHERE stage NOT IN ('refused_automatic', 'refused_career_center', 'refused_recognition_center');
)sql",
    // 4: the audit of replays and purges of dead letters (issue 7).
    R"sql(
CREATE TABLE audit (
  id          INTEGER PRIMARY KEY,
  at          TEXT NOT NULL,
  actor       TEXT NOT NULL,
  action      TEXT NOT NULL,
  dead_letter TEXT NOT NULL,
  queue       TEXT NOT NULL,
  message_id  TEXT NOT NULL,
  outcome     TEXT NOT NULL,
  detail      TEXT NOT NULL
);
)sql",
    // 5: outbox rows that can never be published, kept aside (issue 12): sent_at is when.
    R"sql(
ALTER TABLE outbox ADD COLUMN parked_reason TEXT;
CREATE INDEX outbox_parked ON outbox (id) WHERE parked_reason IS NOT NULL;
)sql",
    // 6: art. 3 as the audit reads it (issue 13): another application in progress is no ground;
    // one voucher a person and calendar year of issue is the invariant, whoever decides.
    R"sql(
DROP INDEX applications_live;
ALTER TABLE applications ADD COLUMN voucher_year INTEGER;
UPDATE applications SET voucher_year = CAST(substr(json_extract(state, '$.issuedOn'), 1, 4) AS INTEGER)
  WHERE voucher_id <> '' AND json_extract(state, '$.issuedOn') IS NOT NULL;
CREATE UNIQUE INDEX applications_voucher_year ON applications (iin, voucher_year)
  WHERE voucher_year IS NOT NULL;
)sql",
    // 7: the quota is the oblast's (issue 13, audit point 3): rows kept by a district or city
    // KATO are merged into their oblast's, allocations and reservations added up; and a period
    // total without a breakdown is shared by its years (audit point 4); one act may cover several
    // persons (audit point 12).
    R"sql(
CREATE TEMP TABLE quota_by_oblast AS
  SELECT substr(region, 1, 2) || '0000000' AS region, year, sum(allocated) AS allocated,
         sum(reserved) AS reserved
  FROM quota GROUP BY substr(region, 1, 2), year;
DELETE FROM quota;
INSERT INTO quota (region, year, allocated, reserved)
  SELECT region, year, allocated, reserved FROM quota_by_oblast;
DROP TABLE quota_by_oblast;
ALTER TABLE quota ADD COLUMN pool_start INTEGER;
ALTER TABLE quota ADD COLUMN pool_end INTEGER;
DROP INDEX applications_by_act;
CREATE INDEX applications_by_act ON applications (act_number) WHERE act_number <> '';
)sql",
}};

struct StatementFree {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementFree>;

std::string text_column(sqlite3_stmt* statement, int column) {
  const auto* text = sqlite3_column_text(statement, column);
  return text == nullptr
             ? std::string()
             : std::string(reinterpret_cast<const char*>(text),
                           static_cast<std::size_t>(sqlite3_column_bytes(statement, column)));
}

Instant instant_column(sqlite3_stmt* statement, int column) {
  return parse_instant(text_column(statement, column)).value_or(Instant{});
}

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override { sqlite3_close_v2(db_); }
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  Result<void> configure(const SqliteSettings& settings) {
    sqlite3_busy_timeout(db_, static_cast<int>(settings.busy_timeout.count()));
    // WAL with synchronous=FULL: a transaction that returned from COMMIT survives a power loss;
    // readers do not block the writer.
    BOOST_OUTCOME_TRY(execute("PRAGMA journal_mode = WAL"));
    BOOST_OUTCOME_TRY(execute("PRAGMA synchronous = FULL"));
    BOOST_OUTCOME_TRY(execute("PRAGMA foreign_keys = ON"));
    return migrate();
  }

  Result<std::optional<InboxEntry>> find_input(const std::string& key) override {
    BOOST_OUTCOME_TRY(auto statement,
                      prepare("SELECT input_key, source, outcome, reason, detail, document_type, "
                              "body_sha256, received_at FROM inbox WHERE input_key = ?"));
    bind(statement.get(), 1, key);
    const int step = sqlite3_step(statement.get());
    if (step == SQLITE_DONE) return std::optional<InboxEntry>{};
    if (step != SQLITE_ROW) return failure("reading the inbox");
    InboxEntry entry;
    entry.key = text_column(statement.get(), 0);
    entry.source = text_column(statement.get(), 1);
    entry.outcome = text_column(statement.get(), 2);
    entry.reason = text_column(statement.get(), 3);
    entry.detail = text_column(statement.get(), 4);
    entry.document_type = text_column(statement.get(), 5);
    entry.body_sha256 = text_column(statement.get(), 6);
    entry.received_at = instant_column(statement.get(), 7);
    return std::optional<InboxEntry>{std::move(entry)};
  }

  Result<Recorded> record_input(const InboxEntry& entry,
                                std::vector<OutboxMessage> outbox) override {
    std::vector<Input> inputs;
    inputs.push_back(Input{entry, std::move(outbox), {}});
    BOOST_OUTCOME_TRY(auto recorded, record_inputs(std::move(inputs)));
    return std::move(recorded.front());
  }

  Result<std::vector<Recorded>> record_inputs(std::vector<Input> inputs) override {
    BOOST_OUTCOME_TRY(execute("BEGIN IMMEDIATE"));
    std::vector<Recorded> results;
    for (auto& input : inputs) {
      auto result = record_in_transaction(input.entry, std::move(input.outbox));
      if (result && !result.value().duplicate) {
        if (auto applied = apply(input.changes); !applied) result = applied.error();
      }
      if (!result) {
        (void)execute("ROLLBACK");
        return result.error();
      }
      results.push_back(std::move(result).value());
    }
    if (auto committed = execute("COMMIT"); !committed) {
      (void)execute("ROLLBACK");
      return committed.error();
    }
    return results;
  }

  Result<std::vector<OutboxMessage>> pending_outbox(std::size_t limit) override {
    BOOST_OUTCOME_TRY(auto statement,
                      prepare("SELECT id, message_key, input_key, exchange_name, routing_key, "
                              "properties, body, created_at FROM outbox WHERE sent_at IS NULL "
                              "ORDER BY id LIMIT ?"));
    sqlite3_bind_int64(statement.get(), 1, static_cast<sqlite3_int64>(limit));
    return read_rows(statement.get());
  }

  Result<std::vector<OutboxMessage>> pending_outbox_of(const std::string& input_key) override {
    BOOST_OUTCOME_TRY(auto statement,
                      prepare("SELECT id, message_key, input_key, exchange_name, routing_key, "
                              "properties, body, created_at FROM outbox WHERE sent_at IS NULL AND "
                              "input_key = ? ORDER BY id"));
    bind(statement.get(), 1, input_key);
    return read_rows(statement.get());
  }

  Result<void> park_outbox(std::int64_t id, const std::string& reason, Instant at) override {
    BOOST_OUTCOME_TRY(auto statement, prepare("UPDATE outbox SET sent_at = ?, parked_reason = ? "
                                              "WHERE id = ? AND sent_at IS NULL"));
    bind(statement.get(), 1, to_utc_string(at));
    bind(statement.get(), 2, reason);
    sqlite3_bind_int64(statement.get(), 3, id);
    if (sqlite3_step(statement.get()) != SQLITE_DONE) return failure("setting an outbox row aside");
    return outcome::success();
  }

  Result<void> mark_sent(const std::vector<std::int64_t>& ids, Instant at) override {
    if (ids.empty()) return outcome::success();
    BOOST_OUTCOME_TRY(execute("BEGIN IMMEDIATE"));
    auto statement = prepare("UPDATE outbox SET sent_at = ? WHERE id = ? AND sent_at IS NULL");
    if (!statement) {
      (void)execute("ROLLBACK");
      return statement.error();
    }
    const auto when = to_utc_string(at);
    for (auto id : ids) {
      sqlite3_reset(statement.value().get());
      bind(statement.value().get(), 1, when);
      sqlite3_bind_int64(statement.value().get(), 2, id);
      if (sqlite3_step(statement.value().get()) != SQLITE_DONE) {
        auto error = failure("marking outbox rows sent");
        (void)execute("ROLLBACK");
        return error;
      }
    }
    return execute("COMMIT");
  }

  Result<std::optional<ApplicationRow>> find_application(const std::string& id) override {
    return one_application("application_id = ?", id);
  }
  Result<std::optional<ApplicationRow>> find_application_by_voucher(
      const std::string& voucher_id) override {
    return one_application("voucher_id = ?", voucher_id);
  }
  Result<std::vector<ApplicationRow>> find_applications_by_act(
      const std::string& act_number) override {
    BOOST_OUTCOME_TRY(
        auto statement,
        prepare("SELECT application_id, iin, quota_year, region, stage, voucher_id, "
                "act_number, state, version, voucher_year FROM applications WHERE act_number = ? "
                "AND act_number <> '' ORDER BY application_id"));
    bind(statement.get(), 1, act_number);
    return application_rows(statement.get());
  }

  Result<std::vector<ApplicationRow>> applications_of(const std::string& iin, int year) override {
    BOOST_OUTCOME_TRY(
        auto statement,
        prepare("SELECT application_id, iin, quota_year, region, stage, voucher_id, "
                "act_number, state, version, voucher_year FROM applications WHERE iin = ? AND "
                "quota_year = ? AND "
                "stage NOT IN ('refused_automatic', 'refused_career_center', "
                "'refused_recognition_center') ORDER BY application_id"));
    bind(statement.get(), 1, iin);
    sqlite3_bind_int(statement.get(), 2, year);
    return application_rows(statement.get());
  }

  Result<std::int64_t> quota_left(const std::string& region, int year) override {
    BOOST_OUTCOME_TRY(
        auto statement,
        prepare("SELECT allocated - reserved FROM quota WHERE region = ? AND year = ?"));
    bind(statement.get(), 1, region);
    sqlite3_bind_int(statement.get(), 2, year);
    const int step = sqlite3_step(statement.get());
    if (step == SQLITE_DONE) return std::int64_t{0};
    if (step != SQLITE_ROW) return failure("reading the quota");
    return static_cast<std::int64_t>(sqlite3_column_int64(statement.get(), 0));
  }

  Result<std::optional<Quota>> quota(const std::string& region, int year) override {
    BOOST_OUTCOME_TRY(
        auto statement,
        prepare("SELECT allocated, reserved, coalesce(pool_start, 0), coalesce(pool_end, 0) FROM "
                "quota WHERE region = ? AND year = ?"));
    bind(statement.get(), 1, region);
    sqlite3_bind_int(statement.get(), 2, year);
    const int step = sqlite3_step(statement.get());
    if (step == SQLITE_DONE) return std::optional<Quota>{};
    if (step != SQLITE_ROW) return failure("reading the quota");
    return std::optional<Quota>{
        Quota{sqlite3_column_int64(statement.get(), 0), sqlite3_column_int64(statement.get(), 1),
              sqlite3_column_int(statement.get(), 2), sqlite3_column_int(statement.get(), 3)}};
  }

  Result<std::vector<TimerRow>> due_timers(Instant now, std::size_t limit) override {
    BOOST_OUTCOME_TRY(auto statement,
                      prepare("SELECT kind, subject, due_ms, payload FROM timers WHERE due_ms <= ? "
                              "ORDER BY due_ms, kind, subject LIMIT ?"));
    sqlite3_bind_int64(statement.get(), 1, now.time_since_epoch().count());
    sqlite3_bind_int64(statement.get(), 2, static_cast<sqlite3_int64>(limit));
    return read_timers(statement.get());
  }

  Result<std::vector<TimerRow>> timers_of(const std::string& subject) override {
    BOOST_OUTCOME_TRY(auto statement,
                      prepare("SELECT kind, subject, due_ms, payload FROM timers WHERE subject = ? "
                              "ORDER BY due_ms, kind"));
    bind(statement.get(), 1, subject);
    return read_timers(statement.get());
  }

  Result<std::optional<DeadlineRow>> deadline(const std::string& application_id,
                                              const std::string& step) override {
    BOOST_OUTCOME_TRY(
        auto statement,
        prepare("SELECT application_id, step, responsible, basis, started_ms, due_ms, "
                "warned_ms, breached_ms, closed_ms FROM deadlines WHERE "
                "application_id = ? AND step = ?"));
    bind(statement.get(), 1, application_id);
    bind(statement.get(), 2, step);
    BOOST_OUTCOME_TRY(auto rows, read_deadlines(statement.get()));
    if (rows.empty()) return std::optional<DeadlineRow>{};
    return std::optional<DeadlineRow>{std::move(rows.front())};
  }

  Result<std::vector<DeadlineRow>> open_deadlines(std::optional<Instant> overdue_at,
                                                  std::size_t limit) override {
    BOOST_OUTCOME_TRY(
        auto statement,
        prepare("SELECT application_id, step, responsible, basis, started_ms, due_ms, "
                "warned_ms, breached_ms, closed_ms FROM deadlines WHERE closed_ms IS "
                "NULL AND due_ms < ? ORDER BY due_ms, application_id, step LIMIT ?"));
    sqlite3_bind_int64(statement.get(), 1,
                       overdue_at ? overdue_at->time_since_epoch().count()
                                  : std::numeric_limits<std::int64_t>::max());
    sqlite3_bind_int64(statement.get(), 2, static_cast<sqlite3_int64>(limit));
    return read_deadlines(statement.get());
  }

  Result<std::optional<Instant>> next_timer_due() override {
    BOOST_OUTCOME_TRY(auto statement, prepare("SELECT min(due_ms) FROM timers"));
    if (sqlite3_step(statement.get()) != SQLITE_ROW) return failure("reading the timers");
    if (sqlite3_column_type(statement.get(), 0) == SQLITE_NULL) return std::optional<Instant>{};
    return std::optional<Instant>{
        Instant{std::chrono::milliseconds{sqlite3_column_int64(statement.get(), 0)}}};
  }

  Result<std::optional<UnemploymentRecord>> unemployment(const std::string& iin) override {
    BOOST_OUTCOME_TRY(
        auto statement,
        prepare("SELECT iin, registered, region, since, occurred_at FROM unemployment "
                "WHERE iin = ?"));
    bind(statement.get(), 1, iin);
    const int step = sqlite3_step(statement.get());
    if (step == SQLITE_DONE) return std::optional<UnemploymentRecord>{};
    if (step != SQLITE_ROW) return failure("reading the unemployment register");
    UnemploymentRecord record;
    record.iin = text_column(statement.get(), 0);
    record.registered = sqlite3_column_int(statement.get(), 1) != 0;
    record.region = text_column(statement.get(), 2);
    record.since = text_column(statement.get(), 3);
    record.occurred_at = instant_column(statement.get(), 4);
    return std::optional<UnemploymentRecord>{std::move(record)};
  }

  Result<std::string> ping() override {
    BOOST_OUTCOME_TRY(execute("BEGIN IMMEDIATE"));
    BOOST_OUTCOME_TRY(execute("ROLLBACK"));
    const char* file = sqlite3_db_filename(db_, "main");
    return fmt::format("SQLite {}", file != nullptr && *file != '\0' ? file : ":memory:");
  }

  Result<OutboxStats> outbox_stats() override {
    BOOST_OUTCOME_TRY(auto statement, prepare("SELECT count(*), min(created_at) FROM outbox WHERE "
                                              "sent_at IS NULL"));
    if (sqlite3_step(statement.get()) != SQLITE_ROW) return failure("reading the outbox");
    OutboxStats stats;
    stats.pending = sqlite3_column_int64(statement.get(), 0);
    if (sqlite3_column_type(statement.get(), 1) != SQLITE_NULL) {
      stats.oldest = parse_instant(text_column(statement.get(), 1));
    }
    BOOST_OUTCOME_TRY(auto parked,
                      prepare("SELECT count(*) FROM outbox WHERE parked_reason IS NOT NULL"));
    if (sqlite3_step(parked.get()) != SQLITE_ROW) return failure("reading the outbox");
    stats.parked = sqlite3_column_int64(parked.get(), 0);
    return stats;
  }

  Result<TimerStats> timer_stats(Instant now) override {
    BOOST_OUTCOME_TRY(auto statement, prepare("SELECT count(*), coalesce(sum(due_ms <= ?), 0) "
                                              "FROM timers"));
    sqlite3_bind_int64(statement.get(), 1, now.time_since_epoch().count());
    if (sqlite3_step(statement.get()) != SQLITE_ROW) return failure("reading the timers");
    return TimerStats{sqlite3_column_int64(statement.get(), 0),
                      sqlite3_column_int64(statement.get(), 1)};
  }

  Result<void> record_audit(const AuditRow& row) override {
    BOOST_OUTCOME_TRY(auto statement,
                      prepare("INSERT INTO audit (at, actor, action, dead_letter, queue, "
                              "message_id, outcome, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
    bind(statement.get(), 1, to_utc_string(row.at));
    bind(statement.get(), 2, row.actor);
    bind(statement.get(), 3, row.action);
    bind(statement.get(), 4, row.dead_letter);
    bind(statement.get(), 5, row.queue);
    bind(statement.get(), 6, row.message_id);
    bind(statement.get(), 7, row.outcome);
    bind(statement.get(), 8, row.detail);
    if (sqlite3_step(statement.get()) != SQLITE_DONE) return failure("writing the audit");
    return outcome::success();
  }

  Result<std::vector<AuditRow>> audit_log(std::size_t limit) override {
    BOOST_OUTCOME_TRY(auto statement,
                      prepare("SELECT id, at, actor, action, dead_letter, queue, message_id, "
                              "outcome, detail FROM audit ORDER BY id DESC LIMIT ?"));
    sqlite3_bind_int64(statement.get(), 1, static_cast<sqlite3_int64>(limit));
    std::vector<AuditRow> rows;
    int step = 0;
    while ((step = sqlite3_step(statement.get())) == SQLITE_ROW) {
      AuditRow row;
      row.id = sqlite3_column_int64(statement.get(), 0);
      row.at = instant_column(statement.get(), 1);
      row.actor = text_column(statement.get(), 2);
      row.action = text_column(statement.get(), 3);
      row.dead_letter = text_column(statement.get(), 4);
      row.queue = text_column(statement.get(), 5);
      row.message_id = text_column(statement.get(), 6);
      row.outcome = text_column(statement.get(), 7);
      row.detail = text_column(statement.get(), 8);
      rows.push_back(std::move(row));
    }
    if (step != SQLITE_DONE) return failure("reading the audit");
    return rows;
  }

  Result<std::int64_t> count_inbox(const std::string& outcome_name) override {
    BOOST_OUTCOME_TRY(auto statement, prepare("SELECT count(*) FROM inbox WHERE outcome = ?"));
    bind(statement.get(), 1, outcome_name);
    if (sqlite3_step(statement.get()) != SQLITE_ROW) return failure("counting the inbox");
    return static_cast<std::int64_t>(sqlite3_column_int64(statement.get(), 0));
  }

  Result<std::int64_t> count_pending_outbox() override {
    BOOST_OUTCOME_TRY(auto statement, prepare("SELECT count(*) FROM outbox WHERE sent_at IS NULL"));
    if (sqlite3_step(statement.get()) != SQLITE_ROW) return failure("counting the outbox");
    return static_cast<std::int64_t>(sqlite3_column_int64(statement.get(), 0));
  }

  Result<int> schema_version() override {
    BOOST_OUTCOME_TRY(auto statement,
                      prepare("SELECT coalesce(max(version), 0) FROM schema_migrations"));
    if (sqlite3_step(statement.get()) != SQLITE_ROW) return failure("reading the schema version");
    return sqlite3_column_int(statement.get(), 0);
  }

 private:
  static std::optional<Instant> optional_instant(sqlite3_stmt* statement, int column) {
    if (sqlite3_column_type(statement, column) == SQLITE_NULL) return std::nullopt;
    return Instant{std::chrono::milliseconds{sqlite3_column_int64(statement, column)}};
  }

  Result<std::vector<DeadlineRow>> read_deadlines(sqlite3_stmt* statement) {
    std::vector<DeadlineRow> rows;
    int step = 0;
    while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
      DeadlineRow row;
      row.application_id = text_column(statement, 0);
      row.step = text_column(statement, 1);
      row.responsible = text_column(statement, 2);
      row.basis = text_column(statement, 3);
      row.started = *optional_instant(statement, 4);
      row.due = *optional_instant(statement, 5);
      row.warned = optional_instant(statement, 6);
      row.breached = optional_instant(statement, 7);
      row.closed = optional_instant(statement, 8);
      rows.push_back(std::move(row));
    }
    if (step != SQLITE_DONE) return failure("reading the deadlines");
    return rows;
  }

  Result<std::vector<TimerRow>> read_timers(sqlite3_stmt* statement) {
    std::vector<TimerRow> timers;
    int step = 0;
    while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
      TimerRow row;
      row.kind = text_column(statement, 0);
      row.subject = text_column(statement, 1);
      row.due = Instant{std::chrono::milliseconds{sqlite3_column_int64(statement, 2)}};
      row.payload = text_column(statement, 3);
      timers.push_back(std::move(row));
    }
    if (step != SQLITE_DONE) return failure("reading the timers");
    return timers;
  }

  static ApplicationRow application_row(sqlite3_stmt* statement) {
    ApplicationRow row;
    row.application_id = text_column(statement, 0);
    row.iin = text_column(statement, 1);
    row.quota_year = sqlite3_column_int(statement, 2);
    row.region = text_column(statement, 3);
    row.stage = text_column(statement, 4);
    row.voucher_id = text_column(statement, 5);
    row.act_number = text_column(statement, 6);
    row.state_json = text_column(statement, 7);
    row.version = sqlite3_column_int64(statement, 8);
    if (sqlite3_column_type(statement, 9) != SQLITE_NULL)
      row.voucher_year = sqlite3_column_int(statement, 9);
    return row;
  }

  // Every row a prepared SELECT of the application columns gives.
  Result<std::vector<ApplicationRow>> application_rows(sqlite3_stmt* statement) const {
    std::vector<ApplicationRow> rows;
    int step = 0;
    while ((step = sqlite3_step(statement)) == SQLITE_ROW)
      rows.push_back(application_row(statement));
    if (step != SQLITE_DONE) return failure("reading applications");
    return rows;
  }

  Result<std::optional<ApplicationRow>> one_application(const char* where,
                                                        const std::string& value) {
    const std::string sql = std::string(
                                "SELECT application_id, iin, quota_year, region, stage, "
                                "voucher_id, act_number, state, version, voucher_year FROM "
                                "applications WHERE ") +
                            where;
    BOOST_OUTCOME_TRY(auto statement, prepare(sql.c_str()));
    bind(statement.get(), 1, value);
    const int step = sqlite3_step(statement.get());
    if (step == SQLITE_DONE) return std::optional<ApplicationRow>{};
    if (step != SQLITE_ROW) return failure("reading an application");
    return std::optional<ApplicationRow>{application_row(statement.get())};
  }

  // Writes the state an input changes, inside its transaction.
  Result<void> apply(const StateChanges& changes) {
    for (const auto& row : changes.applications) {
      // A new application is inserted; a known one is updated only from the version it was
      // decided on (several instances: the later writer fails and decides again).
      BOOST_OUTCOME_TRY(
          auto statement,
          prepare(row.version == 0
                      ? "INSERT INTO applications (application_id, iin, quota_year, region, "
                        "stage, voucher_id, act_number, state, voucher_year, version) VALUES (?1, "
                        "?2, ?3, ?4, ?5, ?6, ?7, ?8, ?10, 1) ON CONFLICT (application_id) DO "
                        "NOTHING"
                      : "UPDATE applications SET iin = ?2, quota_year = ?3, region = ?4, stage = "
                        "?5, voucher_id = ?6, act_number = ?7, state = ?8, voucher_year = ?10, "
                        "version = version + 1 WHERE application_id = ?1 AND version = ?9"));
      bind(statement.get(), 1, row.application_id);
      bind(statement.get(), 2, row.iin);
      sqlite3_bind_int(statement.get(), 3, row.quota_year);
      bind(statement.get(), 4, row.region);
      bind(statement.get(), 5, row.stage);
      bind(statement.get(), 6, row.voucher_id);
      bind(statement.get(), 7, row.act_number);
      bind(statement.get(), 8, row.state_json);
      if (row.version != 0) sqlite3_bind_int64(statement.get(), 9, row.version);
      if (row.voucher_year) sqlite3_bind_int(statement.get(), 10, *row.voucher_year);
      if (sqlite3_step(statement.get()) != SQLITE_DONE) return failure("writing an application");
      if (sqlite3_changes(db_) == 0) {
        return make_error(
            fmt::format("application {} changed since it was read (version {}): decided again",
                        row.application_id, row.version),
            Failure::conflict);
      }
    }
    for (const auto& allocation : changes.allocations) {
      BOOST_OUTCOME_TRY(
          auto statement,
          prepare("INSERT INTO quota (region, year, allocated, reserved, pool_start, pool_end) "
                  "VALUES (?1, ?2, ?3, max(?4, 0), nullif(?5, 0), nullif(?6, 0)) ON CONFLICT "
                  "(region, year) DO UPDATE SET allocated = excluded.allocated, pool_start = "
                  "excluded.pool_start, pool_end = excluded.pool_end, reserved = CASE WHEN ?4 < 0 "
                  "THEN quota.reserved ELSE ?4 END"));
      bind(statement.get(), 1, allocation.region);
      sqlite3_bind_int(statement.get(), 2, allocation.year);
      sqlite3_bind_int64(statement.get(), 3, allocation.allocated);
      sqlite3_bind_int64(statement.get(), 4, allocation.reserved);
      sqlite3_bind_int(statement.get(), 5, allocation.pool_start);
      sqlite3_bind_int(statement.get(), 6, allocation.pool_end);
      if (sqlite3_step(statement.get()) != SQLITE_DONE) {
        return failure(
            fmt::format("allocating {} vouchers to region {} for {} (fewer than already "
                        "reserved?)",
                        allocation.allocated, allocation.region, allocation.year));
      }
    }
    for (const auto& reservation : changes.reservations) {
      BOOST_OUTCOME_TRY(
          auto statement,
          // The year's own row, or every row of the period whose total it shares.
          prepare("UPDATE quota SET reserved = reserved + ?1 WHERE region = ?2 AND ((pool_start "
                  "IS NULL AND year = ?3) OR (pool_start <= ?3 AND pool_end >= ?3))"));
      sqlite3_bind_int(statement.get(), 1, reservation.delta);
      bind(statement.get(), 2, reservation.region);
      sqlite3_bind_int(statement.get(), 3, reservation.year);
      // The CHECK constraint refuses a reservation beyond the allocation: two applications cannot
      // both take the last unit, whatever their order.
      if (sqlite3_step(statement.get()) != SQLITE_DONE) {
        return failure(fmt::format("reserving {} of region {} for {}", reservation.delta,
                                   reservation.region, reservation.year));
      }
      if (sqlite3_changes(db_) == 0) {
        return make_error(
            fmt::format("region {} has no allocation for {}", reservation.region, reservation.year),
            Failure::conflict);
      }
    }
    for (const auto& record : changes.unemployment) {
      // Events may arrive out of order: an older one never overwrites a newer one.
      BOOST_OUTCOME_TRY(
          auto statement,
          prepare("INSERT INTO unemployment (iin, registered, region, since, "
                  "occurred_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (iin) DO UPDATE SET "
                  "registered = excluded.registered, region = excluded.region, since = "
                  "excluded.since, occurred_at = excluded.occurred_at WHERE "
                  "excluded.occurred_at >= unemployment.occurred_at"));
      bind(statement.get(), 1, record.iin);
      sqlite3_bind_int(statement.get(), 2, record.registered ? 1 : 0);
      bind(statement.get(), 3, record.region);
      bind(statement.get(), 4, record.since);
      bind(statement.get(), 5, to_utc_string(record.occurred_at));
      if (sqlite3_step(statement.get()) != SQLITE_DONE)
        return failure("writing the unemployment register");
    }
    for (const auto& close : changes.closed_deadlines) {
      BOOST_OUTCOME_TRY(auto statement,
                        prepare("UPDATE deadlines SET closed_ms = ? WHERE application_id = ? AND "
                                "step = ? AND closed_ms IS NULL"));
      sqlite3_bind_int64(statement.get(), 1, close.at.time_since_epoch().count());
      bind(statement.get(), 2, close.application_id);
      bind(statement.get(), 3, close.step);
      if (sqlite3_step(statement.get()) != SQLITE_DONE) return failure("closing a deadline");
    }
    for (const auto& row : changes.opened_deadlines) {
      BOOST_OUTCOME_TRY(
          auto statement,
          prepare("INSERT INTO deadlines (application_id, step, responsible, basis, started_ms, "
                  "due_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (application_id, step) DO UPDATE "
                  "SET responsible = excluded.responsible, basis = excluded.basis, started_ms = "
                  "excluded.started_ms, due_ms = excluded.due_ms, warned_ms = NULL, breached_ms = "
                  "NULL, closed_ms = NULL"));
      bind(statement.get(), 1, row.application_id);
      bind(statement.get(), 2, row.step);
      bind(statement.get(), 3, row.responsible);
      bind(statement.get(), 4, row.basis);
      sqlite3_bind_int64(statement.get(), 5, row.started.time_since_epoch().count());
      sqlite3_bind_int64(statement.get(), 6, row.due.time_since_epoch().count());
      if (sqlite3_step(statement.get()) != SQLITE_DONE) return failure("opening a deadline");
    }
    for (const auto& mark : changes.marked_deadlines) {
      BOOST_OUTCOME_TRY(
          auto statement,
          prepare(mark.breached ? "UPDATE deadlines SET breached_ms = ? WHERE "
                                  "application_id = ? AND step = ? AND started_ms = ?"
                                : "UPDATE deadlines SET warned_ms = ? WHERE "
                                  "application_id = ? AND step = ? AND started_ms = ?"));
      sqlite3_bind_int64(statement.get(), 1, mark.at.time_since_epoch().count());
      bind(statement.get(), 2, mark.application_id);
      bind(statement.get(), 3, mark.step);
      sqlite3_bind_int64(statement.get(), 4, mark.started.time_since_epoch().count());
      if (sqlite3_step(statement.get()) != SQLITE_DONE) return failure("marking a deadline");
    }
    // Cancellations first: a decision may cancel the timer that fired and set its successor.
    for (const auto& cancel : changes.cancelled_timers) {
      BOOST_OUTCOME_TRY(auto statement,
                        prepare(cancel.due ? "DELETE FROM timers WHERE kind = ? AND subject = ? "
                                             "AND due_ms = ?"
                                           : "DELETE FROM timers WHERE kind = ? AND subject = ?"));
      bind(statement.get(), 1, cancel.kind);
      bind(statement.get(), 2, cancel.subject);
      if (cancel.due)
        sqlite3_bind_int64(statement.get(), 3, cancel.due->time_since_epoch().count());
      if (sqlite3_step(statement.get()) != SQLITE_DONE) return failure("removing a timer");
    }
    for (const auto& timer : changes.timers) {
      BOOST_OUTCOME_TRY(auto statement,
                        prepare("INSERT INTO timers (kind, subject, due_ms, payload) VALUES (?, ?, "
                                "?, ?) ON CONFLICT (kind, subject) DO UPDATE SET due_ms = "
                                "excluded.due_ms, payload = excluded.payload"));
      bind(statement.get(), 1, timer.kind);
      bind(statement.get(), 2, timer.subject);
      sqlite3_bind_int64(statement.get(), 3, timer.due.time_since_epoch().count());
      bind(statement.get(), 4, timer.payload);
      if (sqlite3_step(statement.get()) != SQLITE_DONE) return failure("writing a timer");
    }
    return outcome::success();
  }

  Result<std::vector<OutboxMessage>> read_rows(sqlite3_stmt* statement) {
    std::vector<OutboxMessage> rows;
    int step = 0;
    while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
      OutboxMessage row;
      row.id = sqlite3_column_int64(statement, 0);
      row.key = text_column(statement, 1);
      row.input_key = text_column(statement, 2);
      row.exchange = text_column(statement, 3);
      row.routing_key = text_column(statement, 4);
      row.properties_json = text_column(statement, 5);
      const auto* blob = static_cast<const char*>(sqlite3_column_blob(statement, 6));
      row.body =
          blob == nullptr
              ? std::string()
              : std::string(blob, static_cast<std::size_t>(sqlite3_column_bytes(statement, 6)));
      row.created_at = instant_column(statement, 7);
      rows.push_back(std::move(row));
    }
    if (step != SQLITE_DONE) return failure("reading the outbox");
    return rows;
  }

  Result<Recorded> record_in_transaction(const InboxEntry& entry,
                                         std::vector<OutboxMessage> outbox) {
    Recorded recorded;
    BOOST_OUTCOME_TRY(auto insert,
                      prepare("INSERT INTO inbox (input_key, source, outcome, reason, detail, "
                              "document_type, body_sha256, received_at) VALUES (?, ?, ?, ?, ?, ?, "
                              "?, ?) ON CONFLICT (input_key) DO NOTHING"));
    bind(insert.get(), 1, entry.key);
    bind(insert.get(), 2, entry.source);
    bind(insert.get(), 3, entry.outcome);
    bind(insert.get(), 4, entry.reason);
    bind(insert.get(), 5, entry.detail);
    bind(insert.get(), 6, entry.document_type);
    bind(insert.get(), 7, entry.body_sha256);
    bind(insert.get(), 8, to_utc_string(entry.received_at));
    if (sqlite3_step(insert.get()) != SQLITE_DONE) return failure("writing the inbox");
    if (sqlite3_changes(db_) == 0) {
      recorded.duplicate = true;
      return recorded;
    }
    BOOST_OUTCOME_TRY(
        auto add, prepare("INSERT INTO outbox (message_key, input_key, exchange_name, "
                          "routing_key, properties, body, created_at) VALUES (?, ?, ?, ?, ?, ?, "
                          "?)"));
    for (auto& row : outbox) {
      sqlite3_reset(add.get());
      bind(add.get(), 1, row.key);
      bind(add.get(), 2, entry.key);
      bind(add.get(), 3, row.exchange);
      bind(add.get(), 4, row.routing_key);
      bind(add.get(), 5, row.properties_json.empty() ? std::string("{}") : row.properties_json);
      sqlite3_bind_blob(add.get(), 6, row.body.data(), static_cast<int>(row.body.size()),
                        SQLITE_TRANSIENT);
      bind(add.get(), 7, to_utc_string(row.created_at));
      if (sqlite3_step(add.get()) != SQLITE_DONE) return failure("writing the outbox");
      row.id = sqlite3_last_insert_rowid(db_);
      row.input_key = entry.key;
      recorded.outbox.push_back(std::move(row));
    }
    return recorded;
  }

  Result<void> migrate() {
    BOOST_OUTCOME_TRY(
        execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER "
                "PRIMARY KEY, applied_at TEXT NOT NULL)"));
    BOOST_OUTCOME_TRY(const int current, schema_version());
    if (current > static_cast<int>(kMigrations.size())) {
      return make_error(
          fmt::format("the store is at schema version {}, newer than this build "
                      "knows ({}): refusing to touch it",
                      current, kMigrations.size()));
    }
    for (std::size_t version = static_cast<std::size_t>(current) + 1; version <= kMigrations.size();
         ++version) {
      BOOST_OUTCOME_TRY(execute("BEGIN IMMEDIATE"));
      auto applied = execute(std::string(kMigrations[version - 1]));
      if (applied) {
        applied = execute(fmt::format(
            "INSERT INTO schema_migrations (version, applied_at) VALUES ({}, '{}')", version,
            to_utc_string(std::chrono::time_point_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now()))));
      }
      if (!applied) {
        (void)execute("ROLLBACK");
        return make_error(fmt::format("migration {} failed: {}", version, applied.error().message));
      }
      BOOST_OUTCOME_TRY(execute("COMMIT"));
    }
    return outcome::success();
  }

  Result<Statement> prepare(const char* sql) {
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, sql, -1, &statement, nullptr) != SQLITE_OK) {
      return failure("preparing a statement");
    }
    return Statement(statement);
  }

  Result<void> execute(const std::string& sql) {
    char* message = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string text = message != nullptr ? message : sqlite3_errmsg(db_);
      sqlite3_free(message);
      return make_error(fmt::format("SQLite: {}", text));
    }
    return outcome::success();
  }

  static void bind(sqlite3_stmt* statement, int index, const std::string& value) {
    sqlite3_bind_text(statement, index, value.data(), static_cast<int>(value.size()),
                      SQLITE_TRANSIENT);
  }

  // What an SQLite error asks for: a lock, I/O or space is transient (and so is what would fail
  // every input alike, corruption or a bug: held, never dead-lettered en masse); a unique key or
  // CHECK another writer's change broke is a conflict; a value the schema refuses is permanent.
  Error failure(std::string_view doing) const {
    const int code = sqlite3_extended_errcode(db_);
    Failure kind = Failure::transient;
    switch (code) {
      case SQLITE_CONSTRAINT_UNIQUE:
      case SQLITE_CONSTRAINT_PRIMARYKEY:
      case SQLITE_CONSTRAINT_CHECK:
        kind = Failure::conflict;
        break;
      case SQLITE_CONSTRAINT_TRIGGER:  // a trigger's RAISE(ABORT): the schema refuses the row
      case SQLITE_CONSTRAINT_NOTNULL:
      case SQLITE_CONSTRAINT_FOREIGNKEY:
      case SQLITE_CONSTRAINT_DATATYPE:
      case SQLITE_TOOBIG:
      case SQLITE_MISMATCH:
      case SQLITE_RANGE:
        kind = Failure::permanent;
        break;
      default:
        break;
    }
    return make_error(
        fmt::format("SQLite error while {}: {} ({})", doing, sqlite3_errmsg(db_), code), kind);
  }

  sqlite3* db_;
};

}  // namespace

Result<std::unique_ptr<Store>> open_sqlite(const SqliteSettings& settings) {
  std::error_code ec;
  const auto folder = std::filesystem::path(settings.path).parent_path();
  if (!folder.empty()) std::filesystem::create_directories(folder, ec);
  sqlite3* db = nullptr;
  const int opened =
      sqlite3_open_v2(settings.path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (opened != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return make_error(fmt::format("cannot open the store {}: {}", settings.path, message));
  }
  auto store = std::make_unique<SqliteStore>(db);
  BOOST_OUTCOME_TRY(store->configure(settings));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace nqs::store
