// The PostgreSQL store (libpq): the same schema, migrations and semantics as the SQLite one, for
// several `nqs-adapter run` processes sharing one database.
#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <limits>

#include "common/redact.hpp"
#include "store/store.hpp"

namespace nqs::store {
namespace {

// What a PostgreSQL error asks for, by its SQLSTATE: a serialization failure, a deadlock, a unique
// key or a CHECK another writer's change broke is a conflict; bad data or another integrity
// constraint is permanent; the rest (the connection, the server, resources, a read-only standby,
// what would fail every input alike) is transient: held, never dead-lettered en masse.
Failure failure_of(std::string_view state) {
  if (state == "40001" || state == "40P01" || state == "23505" || state == "23514") {
    return Failure::conflict;
  }
  if (state.starts_with("22") || state.starts_with("23")) return Failure::permanent;
  return Failure::transient;
}

// The SQLite migrations in PostgreSQL's dialect: identity instead of INTEGER PRIMARY KEY, BYTEA
// for bodies, BIGINT for milliseconds. The versions are the same.
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
  id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  message_key    TEXT NOT NULL UNIQUE,
  input_key      TEXT NOT NULL REFERENCES inbox (input_key),
  exchange_name  TEXT NOT NULL,
  routing_key    TEXT NOT NULL,
  properties     TEXT NOT NULL,
  body           BYTEA NOT NULL,
  created_at     TEXT NOT NULL,
  sent_at        TEXT
);
CREATE INDEX outbox_pending ON outbox (id) WHERE sent_at IS NULL;
)sql",
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
  allocated BIGINT NOT NULL CHECK (allocated >= 0),
  reserved  BIGINT NOT NULL DEFAULT 0,
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
    R"sql(
CREATE TABLE timers (
  kind     TEXT NOT NULL,
  subject  TEXT NOT NULL,
  due_ms   BIGINT NOT NULL,
  payload  TEXT NOT NULL,
  PRIMARY KEY (kind, subject)
);
CREATE INDEX timers_by_due ON timers (due_ms);
ALTER TABLE timers ADD COLUMN claimed_until_ms BIGINT;
ALTER TABLE applications ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
CREATE TABLE deadlines (
  application_id TEXT NOT NULL,
  step           TEXT NOT NULL,
  responsible    TEXT NOT NULL,
  basis          TEXT NOT NULL,
  started_ms     BIGINT NOT NULL,
  due_ms         BIGINT NOT NULL,
  warned_ms      BIGINT,
  breached_ms    BIGINT,
  closed_ms      BIGINT,
  PRIMARY KEY (application_id, step)
);
CREATE INDEX deadlines_open ON deadlines (due_ms) WHERE closed_ms IS NULL;
CREATE UNIQUE INDEX applications_live ON applications (iin, quota_year)
  WHERE stage NOT IN ('refused_automatic', 'refused_career_center', 'refused_recognition_center');
)sql",
    R"sql(
CREATE TABLE audit (
  id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
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
UPDATE applications SET voucher_year = substr(state::json ->> 'issuedOn', 1, 4)::INTEGER
  WHERE voucher_id <> '' AND state::json ->> 'issuedOn' IS NOT NULL;
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

// How long a claimed timer is left to the instance that claimed it before another may fire it.
constexpr std::chrono::milliseconds kTimerLease{60000};

struct ResultFree {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultFree>;

// Parameters of one statement, sent as text, or as bytes for a BYTEA.
class Params {
 public:
  Params& text(std::string value) {
    values_.push_back(std::move(value));
    null_.push_back(false);
    formats_.push_back(0);
    return *this;
  }
  Params& integer(std::int64_t value) { return text(std::to_string(value)); }
  Params& instant(Instant value) { return integer(value.time_since_epoch().count()); }
  Params& optional_instant(std::optional<Instant> value) {
    if (!value) return null();
    return instant(*value);
  }
  Params& bytes(std::string value) {
    text(std::move(value));
    formats_.back() = 1;
    return *this;
  }
  Params& null() {
    values_.emplace_back();
    null_.push_back(true);
    formats_.push_back(0);
    return *this;
  }

  [[nodiscard]] int size() const { return static_cast<int>(values_.size()); }
  [[nodiscard]] std::vector<const char*> pointers() const {
    std::vector<const char*> out;
    for (std::size_t i = 0; i < values_.size(); ++i)
      out.push_back(null_[i] ? nullptr : values_[i].data());
    return out;
  }
  [[nodiscard]] std::vector<int> lengths() const {
    std::vector<int> out;
    for (const auto& value : values_)
      out.push_back(static_cast<int>(value.size()));
    return out;
  }
  [[nodiscard]] const std::vector<int>& formats() const { return formats_; }

 private:
  std::vector<std::string> values_;
  std::vector<bool> null_;
  std::vector<int> formats_;
};

std::string text_of(const PGresult* result, int row, int column) {
  if (PQgetisnull(result, row, column)) return {};
  return std::string(PQgetvalue(result, row, column),
                     static_cast<std::size_t>(PQgetlength(result, row, column)));
}

std::int64_t integer_of(const PGresult* result, int row, int column) {
  return PQgetisnull(result, row, column) ? 0 : std::stoll(PQgetvalue(result, row, column));
}

std::optional<Instant> instant_of(const PGresult* result, int row, int column) {
  if (PQgetisnull(result, row, column)) return std::nullopt;
  return Instant{std::chrono::milliseconds{integer_of(result, row, column)}};
}

std::int64_t affected(const PGresult* result) {
  const char* count = PQcmdTuples(const_cast<PGresult*>(result));
  return count == nullptr || *count == '\0' ? 0 : std::stoll(count);
}

constexpr const char* kApplicationColumns =
    "application_id, iin, quota_year, region, stage, voucher_id, act_number, state, version, "
    "voucher_year";
constexpr const char* kOutboxColumns =
    "id, message_key, input_key, exchange_name, routing_key, properties, body, created_at";
constexpr const char* kDeadlineColumns =
    "application_id, step, responsible, basis, started_ms, due_ms, warned_ms, breached_ms, "
    "closed_ms";

// What libpq reads from a connection string, as keyword and value.
using ConnInfo = std::vector<std::pair<std::string, std::string>>;

Result<ConnInfo> parse_conninfo(const std::string& url) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(url.c_str(), &error);
  if (options == nullptr) {
    std::string message = error != nullptr ? error : "out of memory";
    PQfreemem(error);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
      message.pop_back();
    return make_error(message, Failure::permanent);
  }
  ConnInfo out;
  for (const auto* option = options; option->keyword != nullptr; ++option) {
    if (option->val != nullptr) out.emplace_back(option->keyword, option->val);
  }
  PQconninfoFree(options);
  return out;
}

std::optional<std::string> value_of(const ConnInfo& info, std::string_view keyword) {
  for (const auto& [key, value] : info) {
    if (key == keyword) return value;
  }
  return std::nullopt;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (true) {
    const auto comma = text.find(',', start);
    items.push_back(text.substr(start, comma - start));
    if (comma == std::string::npos) return items;
    start = comma + 1;
  }
}

// The statement's own deadline on the client: the server's statement_timeout and this margin
// (the server should have cancelled it by then; a server that does not answer at all is given up).
constexpr std::chrono::milliseconds kClientMargin{5000};
// How long the client waits for one statement of the migrations (the server sets none).
constexpr std::chrono::milliseconds kMigrationDeadline{600000};

// SQLSTATEs after which the connection is not used again: a read-only server (a standby, or a
// primary demoted after a failover), the server shutting down or not accepting connections.
bool needs_new_connection(std::string_view state) {
  return state == "25006" || state == "57P01" || state == "57P02" || state == "57P03" ||
         state.starts_with("08");
}

class PgStore final : public Store {
 public:
  PgStore(PGconn* connection, PostgresSettings settings)
      : connection_(connection), settings_(std::move(settings)) {}
  ~PgStore() override { PQfinish(connection_); }
  PgStore(const PgStore&) = delete;
  PgStore& operator=(const PgStore&) = delete;

  Result<void> migrate() {
    // Migrations may wait for another instance's (the advisory lock) and may take long (an
    // index on a large table): no statement timeout, a deadline of their own, and no reconnect
    // (the lock belongs to the session).
    migrating_ = true;
    auto migrated = migrate_unbounded();
    migrating_ = false;
    BOOST_OUTCOME_TRY(
        run(fmt::format("SET statement_timeout = {}", settings_.statement_timeout.count()), {},
            "configuring the session"));
    return migrated;
  }

  Result<void> migrate_unbounded() {
    BOOST_OUTCOME_TRY(run("SET statement_timeout = 0", {}, "configuring the session"));
    BOOST_OUTCOME_TRY(run("SET client_min_messages = warning", {}, "configuring the session"));
    BOOST_OUTCOME_TRY(
        run("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY "
            "KEY, applied_at TEXT NOT NULL)",
            {}, "creating schema_migrations"));
    // Instances starting together: one migrates, the others wait and find it done.
    BOOST_OUTCOME_TRY(run("SELECT pg_advisory_lock(7450001)", {}, "locking the migrations"));
    auto migrated = migrate_locked();
    (void)run("SELECT pg_advisory_unlock(7450001)", {}, "unlocking the migrations");
    return migrated;
  }

  Result<std::optional<InboxEntry>> find_input(const std::string& key) override {
    BOOST_OUTCOME_TRY(auto result,
                      run("SELECT input_key, source, outcome, reason, detail, document_type, "
                          "body_sha256, received_at FROM inbox WHERE input_key = $1",
                          Params().text(key), "reading the inbox"));
    if (PQntuples(result.get()) == 0) return std::optional<InboxEntry>{};
    InboxEntry entry;
    entry.key = text_of(result.get(), 0, 0);
    entry.source = text_of(result.get(), 0, 1);
    entry.outcome = text_of(result.get(), 0, 2);
    entry.reason = text_of(result.get(), 0, 3);
    entry.detail = text_of(result.get(), 0, 4);
    entry.document_type = text_of(result.get(), 0, 5);
    entry.body_sha256 = text_of(result.get(), 0, 6);
    entry.received_at = parse_instant(text_of(result.get(), 0, 7)).value_or(Instant{});
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
    BOOST_OUTCOME_TRY(run("BEGIN", {}, "beginning a transaction"));
    std::vector<Recorded> results;
    for (auto& input : inputs) {
      auto result = record_in_transaction(input.entry, std::move(input.outbox));
      if (result && !result.value().duplicate) {
        if (auto applied = apply(input.changes); !applied) result = applied.error();
      }
      if (!result) {
        (void)run("ROLLBACK", {}, "rolling back");
        return result.error();
      }
      results.push_back(std::move(result).value());
    }
    if (auto committed = run("COMMIT", {}, "committing"); !committed) {
      (void)run("ROLLBACK", {}, "rolling back");
      return committed.error();
    }
    return results;
  }

  Result<std::vector<OutboxMessage>> pending_outbox(std::size_t limit) override {
    BOOST_OUTCOME_TRY(
        auto result, run(fmt::format("SELECT {} FROM outbox WHERE sent_at IS NULL "
                                     "ORDER BY id LIMIT $1",
                                     kOutboxColumns),
                         Params().integer(static_cast<std::int64_t>(limit)), "reading the outbox"));
    return outbox_rows(result.get());
  }

  Result<std::vector<OutboxMessage>> pending_outbox_of(const std::string& input_key) override {
    BOOST_OUTCOME_TRY(auto result, run(fmt::format("SELECT {} FROM outbox WHERE sent_at IS NULL "
                                                   "AND input_key = $1 ORDER BY id",
                                                   kOutboxColumns),
                                       Params().text(input_key), "reading the outbox"));
    return outbox_rows(result.get());
  }

  Result<void> park_outbox(std::int64_t id, const std::string& reason, Instant at) override {
    BOOST_OUTCOME_TRY(run(
        "UPDATE outbox SET sent_at = $1, parked_reason = $2 WHERE id = $3 AND "
        "sent_at IS NULL",
        Params().text(to_utc_string(at)).text(reason).integer(id), "setting an outbox row aside"));
    return outcome::success();
  }

  Result<void> mark_sent(const std::vector<std::int64_t>& ids, Instant at) override {
    if (ids.empty()) return outcome::success();
    std::string array = "{";
    for (const auto id : ids) {
      if (array.size() > 1) array += ',';
      array += std::to_string(id);
    }
    array += '}';
    BOOST_OUTCOME_TRY(
        run("UPDATE outbox SET sent_at = $1 WHERE id = ANY($2::bigint[]) AND "
            "sent_at IS NULL",
            Params().text(to_utc_string(at)).text(array), "marking outbox rows sent"));
    return outcome::success();
  }

  Result<std::optional<ApplicationRow>> find_application(const std::string& id) override {
    return one_application("application_id", id);
  }
  Result<std::optional<ApplicationRow>> find_application_by_voucher(
      const std::string& voucher_id) override {
    return one_application("voucher_id", voucher_id);
  }
  Result<std::vector<ApplicationRow>> find_applications_by_act(
      const std::string& act_number) override {
    BOOST_OUTCOME_TRY(auto result,
                      run(fmt::format("SELECT {} FROM applications WHERE act_number = $1 AND "
                                      "act_number <> '' ORDER BY application_id",
                                      kApplicationColumns),
                          Params().text(act_number), "reading applications"));
    std::vector<ApplicationRow> rows;
    for (int row = 0; row < PQntuples(result.get()); ++row)
      rows.push_back(application_row(result.get(), row));
    return rows;
  }

  Result<std::vector<ApplicationRow>> applications_of(const std::string& iin, int year) override {
    BOOST_OUTCOME_TRY(
        auto result,
        run(fmt::format("SELECT {} FROM applications WHERE iin = $1 AND quota_year = $2 AND stage "
                        "NOT IN ('refused_automatic', 'refused_career_center', "
                        "'refused_recognition_center') ORDER BY application_id",
                        kApplicationColumns),
            Params().text(iin).integer(year), "reading applications"));
    std::vector<ApplicationRow> rows;
    for (int row = 0; row < PQntuples(result.get()); ++row)
      rows.push_back(application_row(result.get(), row));
    return rows;
  }

  Result<std::int64_t> quota_left(const std::string& region, int year) override {
    BOOST_OUTCOME_TRY(auto known, quota(region, year));
    return known ? known->allocated - known->reserved : 0;
  }

  Result<std::optional<Quota>> quota(const std::string& region, int year) override {
    BOOST_OUTCOME_TRY(auto result,
                      run("SELECT allocated, reserved, coalesce(pool_start, 0), "
                          "coalesce(pool_end, 0) FROM quota WHERE region = $1 AND year = $2",
                          Params().text(region).integer(year), "reading the quota"));
    if (PQntuples(result.get()) == 0) return std::optional<Quota>{};
    return std::optional<Quota>{Quota{integer_of(result.get(), 0, 0),
                                      integer_of(result.get(), 0, 1),
                                      static_cast<int>(integer_of(result.get(), 0, 2)),
                                      static_cast<int>(integer_of(result.get(), 0, 3))}};
  }

  // Claims the due timers (FOR UPDATE SKIP LOCKED): two instances never take the same ones, and
  // a claimed timer is left to its instance for kTimerLease (then it is due again, if that
  // instance died before firing it).
  Result<std::vector<TimerRow>> due_timers(Instant now, std::size_t limit) override {
    BOOST_OUTCOME_TRY(
        auto result,
        run("UPDATE timers SET claimed_until_ms = $2 WHERE (kind, subject) IN (SELECT kind, "
            "subject FROM timers WHERE due_ms <= $1 AND (claimed_until_ms IS NULL OR "
            "claimed_until_ms <= $1) ORDER BY due_ms, kind, subject LIMIT $3 FOR UPDATE SKIP "
            "LOCKED) RETURNING kind, subject, due_ms, payload",
            Params()
                .instant(now)
                .instant(now + kTimerLease)
                .integer(static_cast<std::int64_t>(limit)),
            "claiming the due timers"));
    auto timers = timer_rows(result.get());
    std::sort(timers.begin(), timers.end(), [](const TimerRow& a, const TimerRow& b) {
      return std::tie(a.due, a.kind, a.subject) < std::tie(b.due, b.kind, b.subject);
    });
    return timers;
  }

  Result<std::optional<Instant>> next_timer_due() override {
    BOOST_OUTCOME_TRY(auto result,
                      run("SELECT min(CASE WHEN claimed_until_ms > due_ms THEN claimed_until_ms "
                          "ELSE due_ms END) FROM timers",
                          {}, "reading the timers"));
    return instant_of(result.get(), 0, 0);
  }

  Result<std::vector<TimerRow>> timers_of(const std::string& subject) override {
    BOOST_OUTCOME_TRY(auto result,
                      run("SELECT kind, subject, due_ms, payload FROM timers WHERE subject = $1 "
                          "ORDER BY due_ms, kind",
                          Params().text(subject), "reading the timers"));
    return timer_rows(result.get());
  }

  Result<std::optional<DeadlineRow>> deadline(const std::string& application_id,
                                              const std::string& step) override {
    BOOST_OUTCOME_TRY(auto result,
                      run(fmt::format("SELECT {} FROM deadlines WHERE "
                                      "application_id = $1 AND step = $2",
                                      kDeadlineColumns),
                          Params().text(application_id).text(step), "reading the deadlines"));
    auto rows = deadline_rows(result.get());
    if (rows.empty()) return std::optional<DeadlineRow>{};
    return std::optional<DeadlineRow>{std::move(rows.front())};
  }

  Result<std::vector<DeadlineRow>> open_deadlines(std::optional<Instant> overdue_at,
                                                  std::size_t limit) override {
    Params params;
    if (overdue_at) {
      params.instant(*overdue_at);
    } else {
      params.integer(std::numeric_limits<std::int64_t>::max());
    }
    params.integer(static_cast<std::int64_t>(limit));
    BOOST_OUTCOME_TRY(auto result, run(fmt::format("SELECT {} FROM deadlines WHERE closed_ms IS "
                                                   "NULL AND due_ms < $1 ORDER BY due_ms, "
                                                   "application_id, step LIMIT $2",
                                                   kDeadlineColumns),
                                       params, "reading the deadlines"));
    return deadline_rows(result.get());
  }

  Result<std::optional<UnemploymentRecord>> unemployment(const std::string& iin) override {
    BOOST_OUTCOME_TRY(auto result, run("SELECT iin, registered, region, since, occurred_at FROM "
                                       "unemployment WHERE iin = $1",
                                       Params().text(iin), "reading the unemployment register"));
    if (PQntuples(result.get()) == 0) return std::optional<UnemploymentRecord>{};
    UnemploymentRecord record;
    record.iin = text_of(result.get(), 0, 0);
    record.registered = integer_of(result.get(), 0, 1) != 0;
    record.region = text_of(result.get(), 0, 2);
    record.since = text_of(result.get(), 0, 3);
    record.occurred_at = parse_instant(text_of(result.get(), 0, 4)).value_or(Instant{});
    return std::optional<UnemploymentRecord>{std::move(record)};
  }

  Result<std::string> ping() override {
    // Writable: connected, and not a read-only standby.
    BOOST_OUTCOME_TRY(auto result, run("SELECT pg_is_in_recovery()", {}, "checking the server"));
    if (text_of(result.get(), 0, 0) == "t") {
      broken_ = true;  // the next statement looks for the primary
      return make_error(fmt::format("PostgreSQL {} is a read-only standby", server()));
    }
    return fmt::format("PostgreSQL {}", server());
  }

  Result<OutboxStats> outbox_stats() override {
    BOOST_OUTCOME_TRY(auto result, run("SELECT count(*), min(created_at) FROM outbox WHERE "
                                       "sent_at IS NULL",
                                       {}, "reading the outbox"));
    OutboxStats stats;
    stats.pending = integer_of(result.get(), 0, 0);
    if (!PQgetisnull(result.get(), 0, 1)) stats.oldest = parse_instant(text_of(result.get(), 0, 1));
    BOOST_OUTCOME_TRY(auto parked,
                      run("SELECT count(*) FROM outbox WHERE parked_reason IS NOT NULL", {},
                          "reading the outbox"));
    stats.parked = integer_of(parked.get(), 0, 0);
    return stats;
  }

  Result<TimerStats> timer_stats(Instant now) override {
    BOOST_OUTCOME_TRY(auto result, run("SELECT count(*), count(*) FILTER (WHERE due_ms <= $1) "
                                       "FROM timers",
                                       Params().instant(now), "reading the timers"));
    return TimerStats{integer_of(result.get(), 0, 0), integer_of(result.get(), 0, 1)};
  }

  Result<void> record_audit(const AuditRow& row) override {
    BOOST_OUTCOME_TRY(
        run("INSERT INTO audit (at, actor, action, dead_letter, queue, message_id, "
            "outcome, detail) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            Params()
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

  Result<std::vector<AuditRow>> audit_log(std::size_t limit) override {
    BOOST_OUTCOME_TRY(auto result,
                      run("SELECT id, at, actor, action, dead_letter, queue, "
                          "message_id, outcome, detail FROM audit ORDER BY id DESC "
                          "LIMIT $1",
                          Params().integer(static_cast<std::int64_t>(limit)), "reading the audit"));
    std::vector<AuditRow> rows;
    for (int row = 0; row < PQntuples(result.get()); ++row) {
      AuditRow out;
      out.id = integer_of(result.get(), row, 0);
      out.at = parse_instant(text_of(result.get(), row, 1)).value_or(Instant{});
      out.actor = text_of(result.get(), row, 2);
      out.action = text_of(result.get(), row, 3);
      out.dead_letter = text_of(result.get(), row, 4);
      out.queue = text_of(result.get(), row, 5);
      out.message_id = text_of(result.get(), row, 6);
      out.outcome = text_of(result.get(), row, 7);
      out.detail = text_of(result.get(), row, 8);
      rows.push_back(std::move(out));
    }
    return rows;
  }

  Result<std::int64_t> count_inbox(const std::string& outcome_name) override {
    BOOST_OUTCOME_TRY(auto result, run("SELECT count(*) FROM inbox WHERE outcome = $1",
                                       Params().text(outcome_name), "counting the inbox"));
    return integer_of(result.get(), 0, 0);
  }

  Result<std::int64_t> count_pending_outbox() override {
    BOOST_OUTCOME_TRY(auto result, run("SELECT count(*) FROM outbox WHERE sent_at IS NULL", {},
                                       "counting the outbox"));
    return integer_of(result.get(), 0, 0);
  }

  Result<int> schema_version() override {
    BOOST_OUTCOME_TRY(auto result, run("SELECT coalesce(max(version), 0) FROM schema_migrations",
                                       {}, "reading the schema version"));
    return static_cast<int>(integer_of(result.get(), 0, 0));
  }

 private:
  Result<void> migrate_locked() {
    BOOST_OUTCOME_TRY(const int current, schema_version());
    if (current > static_cast<int>(kMigrations.size())) {
      return make_error(
          fmt::format("the store is at schema version {}, newer than this build "
                      "knows ({}): refusing to touch it",
                      current, kMigrations.size()));
    }
    for (std::size_t version = static_cast<std::size_t>(current) + 1; version <= kMigrations.size();
         ++version) {
      BOOST_OUTCOME_TRY(run("BEGIN", {}, "beginning a migration"));
      auto applied = run_script(std::string(kMigrations[version - 1]));
      if (applied) {
        auto recorded =
            run("INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)",
                Params()
                    .integer(static_cast<std::int64_t>(version))
                    .text(to_utc_string(std::chrono::time_point_cast<std::chrono::milliseconds>(
                        std::chrono::system_clock::now()))),
                "recording the migration");
        if (!recorded) applied = recorded.error();
      }
      if (!applied) {
        (void)run("ROLLBACK", {}, "rolling back");
        return make_error(fmt::format("migration {} failed: {}", version, applied.error().message));
      }
      BOOST_OUTCOME_TRY(run("COMMIT", {}, "committing a migration"));
    }
    return outcome::success();
  }

  // A script of several statements (no parameters); the result of the last one tells.
  Result<void> run_script(const std::string& sql) {
    BOOST_OUTCOME_TRY(ensure_connected("running a migration"));
    if (PQsendQuery(connection_, sql.c_str()) != 1) return lost("running a migration");
    BOOST_OUTCOME_TRY(await_result("running a migration"));
    return outcome::success();
  }

  Result<PgResult> run(const std::string& sql, const Params& params, std::string_view doing) {
    const bool ends_transaction = sql == "COMMIT" || sql == "ROLLBACK";
    if (sql == "ROLLBACK" && !in_transaction_) return PgResult{};
    if (sql == "ROLLBACK" && (broken_ || PQstatus(connection_) != CONNECTION_OK)) {
      // The server rolled back when the connection ended: nothing is left to undo.
      in_transaction_ = false;
      return PgResult{};
    }
    BOOST_OUTCOME_TRY(ensure_connected(doing));
    const auto values = params.pointers();
    const auto lengths = params.lengths();
    const int sent = PQsendQueryParams(
        connection_, sql.c_str(), params.size(), nullptr, values.empty() ? nullptr : values.data(),
        lengths.empty() ? nullptr : lengths.data(),
        params.formats().empty() ? nullptr : params.formats().data(), 0);
    if (sent != 1) {
      if (ends_transaction) in_transaction_ = false;
      return lost(doing);
    }
    auto result = await_result(doing);
    if (sql == "BEGIN" && result) in_transaction_ = true;
    if (ends_transaction) in_transaction_ = false;
    return result;
  }

  // The host and port of the live connection.
  std::string server() const {
    const char* host = PQhost(connection_);
    const char* port = PQport(connection_);
    return fmt::format("{}:{}", host != nullptr ? host : "?", port != nullptr ? port : "?");
  }

 private:
  // A connection that failed, or that the server made unusable (read-only, shutting down), is
  // opened again before the next statement: libpq tries the URL's hosts in turn and keeps one
  // that accepts writes, so after a failover the promoted standby is found. Never inside a
  // transaction: its statements before the loss are gone, and the caller must start again.
  Result<void> ensure_connected(std::string_view doing) {
    if (!broken_ && PQstatus(connection_) == CONNECTION_OK) return outcome::success();
    if (in_transaction_ || migrating_) {
      return make_error(fmt::format("PostgreSQL connection lost inside a {} while {}",
                                    migrating_ ? "migration" : "transaction", doing));
    }
    const std::string before = server();
    PQreset(connection_);
    if (PQstatus(connection_) != CONNECTION_OK) {
      return make_error(
          fmt::format("PostgreSQL unreachable while {}: {}", doing, connection_message()));
    }
    broken_ = false;
    ++reconnects_;
    notice(fmt::format("reconnected to PostgreSQL {} (was {})", server(), before));
    return outcome::success();
  }

  Error lost(std::string_view doing) {
    broken_ = true;
    return make_error(fmt::format("PostgreSQL error while {}: {}", doing, connection_message()));
  }

  std::string connection_message() const {
    std::string message = PQerrorMessage(connection_);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
      message.pop_back();
    return message;
  }

  // Waits until the statement's next result can be read without blocking. Past the deadline the
  // connection is given up (the server's own statement_timeout cancels the statement; a server
  // that does not answer at all is left, and the next statement runs on a new connection).
  Result<void> readable(std::chrono::steady_clock::time_point deadline,
                        std::chrono::milliseconds limit, std::string_view doing) {
    while (PQisBusy(connection_) == 1) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        broken_ = true;
        return make_error(
            fmt::format("PostgreSQL did not answer within {} ms while {}", limit.count(), doing));
      }
      pollfd descriptor{PQsocket(connection_), POLLIN, 0};
      const int ready = ::poll(&descriptor, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno != EINTR) return lost(doing);
      if (ready > 0 && PQconsumeInput(connection_) != 1) return lost(doing);
    }
    return outcome::success();
  }

  // The result of the statement sent (the last one of a script), every result read within one
  // deadline: the statement timeout and a margin (migrations: kMigrationDeadline).
  Result<PgResult> await_result(std::string_view doing) {
    const auto limit =
        migrating_ ? kMigrationDeadline : settings_.statement_timeout + kClientMargin;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    PgResult last;
    std::optional<Error> failure;
    for (;;) {
      BOOST_OUTCOME_TRY(readable(deadline, limit, doing));
      PGresult* next = PQgetResult(connection_);
      if (next == nullptr) break;
      PgResult current(next);
      const auto status = PQresultStatus(current.get());
      if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        if (!failure) failure = failed(current.get(), doing);
        continue;  // read to the end, so the connection is ready for the next statement
      }
      last = std::move(current);
    }
    if (failure) return *failure;
    if (!last) return lost(doing);
    return last;
  }

  Error failed(const PGresult* result, std::string_view doing) {
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    const std::string code = state != nullptr ? state : "";
    std::string message = PQresultErrorMessage(result);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
      message.pop_back();
    if (message.empty()) message = connection_message();
    if (needs_new_connection(code) || PQstatus(connection_) != CONNECTION_OK) broken_ = true;
    return make_error(fmt::format("PostgreSQL error while {}: {} ({})", doing, message,
                                  code.empty() ? "no SQLSTATE" : code),
                      failure_of(code));
  }

  void notice(const std::string& text) const {
    if (settings_.on_notice) settings_.on_notice(text);
  }

 public:
  Result<Recorded> record_in_transaction(const InboxEntry& entry,
                                         std::vector<OutboxMessage> outbox) {
    Recorded recorded;
    BOOST_OUTCOME_TRY(auto inserted,
                      run("INSERT INTO inbox (input_key, source, outcome, reason, detail, "
                          "document_type, body_sha256, received_at) VALUES ($1, $2, $3, $4, $5, "
                          "$6, $7, $8) ON CONFLICT (input_key) DO NOTHING",
                          Params()
                              .text(entry.key)
                              .text(entry.source)
                              .text(entry.outcome)
                              .text(entry.reason)
                              .text(entry.detail)
                              .text(entry.document_type)
                              .text(entry.body_sha256)
                              .text(to_utc_string(entry.received_at)),
                          "writing the inbox"));
    if (affected(inserted.get()) == 0) {
      recorded.duplicate = true;
      return recorded;
    }
    for (auto& row : outbox) {
      BOOST_OUTCOME_TRY(
          auto added,
          run("INSERT INTO outbox (message_key, input_key, exchange_name, "
              "routing_key, properties, body, created_at) VALUES ($1, $2, $3, $4, "
              "$5, $6, $7) RETURNING id",
              Params()
                  .text(row.key)
                  .text(entry.key)
                  .text(row.exchange)
                  .text(row.routing_key)
                  .text(row.properties_json.empty() ? std::string("{}") : row.properties_json)
                  .bytes(row.body)
                  .text(to_utc_string(row.created_at)),
              "writing the outbox"));
      row.id = integer_of(added.get(), 0, 0);
      row.input_key = entry.key;
      recorded.outbox.push_back(std::move(row));
    }
    return recorded;
  }

  Result<void> apply(const StateChanges& changes) {
    for (const auto& row : changes.applications) {
      // Written only from the version it was decided on (another instance may have moved it).
      Params params;
      params.text(row.application_id)
          .text(row.iin)
          .integer(row.quota_year)
          .text(row.region)
          .text(row.stage)
          .text(row.voucher_id)
          .text(row.act_number)
          .text(row.state_json);
      if (row.voucher_year) {
        params.integer(*row.voucher_year);
      } else {
        params.null();
      }
      if (row.version != 0) params.integer(row.version);
      BOOST_OUTCOME_TRY(
          auto written,
          run(row.version == 0
                  ? "INSERT INTO applications (application_id, iin, quota_year, region, stage, "
                    "voucher_id, act_number, state, voucher_year, version) VALUES ($1, $2, $3, "
                    "$4, $5, $6, $7, $8, $9, 1) ON CONFLICT (application_id) DO NOTHING"
                  : "UPDATE applications SET iin = $2, quota_year = $3, region = $4, stage = $5, "
                    "voucher_id = $6, act_number = $7, state = $8, voucher_year = $9, version = "
                    "version + 1 WHERE application_id = $1 AND version = $10",
              params, "writing an application"));
      if (affected(written.get()) == 0) {
        return make_error(
            fmt::format("application {} changed since it was read (version {}): decided again",
                        row.application_id, row.version),
            Failure::conflict);
      }
    }
    for (const auto& allocation : changes.allocations) {
      auto written = run(
          "INSERT INTO quota (region, year, allocated, reserved, pool_start, pool_end) VALUES ($1, "
          "$2, $3, GREATEST($4::BIGINT, 0), NULLIF($5::INTEGER, 0), NULLIF($6::INTEGER, 0)) ON "
          "CONFLICT (region, year) DO UPDATE SET allocated = excluded.allocated, pool_start = "
          "excluded.pool_start, pool_end = excluded.pool_end, reserved = CASE WHEN "
          "$4::BIGINT < 0 THEN quota.reserved ELSE $4::BIGINT END",
          Params()
              .text(allocation.region)
              .integer(allocation.year)
              .integer(allocation.allocated)
              .integer(allocation.reserved)
              .integer(allocation.pool_start)
              .integer(allocation.pool_end),
          "allocating");
      if (!written) {
        return make_error(fmt::format("allocating {} vouchers to region {} for {} (fewer than "
                                      "already reserved?): {}",
                                      allocation.allocated, allocation.region, allocation.year,
                                      written.error().message),
                          written.error().kind);
      }
    }
    for (const auto& reservation : changes.reservations) {
      // The CHECK constraint refuses a reservation beyond the allocation; the row lock orders
      // two instances taking the last unit.
      auto written = run(
          "UPDATE quota SET reserved = reserved + $1 WHERE region = $2 AND ((pool_start IS NULL "
          "AND year = $3) OR (pool_start <= $3 AND pool_end >= $3))",
          Params().integer(reservation.delta).text(reservation.region).integer(reservation.year),
          "reserving");
      if (!written) {
        return make_error(
            fmt::format("reserving {} of region {} for {}: {}", reservation.delta,
                        reservation.region, reservation.year, written.error().message),
            written.error().kind);
      }
      if (affected(written.value().get()) == 0) {
        return make_error(
            fmt::format("region {} has no allocation for {}", reservation.region, reservation.year),
            Failure::conflict);
      }
    }
    for (const auto& record : changes.unemployment) {
      BOOST_OUTCOME_TRY(
          run("INSERT INTO unemployment (iin, registered, region, since, "
              "occurred_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (iin) DO UPDATE "
              "SET registered = excluded.registered, region = excluded.region, "
              "since = excluded.since, occurred_at = excluded.occurred_at WHERE "
              "excluded.occurred_at >= unemployment.occurred_at",
              Params()
                  .text(record.iin)
                  .integer(record.registered ? 1 : 0)
                  .text(record.region)
                  .text(record.since)
                  .text(to_utc_string(record.occurred_at)),
              "writing the unemployment register"));
    }
    for (const auto& close : changes.closed_deadlines) {
      BOOST_OUTCOME_TRY(
          run("UPDATE deadlines SET closed_ms = $1 WHERE application_id = $2 AND "
              "step = $3 AND closed_ms IS NULL",
              Params().instant(close.at).text(close.application_id).text(close.step),
              "closing a deadline"));
    }
    for (const auto& row : changes.opened_deadlines) {
      BOOST_OUTCOME_TRY(
          run("INSERT INTO deadlines (application_id, step, responsible, basis, started_ms, "
              "due_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (application_id, step) DO "
              "UPDATE SET responsible = excluded.responsible, basis = excluded.basis, started_ms = "
              "excluded.started_ms, due_ms = excluded.due_ms, warned_ms = NULL, breached_ms = "
              "NULL, closed_ms = NULL",
              Params()
                  .text(row.application_id)
                  .text(row.step)
                  .text(row.responsible)
                  .text(row.basis)
                  .instant(row.started)
                  .instant(row.due),
              "opening a deadline"));
    }
    for (const auto& mark : changes.marked_deadlines) {
      BOOST_OUTCOME_TRY(run(
          mark.breached ? "UPDATE deadlines SET breached_ms = $1 WHERE "
                          "application_id = $2 AND step = $3 AND started_ms = $4"
                        : "UPDATE deadlines SET warned_ms = $1 WHERE "
                          "application_id = $2 AND step = $3 AND started_ms = $4",
          Params().instant(mark.at).text(mark.application_id).text(mark.step).instant(mark.started),
          "marking a deadline"));
    }
    // Cancellations first: a decision may cancel the timer that fired and set its successor.
    for (const auto& cancel : changes.cancelled_timers) {
      Params params;
      params.text(cancel.kind).text(cancel.subject);
      if (cancel.due) params.instant(*cancel.due);
      BOOST_OUTCOME_TRY(run(cancel.due ? "DELETE FROM timers WHERE kind = $1 AND subject = $2 AND "
                                         "due_ms = $3"
                                       : "DELETE FROM timers WHERE kind = $1 AND subject = $2",
                            params, "removing a timer"));
    }
    for (const auto& timer : changes.timers) {
      BOOST_OUTCOME_TRY(
          run("INSERT INTO timers (kind, subject, due_ms, payload) VALUES ($1, $2, "
              "$3, $4) ON CONFLICT (kind, subject) DO UPDATE SET due_ms = "
              "excluded.due_ms, payload = excluded.payload, claimed_until_ms = NULL",
              Params().text(timer.kind).text(timer.subject).instant(timer.due).text(timer.payload),
              "writing a timer"));
    }
    return outcome::success();
  }

  Result<std::optional<ApplicationRow>> one_application(const char* column,
                                                        const std::string& value) {
    BOOST_OUTCOME_TRY(auto result, run(fmt::format("SELECT {} FROM applications WHERE {} = $1",
                                                   kApplicationColumns, column),
                                       Params().text(value), "reading an application"));
    if (PQntuples(result.get()) == 0) return std::optional<ApplicationRow>{};
    return std::optional<ApplicationRow>{application_row(result.get(), 0)};
  }

  static ApplicationRow application_row(const PGresult* result, int row) {
    ApplicationRow out;
    out.application_id = text_of(result, row, 0);
    out.iin = text_of(result, row, 1);
    out.quota_year = static_cast<int>(integer_of(result, row, 2));
    out.region = text_of(result, row, 3);
    out.stage = text_of(result, row, 4);
    out.voucher_id = text_of(result, row, 5);
    out.act_number = text_of(result, row, 6);
    out.state_json = text_of(result, row, 7);
    out.version = integer_of(result, row, 8);
    if (!PQgetisnull(result, row, 9))
      out.voucher_year = static_cast<int>(integer_of(result, row, 9));
    return out;
  }

  static Result<std::vector<OutboxMessage>> outbox_rows(const PGresult* result) {
    std::vector<OutboxMessage> rows;
    for (int row = 0; row < PQntuples(result); ++row) {
      OutboxMessage message;
      message.id = integer_of(result, row, 0);
      message.key = text_of(result, row, 1);
      message.input_key = text_of(result, row, 2);
      message.exchange = text_of(result, row, 3);
      message.routing_key = text_of(result, row, 4);
      message.properties_json = text_of(result, row, 5);
      std::size_t length = 0;
      unsigned char* bytes = PQunescapeBytea(
          reinterpret_cast<const unsigned char*>(PQgetvalue(result, row, 6)), &length);
      if (bytes == nullptr) return make_error("PostgreSQL: an outbox body cannot be read");
      message.body.assign(reinterpret_cast<const char*>(bytes), length);
      PQfreemem(bytes);
      message.created_at = parse_instant(text_of(result, row, 7)).value_or(Instant{});
      rows.push_back(std::move(message));
    }
    return rows;
  }

  static std::vector<TimerRow> timer_rows(const PGresult* result) {
    std::vector<TimerRow> rows;
    for (int row = 0; row < PQntuples(result); ++row) {
      rows.push_back(TimerRow{text_of(result, row, 0), text_of(result, row, 1),
                              *instant_of(result, row, 2), text_of(result, row, 3)});
    }
    return rows;
  }

  static std::vector<DeadlineRow> deadline_rows(const PGresult* result) {
    std::vector<DeadlineRow> rows;
    for (int row = 0; row < PQntuples(result); ++row) {
      DeadlineRow out;
      out.application_id = text_of(result, row, 0);
      out.step = text_of(result, row, 1);
      out.responsible = text_of(result, row, 2);
      out.basis = text_of(result, row, 3);
      out.started = *instant_of(result, row, 4);
      out.due = *instant_of(result, row, 5);
      out.warned = instant_of(result, row, 6);
      out.breached = instant_of(result, row, 7);
      out.closed = instant_of(result, row, 8);
      rows.push_back(std::move(out));
    }
    return rows;
  }

  PGconn* connection_;
  PostgresSettings settings_;
  bool broken_ = false;          // open a new connection before the next statement
  bool in_transaction_ = false;  // between BEGIN and COMMIT or ROLLBACK
  bool migrating_ = false;       // holding the migration lock, with no statement timeout
  std::uint64_t reconnects_ = 0;

 public:
  static void forward_notice(void* self, const char* message) {
    std::string text = message != nullptr ? message : "";
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
      text.pop_back();
    if (!text.empty()) static_cast<const PgStore*>(self)->notice(text);
  }
};

// The connection string libpq is given: the URL, then what the adapter always sets unless the URL
// says otherwise (later keywords override the URL's).
Result<ConnInfo> connection_keywords(const PostgresSettings& settings) {
  BOOST_OUTCOME_TRY(auto given, parse_conninfo(settings.url));
  ConnInfo out{{"dbname", settings.url}};
  if (!value_of(given, "connect_timeout")) {
    // libpq counts whole seconds, at least 2.
    const auto seconds = std::max<std::int64_t>(
        2, std::chrono::duration_cast<std::chrono::seconds>(settings.connect_timeout).count());
    out.emplace_back("connect_timeout", std::to_string(seconds));
  }
  std::string options = value_of(given, "options").value_or("");
  if (options.find("statement_timeout") == std::string::npos) {
    options += fmt::format(" -c statement_timeout={}", settings.statement_timeout.count());
  }
  if (options.find("client_min_messages") == std::string::npos) {
    options += " -c client_min_messages=warning";
  }
  out.emplace_back("options", options);
  if (!value_of(given, "target_session_attrs"))
    out.emplace_back("target_session_attrs", "read-write");
  if (!value_of(given, "application_name")) out.emplace_back("application_name", "nqs-adapter");
  return out;
}

}  // namespace

Result<void> check_postgres_url(const std::string& url) {
  const auto shown = redact_password(url);
  auto parsed = parse_conninfo(url);
  if (!parsed) return make_error(fmt::format("'{}': {}", shown, parsed.error().message));
  const auto& info = parsed.value();
  const auto hosts = split_commas(value_of(info, "host").value_or(""));
  if (const auto ports = value_of(info, "port")) {
    const auto each = split_commas(*ports);
    if (each.size() != 1 && each.size() != hosts.size()) {
      return make_error(fmt::format("'{}': {} ports for {} hosts (give one, or one a host)", shown,
                                    each.size(), hosts.size()));
    }
    for (const auto& port : each) {
      int number = 0;
      const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
      if (!port.empty() &&
          (ec != std::errc{} || end != port.data() + port.size() || number < 1 || number > 65535)) {
        return make_error(fmt::format("'{}': '{}' is not a port (1 to 65535)", shown, port));
      }
    }
  }
  if (const auto attributes = value_of(info, "target_session_attrs")) {
    if (*attributes != "read-write" && *attributes != "primary") {
      return make_error(fmt::format(
          "'{}': target_session_attrs={} may land on a standby, where nothing can be written "
          "(read-write or primary, the default read-write)",
          shown, *attributes));
    }
  }
  if (const auto timeout = value_of(info, "connect_timeout")) {
    int seconds = 0;
    const auto [end, ec] =
        std::from_chars(timeout->data(), timeout->data() + timeout->size(), seconds);
    if (ec != std::errc{} || end != timeout->data() + timeout->size() || seconds < 1) {
      return make_error(
          fmt::format("'{}': connect_timeout={} is not a number of seconds (or leave it to "
                      "store.connect_timeout)",
                      shown, *timeout));
    }
  }
  return outcome::success();
}

std::string PostgresSettings::redacted() const {
  return redact_password(url);
}

bool is_postgres_url(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

Result<std::unique_ptr<Store>> open_store(const std::string& url, const SqliteSettings& sqlite,
                                          PostgresSettings postgres) {
  if (!is_postgres_url(url)) return open_sqlite(sqlite);
  postgres.url = url;
  return open_postgres(postgres);
}

Result<std::unique_ptr<Store>> open_postgres(const PostgresSettings& settings) {
  BOOST_OUTCOME_TRY(check_postgres_url(settings.url));
  BOOST_OUTCOME_TRY(auto keywords, connection_keywords(settings));
  std::vector<const char*> names;
  std::vector<const char*> values;
  for (const auto& [name, value] : keywords) {
    names.push_back(name.c_str());
    values.push_back(value.c_str());
  }
  names.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* connection = PQconnectdbParams(names.data(), values.data(), 1);
  if (connection == nullptr) return make_error("cannot open the store: out of memory");
  if (PQstatus(connection) != CONNECTION_OK) {
    std::string message = PQerrorMessage(connection);
    while (!message.empty() && message.back() == '\n')
      message.pop_back();
    PQfinish(connection);
    return make_error(fmt::format("cannot open the store {}: {}", settings.redacted(), message));
  }
  auto store = std::make_unique<PgStore>(connection, settings);
  // Notices and warnings go to the caller's logger, not to stderr as libpq would print them.
  PQsetNoticeProcessor(connection, &PgStore::forward_notice, store.get());
  BOOST_OUTCOME_TRY(store->migrate());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace nqs::store
