#pragma once

#include <memory>

#include "store/sql_driver.hpp"
#include "store/store.hpp"

namespace nqs::store {

// The store, once: every statement and every rule of it (an input recorded once, cancellations
// before the timers they make room for, the version check, an older register event never
// overwriting a newer one), over a driver that speaks SQLite or PostgreSQL.
class SqlStore final : public Store {
 public:
  explicit SqlStore(std::unique_ptr<SqlDriver> driver) : driver_(std::move(driver)) {}

  // Applies the migrations this build knows and the database has not seen, each in its own
  // transaction with its version row; refuses a database newer than this build.
  Result<void> migrate();

  // Input log (sql_inputs.cpp).
  Result<std::optional<InboxEntry>> find_input(const std::string& key) override;
  Result<Recorded> record_input(const InboxEntry& entry,
                                std::vector<OutboxMessage> outbox) override;
  Result<std::vector<Recorded>> record_inputs(std::vector<Input> inputs) override;
  Result<std::vector<OutboxMessage>> pending_outbox(std::size_t limit) override;
  Result<std::vector<OutboxMessage>> pending_outbox_of(const std::string& input_key) override;
  Result<void> mark_sent(const std::vector<std::int64_t>& ids, Instant at) override;
  Result<void> park_outbox(std::int64_t id, const std::string& reason, Instant at) override;

  // Evidence archive (sql_evidence.cpp).
  Result<EvidenceHead> evidence_head() override;
  Result<std::vector<EvidenceRecord>> evidence_after(std::int64_t after_seq,
                                                     std::size_t limit) override;
  Result<std::vector<EvidenceRecord>> find_evidence(const std::string& id) override;
  Result<std::optional<std::string>> next_unsealed_day(const std::string& before_day) override;
  Result<EvidenceDay> evidence_day(const std::string& day) override;
  Result<std::vector<EvidenceRecord>> evidence_of_day(const std::string& day,
                                                      std::int64_t after_seq,
                                                      std::size_t limit) override;
  Result<void> record_evidence_export(const EvidenceExport& exported) override;
  Result<std::optional<EvidenceExport>> find_evidence_export(const std::string& day) override;
  Result<EvidenceHead> evidence_purged() override;
  Result<EvidencePurge> plan_evidence_purge(const std::string& before_day) override;
  Result<std::int64_t> purge_evidence(const EvidencePurge& plan, const AuditRow& audit) override;

  // State (sql_state.cpp).
  Result<std::optional<ApplicationRow>> find_application(const std::string& id) override;
  Result<std::optional<ApplicationRow>> find_application_by_voucher(
      const std::string& voucher_id) override;
  Result<std::vector<ApplicationRow>> find_applications_by_act(
      const std::string& act_number) override;
  Result<std::vector<ApplicationRow>> applications_of(const std::string& iin, int year) override;
  Result<std::optional<Quota>> quota(const std::string& region, int year) override;
  Result<std::vector<TimerRow>> due_timers(Instant now, std::size_t limit) override;
  Result<std::optional<Instant>> next_timer_due() override;
  Result<std::optional<DeadlineRow>> deadline(const std::string& application_id,
                                              const std::string& step) override;
  Result<std::vector<DeadlineRow>> open_deadlines(std::optional<Instant> overdue_at,
                                                  std::size_t limit) override;
  Result<std::optional<UnemploymentRecord>> unemployment(const std::string& iin) override;

  // Operations (sql_inputs.cpp).
  Result<void> record_audit(const AuditRow& row) override;
  Result<std::vector<AuditRow>> audit_log(std::size_t limit) override;
  Result<std::string> ping() override { return driver_->ping(); }
  void begin_reads() override { driver_->begin_reads(); }
  void end_reads() override { driver_->end_reads(); }
  Result<OutboxStats> outbox_stats() override;
  Result<TimerStats> timer_stats(Instant now) override;

  // For tests and inspection, not part of any role: counts, a subject's timers, units left.
  Result<std::int64_t> count_inbox(const std::string& outcome);
  Result<std::int64_t> count_pending_outbox();
  Result<int> schema_version();
  Result<std::vector<TimerRow>> timers_of(const std::string& subject);
  // The statement next_timer_due runs after every commit that wrote a timer; tests ask the
  // database how it would answer it (by indexes, never by reading every timer).
  static const char* const kNextTimerDue;
  // Units left in a region's allocation for a year; 0 when no allocation is known.
  Result<std::int64_t> quota_left(const std::string& region, int year);

 private:
  // Appends records to the chain in the open transaction: numbered after the head, linked,
  // hashed; the head moves to the last.
  Result<void> append_evidence(std::span<EvidenceRecord*> records);
  Result<Recorded> record_in_transaction(const InboxEntry& entry,
                                         std::vector<OutboxMessage> outbox);
  // Writes the state an input changes, inside its transaction (sql_state.cpp).
  Result<void> apply(const StateChanges& changes);
  Result<void> apply_applications(const std::vector<ApplicationRow>& rows);
  Result<void> apply_quota(const StateChanges& changes);
  Result<void> apply_deadlines(const StateChanges& changes);
  Result<void> apply_timers(const StateChanges& changes);
  Result<std::vector<ApplicationRow>> applications_where(std::string_view condition,
                                                         const SqlParams& params);
  Result<void> migrate_from(int current);

  std::unique_ptr<SqlDriver> driver_;
};

}  // namespace nqs::store
