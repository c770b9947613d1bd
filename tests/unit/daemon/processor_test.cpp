// The processor's ack contract, without a broker: deliveries go in, the store is a real SQLite
// file (with failures injected into its commits), and the publisher and the acknowledgements are
// fakes that record what the processor asked of them. An input is acknowledged only after its
// effects are committed and every message they caused is confirmed; a duplicate adds nothing; a
// reused id is a conflict; a lost race is decided again; a transient failure is held and tried
// again; one that keeps failing is dead-lettered; a crash between commit and confirm loses
// nothing.
#include "daemon/processor.hpp"

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>

#include "calendar_support.hpp"
#include "loop_support.hpp"
#include "store/sql_store.hpp"
#include "test_support.hpp"

namespace nqs::daemon {
namespace {

using namespace std::chrono_literals;

constexpr const char* kIin = "850101300124";

// An AIS event: the processor decides these on the event loop, without intake or signatures.
std::string unemployed(int event, const std::string& iin = kIin, bool registered = true) {
  return fmt::format(
      R"({{"eventId": "{}", "type": "UnemployedStatusChanged", "occurredAt": "2025-09-01T09:00:00+05:00",
           "payload": {{"iin": "{}", "registered": {}, "region": "750000000", "since": "2025-01-10"}}}})",
      fmt::format("e9000000-0000-4000-8000-{:012}", event), iin, registered);
}
constexpr const char* kNotJson = "{not json";

// Acknowledgements, recorded with what the store held at that moment.
class FakeAcks final : public DeliveryAcks {
 public:
  explicit FakeAcks(store::SqlStore& store) : store_(store) {}
  [[nodiscard]] std::uint64_t generation() const override { return generation_; }
  bool ack(const amqp::Delivery& delivery) override {
    if (delivery.generation != generation_) return false;
    acked.push_back(delivery.delivery_tag);
    auto inbox = store_.count_inbox("processed");
    auto rejected = store_.count_inbox("rejected");
    committed_at_ack.push_back(inbox.value() + rejected.value());
    return true;
  }
  bool reject(const amqp::Delivery& delivery) override {
    if (delivery.generation != generation_) return false;
    rejected_tags.push_back(delivery.delivery_tag);
    return true;
  }
  std::uint64_t generation_ = 1;
  std::vector<std::uint64_t> acked;
  std::vector<std::uint64_t> rejected_tags;
  std::vector<std::int64_t> committed_at_ack;  // inbox entries when each ack was given

 private:
  store::SqlStore& store_;
};

// The real store, whose next group commits fail as told (a fault a real SQLite file does not give
// on demand: another writer first, the disk busy, a statement that can never succeed).
class FaultyStore final : public store::Store {
 public:
  explicit FaultyStore(store::Store& store) : store_(store) {}
  std::vector<Failure> failures;  // one per commit, in order; then the store's own answer
  bool always_permanent = false;
  int commits = 0;

  Result<std::vector<store::Recorded>> record_inputs(std::vector<Input> inputs) override {
    ++commits;
    if (always_permanent) return make_error("the statement can never succeed", Failure::permanent);
    if (!failures.empty()) {
      const auto kind = failures.front();
      failures.erase(failures.begin());
      return make_error("injected failure", kind);
    }
    return store_.record_inputs(std::move(inputs));
  }
  Result<std::optional<store::InboxEntry>> find_input(const std::string& key) override {
    return store_.find_input(key);
  }
  Result<store::Recorded> record_input(const store::InboxEntry& entry,
                                       std::vector<store::OutboxMessage> outbox) override {
    return store_.record_input(entry, std::move(outbox));
  }
  Result<std::vector<store::OutboxMessage>> pending_outbox(std::size_t limit) override {
    return store_.pending_outbox(limit);
  }
  Result<std::vector<store::OutboxMessage>> pending_outbox_of(const std::string& key) override {
    return store_.pending_outbox_of(key);
  }
  Result<void> mark_sent(const std::vector<std::int64_t>& ids, Instant at) override {
    return store_.mark_sent(ids, at);
  }
  Result<void> park_outbox(std::int64_t id, const std::string& reason, Instant at) override {
    return store_.park_outbox(id, reason, at);
  }
  Result<std::optional<store::ApplicationRow>> find_application(const std::string& id) override {
    return store_.find_application(id);
  }
  Result<std::optional<store::ApplicationRow>> find_application_by_voucher(
      const std::string& id) override {
    return store_.find_application_by_voucher(id);
  }
  Result<std::vector<store::ApplicationRow>> find_applications_by_act(
      const std::string& act) override {
    return store_.find_applications_by_act(act);
  }
  Result<std::vector<store::ApplicationRow>> applications_of(const std::string& iin,
                                                             int year) override {
    return store_.applications_of(iin, year);
  }
  Result<std::optional<store::Quota>> quota(const std::string& region, int year) override {
    return store_.quota(region, year);
  }
  Result<std::vector<store::TimerRow>> due_timers(Instant now, std::size_t limit) override {
    return store_.due_timers(now, limit);
  }
  Result<std::optional<Instant>> next_timer_due() override { return store_.next_timer_due(); }
  Result<std::optional<store::DeadlineRow>> deadline(const std::string& id,
                                                     const std::string& step) override {
    return store_.deadline(id, step);
  }
  Result<std::vector<store::DeadlineRow>> open_deadlines(std::optional<Instant> overdue_at,
                                                         std::size_t limit) override {
    return store_.open_deadlines(overdue_at, limit);
  }
  Result<std::optional<store::UnemploymentRecord>> unemployment(const std::string& iin) override {
    return store_.unemployment(iin);
  }
  Result<void> record_audit(const store::AuditRow& row) override {
    return store_.record_audit(row);
  }
  Result<std::vector<store::AuditRow>> audit_log(std::size_t limit) override {
    return store_.audit_log(limit);
  }
  Result<std::string> ping() override { return store_.ping(); }
  Result<OutboxStats> outbox_stats() override { return store_.outbox_stats(); }
  Result<TimerStats> timer_stats(Instant now) override { return store_.timer_stats(now); }
  Result<EvidenceHead> evidence_head() override { return store_.evidence_head(); }
  Result<std::vector<store::EvidenceRecord>> evidence_after(std::int64_t after_seq,
                                                            std::size_t limit) override {
    return store_.evidence_after(after_seq, limit);
  }
  Result<std::vector<store::EvidenceRecord>> find_evidence(const std::string& id) override {
    return store_.find_evidence(id);
  }
  Result<std::optional<std::string>> next_unsealed_day(const std::string& before_day) override {
    return store_.next_unsealed_day(before_day);
  }
  Result<EvidenceDay> evidence_day(const std::string& day) override {
    return store_.evidence_day(day);
  }
  Result<std::vector<store::EvidenceRecord>> evidence_of_day(const std::string& day,
                                                             std::int64_t after_seq,
                                                             std::size_t limit) override {
    return store_.evidence_of_day(day, after_seq, limit);
  }
  Result<void> record_evidence_export(const EvidenceExport& exported) override {
    return store_.record_evidence_export(exported);
  }
  Result<std::optional<EvidenceExport>> find_evidence_export(const std::string& day) override {
    return store_.find_evidence_export(day);
  }
  Result<EvidenceHead> evidence_purged() override { return store_.evidence_purged(); }
  Result<EvidencePurge> plan_evidence_purge(const std::string& before_day) override {
    return store_.plan_evidence_purge(before_day);
  }
  Result<std::int64_t> purge_evidence(const EvidencePurge& plan,
                                      const store::AuditRow& audit) override {
    return store_.purge_evidence(plan, audit);
  }

 private:
  store::Store& store_;
};

class ProcessorContract : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_sqlite({(dir_.path() / "store.sqlite").string()});
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    sqlite_ = std::move(opened).value();
    store_ = std::make_unique<FaultyStore>(*sqlite_);
    acks_ = std::make_unique<FakeAcks>(*sqlite_);
    // AIS events of these kinds compose no notification: no signer is needed.
    workflow_ = std::make_unique<workflow::Workflow>(
        test::almaty_calendar(), domain::MciTable{{2025, 3932}}, nullptr, amqp::Names{});
    start();
  }

  // A processor over the same store, as after a restart.
  void start() {
    processor_ =
        std::make_unique<Processor>(io_, workers_, nullptr, *workflow_, *store_, publisher_, *acks_,
                                    clock_, names_, RetrySettings{1ms, 4ms, 3});
  }

  void deliver(const std::string& body, std::uint64_t tag, bool redelivered = false) {
    amqp::Delivery delivery;
    delivery.delivery_tag = tag;
    delivery.generation = acks_->generation_;
    delivery.queue = names_.ais_events;
    delivery.redelivered = redelivered;
    delivery.properties.content_type = "application/json";
    delivery.body = body;
    processor_->on_delivery(std::move(delivery));
  }

  bool run_until(const std::function<bool()>& done) { return test::run_until(io_, done); }
  // Runs everything that is ready now.
  void drain() { test::drain(io_); }

  void confirm_all() {
    for (const auto& row : publisher_.submitted)
      processor_->on_sent(row);
  }

  std::int64_t inbox(const std::string& outcome) { return sqlite_->count_inbox(outcome).value(); }

  static std::string reason_of(const store::OutboxMessage& row) {
    const auto at = row.properties_json.find("x-nqs-reason");
    if (at == std::string::npos) return "";
    const auto start = row.properties_json.find('"', row.properties_json.find(':', at)) + 1;
    return row.properties_json.substr(start, row.properties_json.find('"', start) - start);
  }

  test::TempDir dir_;
  boost::asio::io_context io_;
  Workers workers_{io_, 1};
  test::FixedClock clock_{*parse_instant("2025-09-01T10:00:00Z")};
  amqp::Names names_;
  std::unique_ptr<store::SqlStore> sqlite_;
  std::unique_ptr<FaultyStore> store_;
  std::unique_ptr<FakeAcks> acks_;
  test::KeptRows publisher_;
  std::unique_ptr<workflow::Workflow> workflow_;
  std::unique_ptr<Processor> processor_;
};

TEST_F(ProcessorContract, AnInputWithNoMessagesIsAcknowledgedOnceCommitted) {
  deliver(unemployed(1), 1);
  ASSERT_TRUE(run_until([&] { return !acks_->acked.empty(); }));
  EXPECT_EQ(acks_->acked, std::vector<std::uint64_t>{1});
  EXPECT_EQ(acks_->committed_at_ack, std::vector<std::int64_t>{1}) << "acknowledged before commit";
  EXPECT_TRUE(publisher_.submitted.empty());
  EXPECT_TRUE(sqlite_->unemployment(kIin).value()->registered);
  EXPECT_EQ(processor_->counters().processed, 1U);
  EXPECT_EQ(processor_->in_progress(), 0U);
}

TEST_F(ProcessorContract, AnInputIsAcknowledgedOnlyOnceItsMessagesAreConfirmed) {
  deliver(kNotJson, 7);
  ASSERT_TRUE(run_until([&] { return !publisher_.submitted.empty(); }));
  drain();
  // Committed (the inbox and its dead letter in one transaction), sent, not yet confirmed.
  EXPECT_EQ(inbox("rejected"), 1);
  ASSERT_EQ(publisher_.submitted.size(), 1U);
  EXPECT_EQ(reason_of(publisher_.submitted[0]), "json.invalid");
  EXPECT_EQ(publisher_.submitted[0].body, kNotJson) << "the dead letter is the message as it came";
  EXPECT_TRUE(acks_->acked.empty()) << "acknowledged before the broker confirmed its dead letter";
  EXPECT_EQ(processor_->in_progress(), 1U);

  confirm_all();
  EXPECT_EQ(acks_->acked, std::vector<std::uint64_t>{7});
  EXPECT_EQ(processor_->counters().rejected, 1U);
  EXPECT_EQ(processor_->in_progress(), 0U);
}

TEST_F(ProcessorContract, ADuplicateIsAcknowledgedWithNoNewEffect) {
  deliver(unemployed(1), 1);
  ASSERT_TRUE(run_until([&] { return acks_->acked.size() == 1; }));
  deliver(unemployed(1), 2);
  ASSERT_TRUE(run_until([&] { return acks_->acked.size() == 2; }));
  EXPECT_EQ(processor_->counters().duplicates, 1U);
  EXPECT_EQ(processor_->counters().processed, 1U);
  EXPECT_EQ(inbox("processed"), 1);
  EXPECT_TRUE(publisher_.submitted.empty());
}

TEST_F(ProcessorContract, ARedeliveryWaitsForTheMessagesOfTheFirstCopy) {
  deliver(kNotJson, 1);
  ASSERT_TRUE(run_until([&] { return publisher_.submitted.size() == 1; }));
  // The broker delivers it again (the first copy's connection is still up): the same attempt.
  deliver(kNotJson, 2, true);
  ASSERT_TRUE(run_until([&] { return processor_->counters().duplicates == 1; }));
  drain();
  EXPECT_TRUE(acks_->acked.empty());
  EXPECT_EQ(inbox("rejected"), 1) << "a redelivery is not a second dead letter";
  processor_->on_sent(publisher_.submitted[0]);
  EXPECT_EQ(acks_->acked, (std::vector<std::uint64_t>{1, 2}));
}

TEST_F(ProcessorContract, AnIdReusedWithOtherContentIsDeadLetteredAsAConflict) {
  deliver(unemployed(1), 1);
  ASSERT_TRUE(run_until([&] { return acks_->acked.size() == 1; }));
  deliver(unemployed(1, kIin, false), 2);
  ASSERT_TRUE(run_until([&] { return publisher_.submitted.size() == 1; }));
  EXPECT_EQ(processor_->counters().conflicts, 1U);
  EXPECT_EQ(reason_of(publisher_.submitted[0]), "domain.inconsistent");
  EXPECT_TRUE(sqlite_->unemployment(kIin).value()->registered) << "the second body was applied";
  confirm_all();
  EXPECT_EQ(acks_->acked, (std::vector<std::uint64_t>{1, 2}));
}

TEST_F(ProcessorContract, ACommitThatLostToAnotherWriterIsDecidedAgain) {
  store_->failures = {Failure::conflict};
  deliver(unemployed(1), 1);
  ASSERT_TRUE(run_until([&] { return !acks_->acked.empty(); }));
  EXPECT_EQ(store_->commits, 2);
  EXPECT_EQ(processor_->counters().decided_again, 1U);
  EXPECT_EQ(processor_->counters().processed, 1U);
  EXPECT_TRUE(publisher_.submitted.empty());
}

TEST_F(ProcessorContract, ATransientFailureHoldsTheInputAndTriesItAgain) {
  store_->failures = {Failure::transient, Failure::transient};
  deliver(unemployed(1), 1);
  ASSERT_TRUE(run_until([&] { return !acks_->acked.empty(); }));
  EXPECT_EQ(store_->commits, 3);
  EXPECT_EQ(processor_->counters().transient_failures, 2U);
  EXPECT_EQ(processor_->counters().processed, 1U);
  EXPECT_EQ(acks_->committed_at_ack, std::vector<std::int64_t>{1});
}

TEST_F(ProcessorContract, AFailureThatCannotPassIsDeadLetteredAsProcessingFailed) {
  store_->always_permanent = true;
  deliver(unemployed(1), 1);
  ASSERT_TRUE(run_until([&] { return !publisher_.submitted.empty(); }));
  EXPECT_EQ(reason_of(publisher_.submitted[0]), "processing.failed");
  EXPECT_EQ(processor_->counters().failed, 1U);
  EXPECT_FALSE(sqlite_->unemployment(kIin).value().has_value()) << "its effects were committed";
  EXPECT_TRUE(acks_->acked.empty());
  confirm_all();
  EXPECT_EQ(acks_->acked, std::vector<std::uint64_t>{1});
}

TEST_F(ProcessorContract, ACrashBetweenCommitAndConfirmLosesNothing) {
  deliver(kNotJson, 1);
  ASSERT_TRUE(run_until([&] { return publisher_.submitted.size() == 1; }));
  const auto first = publisher_.submitted[0];
  // The process dies before the confirm: a new processor, a new connection, the broker delivers
  // the unacknowledged input again.
  processor_.reset();
  publisher_.submitted.clear();
  ++acks_->generation_;
  start();
  deliver(kNotJson, 1, true);
  ASSERT_TRUE(run_until([&] { return publisher_.submitted.size() == 1; }));
  drain();
  EXPECT_EQ(publisher_.submitted[0].id, first.id) << "the committed dead letter is sent again";
  EXPECT_EQ(inbox("rejected"), 1);
  EXPECT_TRUE(acks_->acked.empty());
  confirm_all();
  EXPECT_EQ(acks_->acked, std::vector<std::uint64_t>{1});
}

TEST_F(ProcessorContract, ADeliveryWhoseBodyWasNotReadIsRejectedToTheBrokersDeadLetters) {
  // Over its queue's limit, its body was dropped as it came (amqp::Connection): nothing of it can
  // be decided or carried, so the broker dead-letters it as it has it. Inputs around it go on.
  deliver(unemployed(1), 1);
  amqp::Delivery unread;
  unread.delivery_tag = 2;
  unread.generation = acks_->generation_;
  unread.queue = names_.ais_events;
  unread.unread_body_bytes = 300 * 1024;
  processor_->on_delivery(std::move(unread));
  deliver(unemployed(3, "900515401230"), 3);
  ASSERT_TRUE(run_until([&] { return acks_->acked.size() == 2; }));
  drain();
  EXPECT_EQ(acks_->rejected_tags, std::vector<std::uint64_t>{2});
  EXPECT_EQ(acks_->acked, (std::vector<std::uint64_t>{1, 3}));
  EXPECT_TRUE(publisher_.submitted.empty()) << "no dead letter of the adapter's own: no bytes";
  EXPECT_EQ(inbox("rejected"), 0);
  EXPECT_EQ(inbox("processed"), 2);
  EXPECT_EQ(processor_->counters().rejected, 1U);
  EXPECT_EQ(processor_->in_progress(), 0U);
}

TEST_F(ProcessorContract, ADeliveryOfALostConnectionIsLeftToTheBroker) {
  deliver(unemployed(1), 1);
  ++acks_->generation_;
  processor_->on_disconnected();
  drain();
  EXPECT_EQ(inbox("processed"), 0) << "decided for a connection that is gone";
  EXPECT_TRUE(acks_->acked.empty());
}

}  // namespace
}  // namespace nqs::daemon
