#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/instant.hpp"
#include "common/result.hpp"
#include "domain/stage.hpp"
#include "store/evidence.hpp"

namespace nqs::store {

// What became of an input: processed (its effects committed with it) or rejected (with a reason
// code, and no effect).
enum class InputOutcome { processed, rejected };
std::string_view outcome_name(InputOutcome outcome);
std::optional<InputOutcome> outcome_named(std::string_view name);

// One input as the inbox remembers it: its key (messageId or eventId, or a hash of the body when
// the input was unreadable), what became of it, and why.
struct InboxEntry {
  std::string key;
  std::string source;  // the queue it came from
  InputOutcome outcome = InputOutcome::processed;
  std::string reason;  // the reason code of a rejection
  std::string detail;
  std::string document_type;
  std::string body_sha256;
  Instant received_at{};
};

// A message to publish, written in the same transaction as the input that caused it, so that it
// is sent even if the process dies right after the commit (the relay sends what is pending).
struct OutboxMessage {
  std::int64_t id = 0;    // assigned by the store
  std::string key;        // unique, deterministic: a redelivered input gives the same key
  std::string input_key;  // the inbox entry that caused it
  std::string exchange;
  std::string routing_key;
  std::string properties_json;  // the AMQP properties and headers (amqp::properties_to_json)
  std::string body;
  Instant created_at{};
};

// The domain's state as the store keeps it (the lifecycle's aggregate in JSON, with the columns
// it is looked up by).
struct ApplicationRow {
  std::string application_id;
  std::string iin;
  int quota_year = 0;
  std::string region;
  domain::Stage stage{};
  std::string voucher_id;  // empty until issued
  std::string act_number;  // empty until the act
  // The calendar year of the voucher's issue (art. 3 (c): one voucher a person and year).
  std::optional<int> voucher_year;
  std::string state_json;
  // Optimistic concurrency: the version read (0: none, a new application). A write succeeds only
  // if the stored row is still at this version, and leaves it at version + 1; otherwise the whole
  // transaction fails and the input is decided again on what is there now (several instances).
  std::int64_t version = 0;
};

// Rules 380 art. 18: vouchers allocated to a region (its oblast) for a year of a period. A period
// total without a breakdown is shared by its years (audit point 4): a row for each year, all with
// the total, pool_start..pool_end set, and a unit reserved in any of those years counted in each.
struct QuotaAllocation {
  std::string region;
  int year = 0;
  std::int64_t allocated = 0;
  int pool_start = 0;  // 0: the year's own allocation
  int pool_end = 0;
  std::int64_t reserved = -1;  // the units reserved to write with it; -1 keeps those stored
};
// A unit of a region's allocation reserved (+1) or released (-1).
struct QuotaReservation {
  std::string region;
  int year = 0;
  int delta = 0;
};
// The AIS's unemployment register, as its UnemployedStatusChanged events say.
struct UnemploymentRecord {
  std::string iin;
  bool registered = false;
  std::string region;
  std::string since;  // YYYY-MM-DD
  Instant occurred_at{};
};

// A region's allocation for a year and the units reserved from it.
struct Quota {
  std::int64_t allocated = 0;
  std::int64_t reserved = 0;
  int pool_start = 0;  // a period total shared by its years; 0: the year's own
  int pool_end = 0;
};

// A durable timer: a row written in the same transaction as the state change that sets it. One
// timer of a kind per subject: setting it again moves it.
struct TimerRow {
  std::string kind;     // voucher_expiry, ...
  std::string subject;  // the application it is about
  Instant due{};
  std::string payload;  // JSON, what its firing needs; may be empty
};
// Removes a timer; with `due`, only if it is still the one due then (it was not moved since).
struct TimerCancel {
  std::string kind;
  std::string subject;
  std::optional<Instant> due;
};

// A statutory deadline of one application (domain::DeadlineRule), open until the application
// leaves the stages it covers.
struct DeadlineRow {
  std::string application_id;
  std::string step;
  std::string responsible;
  std::string basis;
  Instant started{};
  Instant due{};
  std::optional<Instant> warned;
  std::optional<Instant> breached;
  std::optional<Instant> closed;
};
struct DeadlineClose {
  std::string application_id;
  std::string step;
  Instant at{};
};
// A warning or breach sent for the deadline opened at `started` (not for a later one).
struct DeadlineMark {
  std::string application_id;
  std::string step;
  Instant started{};
  bool breached = false;  // else warned
  Instant at{};
};

// What an operator did to one dead letter (replays and purges are audited).
struct AuditRow {
  std::int64_t id = 0;  // assigned by the store
  Instant at{};
  std::string actor;        // the operator (the OS user, or --actor)
  std::string action;       // replay | purge
  std::string dead_letter;  // its id in `dlq list`
  std::string queue;        // the dead-letter queue
  std::string message_id;
  std::string outcome;  // replayed | purged | refused | failed
  std::string detail;
};

// State written in the same transaction as the input that changes it.
struct StateChanges {
  std::vector<ApplicationRow> applications;      // inserted or replaced
  std::vector<QuotaAllocation> allocations;      // replace the allocation of a region and year
  std::vector<QuotaReservation> reservations;    // never beyond the allocation, never below 0
  std::vector<UnemploymentRecord> unemployment;  // kept only if not older than what is known
  std::vector<TimerRow> timers;                  // set or moved
  std::vector<TimerCancel> cancelled_timers;
  std::vector<DeadlineClose> closed_deadlines;  // before the opened ones: a step may reopen
  std::vector<DeadlineRow> opened_deadlines;    // replace the step's row
  std::vector<DeadlineMark> marked_deadlines;
};

// What recording an input did.
struct Recorded {
  bool duplicate = false;             // the key was already in the inbox: nothing written
  std::vector<OutboxMessage> outbox;  // the rows written (ids assigned)
};

// The store's roles, each the interface of the part that needs it. Every method is one
// transaction; an error means nothing was written and the caller retries later (the store is
// busy, the disk is full or unavailable). Not thread-safe: one store per thread.

// The inputs and the messages they cause: the processor, the relay and the timer runner.
class InputLog {
 public:
  virtual ~InputLog() = default;
  // The inbox entry of an input, if it was recorded before.
  virtual Result<std::optional<InboxEntry>> find_input(const std::string& key) = 0;
  // Records an input and the messages it causes, atomically. A key already present is a
  // duplicate: nothing is written and `duplicate` is set.
  virtual Result<Recorded> record_input(const InboxEntry& entry,
                                        std::vector<OutboxMessage> outbox) = 0;
  // Records several inputs in one transaction (group commit: one disk flush for all); each is
  // recorded or found a duplicate as record_input would. All or nothing.
  struct Input {
    InboxEntry entry;
    std::vector<OutboxMessage> outbox;
    StateChanges changes;  // applied only if the input is not a duplicate
    // Archived (evidence.hpp) only if the input is not a duplicate, chained in the order given.
    std::vector<EvidenceRecord> evidence;
  };
  virtual Result<std::vector<Recorded>> record_inputs(std::vector<Input> inputs) = 0;
  // Outbox rows not yet confirmed by the broker, oldest first.
  virtual Result<std::vector<OutboxMessage>> pending_outbox(std::size_t limit) = 0;
  // The rows of one input that are not yet confirmed.
  virtual Result<std::vector<OutboxMessage>> pending_outbox_of(const std::string& input_key) = 0;
  // Marks rows as confirmed by the broker.
  virtual Result<void> mark_sent(const std::vector<std::int64_t>& ids, Instant at) = 0;
  // Sets a row aside that can never be published (the broker refuses it every time): kept, with
  // why, never sent again, counted by outbox_stats().parked.
  virtual Result<void> park_outbox(std::int64_t id, const std::string& reason, Instant at) = 0;
};

// The domain's state as the workflow reads it.
class StateReader {
 public:
  virtual ~StateReader() = default;
  virtual Result<std::optional<ApplicationRow>> find_application(
      const std::string& application_id) = 0;
  virtual Result<std::optional<ApplicationRow>> find_application_by_voucher(
      const std::string& voucher_id) = 0;
  // The applications an act covers (one act may list several persons, appendix 2).
  virtual Result<std::vector<ApplicationRow>> find_applications_by_act(
      const std::string& act_number) = 0;
  // A person's applications of a quota year that were not refused (in progress, or with a
  // voucher): what the automatic checks of art. 3 need.
  virtual Result<std::vector<ApplicationRow>> applications_of(const std::string& iin, int year) = 0;
  // A region's allocation for a year and the units reserved from it, if one is known.
  virtual Result<std::optional<Quota>> quota(const std::string& region, int year) = 0;
  virtual Result<std::optional<UnemploymentRecord>> unemployment(const std::string& iin) = 0;
  virtual Result<std::optional<DeadlineRow>> deadline(const std::string& application_id,
                                                      const std::string& step) = 0;
};

// The durable timers, as the timer runner finds them.
class TimerQueue {
 public:
  virtual ~TimerQueue() = default;
  // Timers due at `now` or before, earliest first (claimed for a while where the database is
  // shared, so that two instances never fire the same one).
  virtual Result<std::vector<TimerRow>> due_timers(Instant now, std::size_t limit) = 0;
  // The earliest time a timer is due, if any.
  virtual Result<std::optional<Instant>> next_timer_due() = 0;
};

// What operators ask: readiness, metrics, the audit, the deadlines.
class OperationsQueries {
 public:
  virtual ~OperationsQueries() = default;
  // A write is possible now (a lock taken and released), and where (the SQLite file, the
  // PostgreSQL host).
  virtual Result<std::string> ping() = 0;
  struct OutboxStats {
    std::int64_t pending = 0;
    std::optional<Instant> oldest;
    std::int64_t parked = 0;  // set aside: can never be published
  };
  // The unconfirmed outbox: how many, since when.
  virtual Result<OutboxStats> outbox_stats() = 0;
  struct TimerStats {
    std::int64_t pending = 0;
    std::int64_t overdue = 0;
  };
  // The timers: how many, how many due at `now`.
  virtual Result<TimerStats> timer_stats(Instant now) = 0;
  // Open deadlines, earliest due first; with `overdue_at`, only those due before it.
  virtual Result<std::vector<DeadlineRow>> open_deadlines(std::optional<Instant> overdue_at,
                                                          std::size_t limit) = 0;
  // The audit of operators' actions on dead letters, newest first.
  virtual Result<void> record_audit(const AuditRow& row) = 0;
  virtual Result<std::vector<AuditRow>> audit_log(std::size_t limit) = 0;
};

// The evidence archive as its commands read it (evidence.hpp; records are written with their
// input, InputLog::Input::evidence).
class EvidenceArchive {
 public:
  virtual ~EvidenceArchive() = default;
  // The chain's last record (0 and kEvidenceChainStart when empty).
  struct EvidenceHead {
    std::int64_t seq = 0;
    std::string record_sha256;
  };
  virtual Result<EvidenceHead> evidence_head() = 0;
  // `limit` records after `after_seq`, in chain order.
  virtual Result<std::vector<EvidenceRecord>> evidence_after(std::int64_t after_seq,
                                                             std::size_t limit) = 0;
  // The records an evidence id, message id or application id names, in chain order.
  virtual Result<std::vector<EvidenceRecord>> find_evidence(const std::string& id) = 0;
  // The first day before `before_day` (YYYY-MM-DD) that has records and comes after the last day
  // sealed; nothing when every such day is sealed. Seals are made in day order.
  virtual Result<std::optional<std::string>> next_unsealed_day(const std::string& before_day) = 0;
  // What a seal states of one day's records (seals not counted): how many, the first and the
  // last, and the last one's hash.
  struct EvidenceDay {
    std::int64_t records = 0;
    std::int64_t first_seq = 0;
    std::int64_t last_seq = 0;
    std::string last_sha256;
  };
  virtual Result<EvidenceDay> evidence_day(const std::string& day) = 0;
  // `limit` records of one day after `after_seq`, in chain order (an export reads a day in pages).
  virtual Result<std::vector<EvidenceRecord>> evidence_of_day(const std::string& day,
                                                              std::int64_t after_seq,
                                                              std::size_t limit) = 0;

  // What `evidence export` wrote of a day and verified in the file (a purge needs it).
  struct EvidenceExport {
    std::string day;
    std::int64_t records = 0;
    std::int64_t last_seq = 0;
    std::string last_sha256;
    std::string file_sha256;
    Instant exported_at{};
  };
  virtual Result<void> record_evidence_export(const EvidenceExport& exported) = 0;
  virtual Result<std::optional<EvidenceExport>> find_evidence_export(const std::string& day) = 0;
  // Where the chain starts: the last record purged (0 and kEvidenceChainStart when none).
  virtual Result<EvidenceHead> evidence_purged() = 0;
  // What purging before `before_day` would remove: the records after the last purged one up to
  // the last before the first record of `before_day` or a later day (records of days that cross
  // midnight are not split), and their days.
  struct EvidencePurge {
    std::int64_t first_seq = 0;
    std::int64_t last_seq = 0;  // 0: nothing to purge
    std::string last_sha256;
    std::vector<std::string> days;
  };
  virtual Result<EvidencePurge> plan_evidence_purge(const std::string& before_day) = 0;
  // Removes the records of `plan`, moves the chain's start to its last, and writes `audit`, in one
  // transaction; the records removed.
  virtual Result<std::int64_t> purge_evidence(const EvidencePurge& plan, const AuditRow& audit) = 0;
};

// The durable state of the adapter: every role, over one database.
class Store : public InputLog,
              public StateReader,
              public TimerQueue,
              public OperationsQueries,
              public EvidenceArchive {
 public:
  // A batch's reads, before anything of it is written, in one read transaction where the store
  // gains from it: they see the store as it was at the first of them. A write ends them.
  virtual void begin_reads() {}
  virtual void end_reads() {}
};

class SqlStore;

struct SqliteSettings {
  std::string path;
  std::chrono::milliseconds busy_timeout{5000};
  // SQLite's page cache of this connection. The store grows for as long as the adapter runs, and
  // each input inserts into indexes by random keys (message ids, IINs): with SQLite's default of
  // 2 MiB most of those pages were read from the file again for every input. A larger cache is
  // not faster: until it is full, each page it adds is memory allocated and touched for the
  // first time, and 64 MiB took some 6,000 documents to fill, each commit slower meanwhile
  // (issue 17: after a start, 64 MiB carried 2,566-3,312 accepted inputs a second against
  // 3,566-4,229 with 4 to 16 MiB, and a 50,000-applicant run was no faster with it).
  std::int64_t cache_mib = 16;
};

// Opens (creating if needed) the SQLite store and applies pending migrations.
Result<std::unique_ptr<SqlStore>> open_sqlite(const SqliteSettings& settings);

struct PostgresSettings {
  // postgresql://user[:password]@host:port[,host:port...]/database?options (libpq). With several
  // hosts, libpq tries them in turn and keeps the one that accepts writes
  // (target_session_attrs=read-write unless the URL says otherwise).
  std::string url;
  // One connection attempt to one host; one statement, on the server (statement_timeout) and,
  // with a margin, on the client, so that a hung server cannot hold the event loop.
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds statement_timeout{15000};
  // The server's notices and warnings (e.g. "terminating connection due to administrator
  // command"), one line each, for the daemon's logger; dropped when empty.
  std::function<void(const std::string&)> on_notice;
  // The URL without its password, for messages and logs.
  [[nodiscard]] std::string redacted() const;
};

// libpq's parse of a PostgreSQL URL and the adapter's rules on it: ports 1 to 65535, one port or
// one for each host, target_session_attrs one that finds a writable server. The error names what
// is wrong.
Result<void> check_postgres_url(const std::string& url);

// Connects to PostgreSQL and applies pending migrations (one instance at a time: an advisory
// lock). The same schema and semantics as SQLite; several daemons may share it.
Result<std::unique_ptr<SqlStore>> open_postgres(const PostgresSettings& settings);

// The store that `store.url` names: sqlite:PATH (PATH already resolved) or postgresql://...
// `postgres` gives the PostgreSQL settings but its url, which is `url`.
Result<std::unique_ptr<SqlStore>> open_store(const std::string& url, const SqliteSettings& sqlite,
                                             PostgresSettings postgres = {});
bool is_postgres_url(std::string_view url);

}  // namespace nqs::store
