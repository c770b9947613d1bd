// The contract of store::Store, run against each backend: SQLite on real files
// (sqlite_store_test.cpp) and PostgreSQL on a real server (tests/pg/pg_store_test.cpp).
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "common/ids.hpp"
#include "store/sql_store.hpp"
#include "store/store.hpp"
#include "test_support.hpp"

namespace nqs::store {

// A backend for the contract: `make` gives a fresh, empty store; `open` opens it (again).
struct StoreBackend {
  std::string name;
  std::function<std::function<std::unique_ptr<SqlStore>()>()> make;
};

inline void PrintTo(const StoreBackend& backend, std::ostream* out) {
  *out << backend.name;
}

class StoreContract : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override { open_ = GetParam().make(); }
  std::unique_ptr<SqlStore> open() { return open_(); }

 private:
  std::function<std::unique_ptr<SqlStore>()> open_;
};

namespace contract {

inline Instant at(const char* text) {
  const auto parsed = parse_instant(text);
  if (!parsed) throw std::invalid_argument(std::string("not an instant: ") + text);
  return *parsed;
}

inline InboxEntry entry(const std::string& key, InputOutcome outcome = InputOutcome::processed) {
  InboxEntry e;
  e.key = key;
  e.source = "nqs.gov.in";
  e.outcome = outcome;
  e.document_type = "VoucherApplication";
  e.body_sha256 = std::string(64, 'a');
  e.received_at = at("2025-09-01T10:00:00Z");
  return e;
}

inline OutboxMessage message(const std::string& id) {
  OutboxMessage m;
  m.key = id;
  m.exchange = "ais.commands";
  m.routing_key = "RegisterApplication";
  m.properties_json = "{\"message_id\":\"" + id + "\",\"headers\":{\"x-nqs-input\":\"k\"}}";
  m.body = std::string("{\"x\":1}\0binary", 14);
  m.created_at = at("2025-09-01T10:00:01Z");
  return m;
}

// --- the domain's state
// ---------------------------------------------------------------------------

inline Store::Input with_changes(const std::string& key, StateChanges changes) {
  return Store::Input{entry(key), {}, std::move(changes), {}};
}

inline ApplicationRow application(const std::string& id, const std::string& stage,
                                  const std::string& voucher = "", const std::string& act = "",
                                  std::int64_t version = 0,
                                  const std::string& iin = "850101300124") {
  // A voucher's year of issue is 2025 in these rows whenever there is a voucher.
  const std::optional<int> voucher_year = voucher.empty() ? std::nullopt : std::optional<int>(2025);
  return ApplicationRow{id,
                        iin,
                        2025,
                        "750000000",
                        domain::stage_named(stage).value(),
                        voucher,
                        act,
                        voucher_year,
                        "{\"stage\":\"" + stage + "\"}",
                        version};
}

// A signed message as the archive keeps it; the body has a NUL byte and bytes that are not UTF-8.
inline EvidenceRecord evidence(const std::string& id, const std::string& input_key) {
  EvidenceRecord record;
  record.evidence_id = "received:" + id;
  record.day = "2025-09-01";
  record.direction = "received";
  record.outcome = "accepted";
  record.input_key = input_key;
  record.message_id = id;
  record.document_type = "VoucherApplication";
  record.application_id = "app-" + id;
  record.signer_json = R"({"iin":"850101300124","serial":"01"})";
  record.chain_pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
  record.revocation_json = R"({"crl":{"number":"7"}})";
  record.verified_at = at("2025-09-01T10:00:00.250Z");
  record.caused = {"command:" + id, "notification:" + id};
  record.body = std::string("<signed>\0\xFF", 10) + id + "</signed>";
  return record;
}

inline Result<std::vector<Recorded>> record(Store& store, Store::Input input) {
  std::vector<Store::Input> inputs;
  inputs.push_back(std::move(input));
  return store.record_inputs(std::move(inputs));
}

// Three records in two inputs: two of 2025-09-01, then one of `second_day`.
inline void archive_days(Store& store, const std::string& second_day) {
  auto of_day = [](const std::string& id, const std::string& day) {
    auto record = evidence(id, id);
    record.day = day;
    return record;
  };
  auto first = with_changes("m-1", {});
  first.evidence = {of_day("m-1", "2025-09-01"), of_day("n-1", "2025-09-01")};
  auto second = with_changes("m-2", {});
  second.evidence = {of_day("m-2", second_day)};
  ASSERT_TRUE(record(store, std::move(first)).has_value());
  ASSERT_TRUE(record(store, std::move(second)).has_value());
}

}  // namespace contract

using namespace contract;

TEST_P(StoreContract, RecordsAnInputWithItsOutboxInOneTransaction) {
  auto store = open();
  EXPECT_EQ(store->schema_version().value(), 14);
  auto recorded = store->record_input(entry("m-1"), {message("c-1"), message("c-2")});
  ASSERT_TRUE(recorded.has_value()) << recorded.error().message;
  EXPECT_FALSE(recorded.value().duplicate);
  ASSERT_EQ(recorded.value().outbox.size(), 2U);
  EXPECT_GT(recorded.value().outbox[1].id, recorded.value().outbox[0].id);
  EXPECT_EQ(recorded.value().outbox[0].input_key, "m-1");

  auto found = store->find_input("m-1").value();
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->outcome, InputOutcome::processed);
  EXPECT_EQ(found->received_at, at("2025-09-01T10:00:00Z"));
  EXPECT_FALSE(store->find_input("m-2").value().has_value());

  auto pending = store->pending_outbox(10).value();
  ASSERT_EQ(pending.size(), 2U);
  EXPECT_EQ(pending[0].key, "c-1");
  EXPECT_EQ(pending[0].body, std::string("{\"x\":1}\0binary", 14)) << "bodies are bytes";
  EXPECT_EQ(pending[0].properties_json,
            "{\"message_id\":\"c-1\",\"headers\":{\"x-nqs-input\":\"k\"}}");
}

TEST_P(StoreContract, ADuplicateKeyWritesNothing) {
  auto store = open();
  ASSERT_TRUE(store->record_input(entry("m-1"), {message("c-1")}).has_value());
  auto again = store->record_input(entry("m-1", InputOutcome::rejected), {message("c-9")});
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again.value().duplicate);
  EXPECT_TRUE(again.value().outbox.empty());
  EXPECT_EQ(store->find_input("m-1").value()->outcome, InputOutcome::processed);
  EXPECT_EQ(store->count_pending_outbox().value(), 1);
  EXPECT_EQ(store->count_inbox("rejected").value(), 0);
}

TEST_P(StoreContract, AFailingOutboxRowRollsTheWholeInputBack) {
  auto store = open();
  ASSERT_TRUE(store->record_input(entry("m-1"), {message("c-1")}).has_value());
  // A second input whose command id collides: nothing of it may remain.
  auto failed = store->record_input(entry("m-2"), {message("c-2"), message("c-1")});
  ASSERT_FALSE(failed.has_value());
  EXPECT_THAT(failed.error().message, ::testing::HasSubstr("writing the outbox"));
  EXPECT_FALSE(store->find_input("m-2").value().has_value());
  EXPECT_EQ(store->count_pending_outbox().value(), 1);
  // And the store is usable after the rollback.
  EXPECT_TRUE(store->record_input(entry("m-3"), {message("c-3")}).has_value());
}

TEST_P(StoreContract, SentRowsLeaveThePendingList) {
  auto store = open();
  auto rows = store->record_input(entry("m-1"), {message("c-1"), message("c-2")}).value().outbox;
  ASSERT_TRUE(store->mark_sent({rows[0].id}, at("2025-09-01T10:00:02Z")).has_value());
  auto pending = store->pending_outbox(10).value();
  ASSERT_EQ(pending.size(), 1U);
  EXPECT_EQ(pending[0].key, "c-2");
  EXPECT_EQ(pending[0].body, message("c-2").body) << "the body, with its NUL, from its own table";
  EXPECT_EQ(pending[0].properties_json, message("c-2").properties_json);
  EXPECT_TRUE(store->mark_sent({}, at("2025-09-01T10:00:03Z")).has_value());
  EXPECT_EQ(store->pending_outbox(1).value().size(), 1U);
}

TEST_P(StoreContract, ManyRowsConfirmedTogetherAreAllMarkedSent) {
  auto store = open();
  std::vector<OutboxMessage> messages;
  for (int i = 0; i < 40; ++i)
    messages.push_back(message(fmt::format("c-{}", i)));
  auto rows = store->record_input(entry("m-1"), messages).value().outbox;
  std::vector<std::int64_t> ids;
  for (std::size_t i = 0; i + 1 < rows.size(); ++i)
    ids.push_back(rows[i].id);
  ASSERT_TRUE(store->mark_sent(ids, at("2025-09-01T10:00:02Z")).has_value());
  auto pending = store->pending_outbox(100).value();
  ASSERT_EQ(pending.size(), 1U);
  EXPECT_EQ(pending[0].key, "c-39");
  // The same confirms again (a redelivered confirm) change nothing.
  ASSERT_TRUE(store->mark_sent(ids, at("2025-09-01T10:00:03Z")).has_value());
  EXPECT_EQ(store->count_pending_outbox().value(), 1);
}

TEST_P(StoreContract, AParkedRowIsKeptCountedAndNeverPendingAgain) {
  auto store = open();
  auto rows = store->record_input(entry("m-1"), {message("c-1"), message("c-2")}).value().outbox;
  ASSERT_TRUE(store->park_outbox(rows[0].id, "refused", at("2025-09-01T10:00:02Z")).has_value());
  auto pending = store->pending_outbox(10).value();
  ASSERT_EQ(pending.size(), 1U);
  EXPECT_EQ(pending[0].key, "c-2");
  EXPECT_EQ(store->pending_outbox_of("m-1").value().size(), 1U);
  auto stats = store->outbox_stats().value();
  EXPECT_EQ(stats.pending, 1);
  EXPECT_EQ(stats.parked, 1);
  // Parking a row already sent changes nothing: what went out is not set aside.
  ASSERT_TRUE(store->mark_sent({rows[1].id}, at("2025-09-01T10:00:03Z")).has_value());
  ASSERT_TRUE(store->park_outbox(rows[1].id, "late", at("2025-09-01T10:00:04Z")).has_value());
  stats = store->outbox_stats().value();
  EXPECT_EQ(stats.pending, 0);
  EXPECT_EQ(stats.parked, 1);
}

TEST_P(StoreContract, CommittedDataSurvivesReopening) {
  {
    auto store = open();
    ASSERT_TRUE(
        store->record_input(entry("m-1", InputOutcome::rejected), {message("d-1")}).has_value());
  }
  auto reopened = open();
  EXPECT_EQ(reopened->schema_version().value(), 14) << "migrations are applied once";
  EXPECT_EQ(reopened->count_inbox("rejected").value(), 1);
  EXPECT_EQ(reopened->count_pending_outbox().value(), 1);
}

TEST_P(StoreContract, ApplicationsAreFoundByIdVoucherActAndPerson) {
  auto store = open();
  StateChanges changes;
  changes.applications = {application("a-1", "with_career_center")};
  ASSERT_TRUE(record(*store, with_changes("m-1", changes)).has_value());
  changes.applications = {application("a-1", "voucher_active", "v-1", "", 1)};
  ASSERT_TRUE(record(*store, with_changes("m-2", changes)).has_value());
  auto found = store->find_application("a-1").value();
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->stage, domain::Stage::voucher_active);
  EXPECT_EQ(found->state_json, "{\"stage\":\"voucher_active\"}");
  EXPECT_EQ(store->find_application_by_voucher("v-1").value()->application_id, "a-1");
  EXPECT_TRUE(store->find_applications_by_act("act-1").value().empty());
  // One act may cover several persons (appendix 2).
  StateChanges act;
  act.applications = {application("a-1", "act_received", "v-1", "act-1", 2),
                      application("a-9", "act_received", "v-9", "act-1", 0, "900515401230")};
  ASSERT_TRUE(record(*store, with_changes("m-act", act)).has_value());
  const auto covered = store->find_applications_by_act("act-1").value();
  ASSERT_EQ(covered.size(), 2U);
  EXPECT_EQ(covered[0].application_id, "a-1");
  EXPECT_EQ(covered[1].application_id, "a-9");
  EXPECT_EQ(store->applications_of("850101300124", 2025).value().size(), 1U);
  EXPECT_TRUE(store->applications_of("850101300124", 2026).value().empty());
  // Refused applications are left out (a person may have any number of them).
  changes.applications = {application("a-2", "refused_automatic")};
  ASSERT_TRUE(record(*store, with_changes("m-3", changes)).has_value());
  EXPECT_EQ(store->applications_of("850101300124", 2025).value().size(), 1U);
}

TEST_P(StoreContract, TheQuotaCannotBeOverReservedWhateverTheOrder) {
  auto store = open();
  EXPECT_EQ(store->quota_left("750000000", 2025).value(), 0) << "no allocation known";
  StateChanges allocate;
  allocate.allocations = {{"750000000", 2025, 2, 0, 0, -1}};
  ASSERT_TRUE(record(*store, with_changes("quota", allocate)).has_value());
  EXPECT_EQ(store->quota_left("750000000", 2025).value(), 2);
  StateChanges reserve;
  reserve.reservations = {{"750000000", 2025, +1}};
  reserve.applications = {application("a-1", "with_career_center")};
  ASSERT_TRUE(record(*store, with_changes("m-1", reserve)).has_value());
  reserve.applications = {application("a-2", "with_career_center", "", "", 0, "900515401230")};
  ASSERT_TRUE(record(*store, with_changes("m-2", reserve)).has_value());
  EXPECT_EQ(store->quota_left("750000000", 2025).value(), 0);
  // A third taking the last unit fails whole: no application, no inbox entry.
  reserve.applications = {application("a-3", "with_career_center", "", "", 0, "011231500018")};
  auto refused = record(*store, with_changes("m-3", reserve));
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused.error().message,
              ::testing::HasSubstr("reserving 1 of region 750000000 for 2025"));
  EXPECT_FALSE(store->find_application("a-3").value().has_value());
  EXPECT_FALSE(store->find_input("m-3").value().has_value());
  // A release makes room again; a region without an allocation has nothing to reserve.
  StateChanges release;
  release.reservations = {{"750000000", 2025, -1}};
  ASSERT_TRUE(record(*store, with_changes("m-4", release)).has_value());
  EXPECT_EQ(store->quota_left("750000000", 2025).value(), 1);
  StateChanges elsewhere;
  elsewhere.reservations = {{"190000000", 2025, +1}};
  auto none = record(*store, with_changes("m-5", elsewhere));
  ASSERT_FALSE(none.has_value());
  EXPECT_THAT(none.error().message,
              ::testing::HasSubstr("region 190000000 has no allocation for 2025"));
  // An allocation below what is reserved is refused.
  allocate.allocations = {{"750000000", 2025, 0, 0, 0, -1}};
  EXPECT_FALSE(record(*store, with_changes("quota-2", allocate)).has_value());
}

TEST_P(StoreContract, APeriodTotalIsSharedByItsYearsAndItsLastUnitTakenOnce) {
  // Audit point 4: 2 vouchers for 2025-2027 without a breakdown.
  auto store = open();
  StateChanges allocate;
  for (const int year : {2025, 2026, 2027})
    allocate.allocations.push_back({"750000000", year, 2, 2025, 2027, 0});
  allocate.allocations.push_back({"190000000", 2026, 4, 0, 0, -1});  // a year's own beside it
  ASSERT_TRUE(record(*store, with_changes("quota", allocate)).has_value());
  auto quota = store->quota("750000000", 2026).value();
  ASSERT_TRUE(quota.has_value());
  EXPECT_EQ(quota->pool_start, 2025);
  EXPECT_EQ(quota->pool_end, 2027);
  EXPECT_EQ(store->quota("190000000", 2026).value()->pool_start, 0);
  StateChanges reserve;
  reserve.reservations = {{"750000000", 2025, +1}};
  reserve.applications = {application("a-1", "with_career_center")};
  ASSERT_TRUE(record(*store, with_changes("m-1", reserve)).has_value());
  EXPECT_EQ(store->quota_left("750000000", 2027).value(), 1) << "a unit of the period";
  reserve.reservations = {{"750000000", 2027, +1}};
  reserve.applications = {application("a-2", "with_career_center", "", "", 0, "900515401230")};
  ASSERT_TRUE(record(*store, with_changes("m-2", reserve)).has_value());
  EXPECT_EQ(store->quota_left("750000000", 2025).value(), 0);
  reserve.reservations = {{"750000000", 2026, +1}};
  reserve.applications = {application("a-3", "with_career_center", "", "", 0, "011231500018")};
  EXPECT_FALSE(record(*store, with_changes("m-3", reserve)).has_value()) << "the last was taken";
  EXPECT_EQ(store->quota_left("190000000", 2026).value(), 4) << "another oblast untouched";
  // Written again with its reserved units carried, larger.
  StateChanges more;
  for (const int year : {2025, 2026, 2027})
    more.allocations.push_back({"750000000", year, 5, 2025, 2027, 2});
  ASSERT_TRUE(record(*store, with_changes("quota-2", more)).has_value());
  EXPECT_EQ(store->quota_left("750000000", 2026).value(), 3);
}

TEST_P(StoreContract, AnOlderUnemploymentEventNeverOverwritesANewerOne) {
  auto store = open();
  StateChanges newer;
  newer.unemployment = {
      {"850101300124", true, "750000000", "2025-08-01", at("2025-08-02T10:00:00Z")}};
  ASSERT_TRUE(record(*store, with_changes("e-2", newer)).has_value());
  StateChanges older;
  older.unemployment = {
      {"850101300124", false, "750000000", "2025-01-01", at("2025-01-02T10:00:00Z")}};
  ASSERT_TRUE(record(*store, with_changes("e-1", older)).has_value());
  auto record_now = store->unemployment("850101300124").value();
  ASSERT_TRUE(record_now.has_value());
  EXPECT_TRUE(record_now->registered);
  EXPECT_EQ(record_now->since, "2025-08-01");
  EXPECT_FALSE(store->unemployment("900515401230").value().has_value());
}

TEST_P(StoreContract, ADuplicateInputChangesNothing) {
  auto store = open();
  StateChanges first;
  first.applications = {application("a-1", "with_career_center")};
  ASSERT_TRUE(record(*store, with_changes("m-1", first)).has_value());
  StateChanges again;
  again.applications = {application("a-1", "paid", "", "", 1)};
  auto duplicate = record(*store, with_changes("m-1", again));
  ASSERT_TRUE(duplicate.has_value());
  EXPECT_TRUE(duplicate.value().front().duplicate);
  EXPECT_EQ(store->find_application("a-1").value()->stage, domain::Stage::with_career_center);
}

TEST_P(StoreContract, TimersAreSetMovedFoundWhenDueAndCancelledOnlyIfNotMoved) {
  auto store = open();
  EXPECT_FALSE(store->next_timer_due().value().has_value());
  StateChanges set;
  set.timers = {{"voucher_expiry", "a-1", at("2025-11-01T18:59:59.999Z"), ""},
                {"voucher_expiry", "a-2", at("2025-10-01T18:59:59.999Z"), "{}"}};
  ASSERT_TRUE(record(*store, with_changes("m-1", set)).has_value());
  EXPECT_EQ(store->next_timer_due().value(), at("2025-10-01T18:59:59.999Z"));
  EXPECT_TRUE(store->due_timers(at("2025-09-30T00:00:00Z"), 10).value().empty());
  auto due = store->due_timers(at("2025-10-02T00:00:00Z"), 10).value();
  ASSERT_EQ(due.size(), 1U);
  EXPECT_EQ(due[0].subject, "a-2");
  EXPECT_EQ(due[0].payload, "{}");
  // Setting a timer of the same kind and subject again moves it.
  StateChanges move;
  move.timers = {{"voucher_expiry", "a-2", at("2025-10-20T18:59:59.999Z"), ""}};
  ASSERT_TRUE(record(*store, with_changes("m-2", move)).has_value());
  EXPECT_TRUE(store->due_timers(at("2025-10-02T00:00:00Z"), 10).value().empty());
  // A cancellation of the old due time leaves the moved timer alone; without a due time it goes.
  StateChanges stale;
  stale.cancelled_timers = {{"voucher_expiry", "a-2", at("2025-10-01T18:59:59.999Z")}};
  ASSERT_TRUE(record(*store, with_changes("m-3", stale)).has_value());
  EXPECT_EQ(store->timers_of("a-2").value().size(), 1U);
  StateChanges cancel;
  cancel.cancelled_timers = {{"voucher_expiry", "a-2", std::nullopt}};
  ASSERT_TRUE(record(*store, with_changes("m-4", cancel)).has_value());
  EXPECT_TRUE(store->timers_of("a-2").value().empty());
  EXPECT_EQ(store->next_timer_due().value(), at("2025-11-01T18:59:59.999Z"));
}

TEST_P(StoreContract, TheQuotaReadsAllocatedAndReserved) {
  auto store = open();
  EXPECT_FALSE(store->quota("750000000", 2025).value().has_value());
  StateChanges allocate;
  allocate.allocations = {{"750000000", 2025, 3, 0, 0, -1}};
  allocate.reservations = {{"750000000", 2025, +1}};
  ASSERT_TRUE(record(*store, with_changes("quota", allocate)).has_value());
  const auto quota = store->quota("750000000", 2025).value();
  ASSERT_TRUE(quota.has_value());
  EXPECT_EQ(quota->allocated, 3);
  EXPECT_EQ(quota->reserved, 1);
}

TEST_P(StoreContract, AnApplicationIsWrittenOnlyFromTheVersionItWasDecidedOn) {
  auto store = open();
  StateChanges create;
  create.applications = {application("a-1", "with_career_center")};
  ASSERT_TRUE(record(*store, with_changes("m-1", create)).has_value());
  EXPECT_EQ(store->find_application("a-1").value()->version, 1);
  // Created twice (two instances deciding the same new application): the second fails whole.
  auto twice = record(*store, with_changes("m-2", create));
  ASSERT_FALSE(twice.has_value());
  EXPECT_THAT(twice.error().message, ::testing::HasSubstr("changed since it was read"));
  EXPECT_FALSE(store->find_input("m-2").value().has_value());
  StateChanges forward;
  forward.applications = {application("a-1", "with_lmc", "", "", 1)};
  ASSERT_TRUE(record(*store, with_changes("m-3", forward)).has_value());
  EXPECT_EQ(store->find_application("a-1").value()->version, 2);
  // A decision on the old version loses: nothing of its input is written.
  StateChanges stale;
  stale.applications = {application("a-1", "refused_career_center", "", "", 1)};
  ASSERT_FALSE(record(*store, with_changes("m-4", stale)).has_value());
  EXPECT_EQ(store->find_application("a-1").value()->stage, domain::Stage::with_lmc);
  EXPECT_FALSE(store->find_input("m-4").value().has_value());
}

TEST_P(StoreContract, APersonHasOneVoucherACalendarYearOfIssue) {
  auto store = open();
  // Art. 3 as the audit reads it: several applications of one person in one year are no ground
  // for refusal; the store holds them all.
  StateChanges applications;
  applications.applications = {application("a-1", "with_career_center"),
                               application("a-2", "with_career_center")};
  ASSERT_TRUE(record(*store, with_changes("m-1", applications)).has_value());
  // Art. 3 (c), whatever decided it: a second voucher to the same person in one year fails.
  StateChanges first;
  first.applications = {application("a-1", "voucher_active", "V-1", "", 1)};
  ASSERT_TRUE(record(*store, with_changes("m-2", first)).has_value());
  EXPECT_EQ(store->find_application("a-1").value()->voucher_year, 2025);
  StateChanges second;
  second.applications = {application("a-2", "voucher_active", "V-2", "", 1)};
  ASSERT_FALSE(record(*store, with_changes("m-3", second)).has_value());
  EXPECT_FALSE(store->find_input("m-3").value().has_value());
  // A voucher issued in another calendar year is another matter.
  StateChanges next_year;
  next_year.applications = {application("a-2", "voucher_active", "V-2", "", 1)};
  next_year.applications[0].voucher_year = 2026;
  EXPECT_TRUE(record(*store, with_changes("m-4", next_year)).has_value());
  EXPECT_EQ(store->find_application("a-2").value()->voucher_year, 2026);
}

TEST_P(StoreContract, DeadlinesOpenCloseAndAreMarkedOnlyForTheOpeningTheyBelongTo) {
  auto store = open();
  StateChanges open_step;
  open_step.opened_deadlines = {{"a-1",
                                 "career_center_review",
                                 "career_center",
                                 "art. 8",
                                 at("2025-09-05T11:00:00Z"),
                                 at("2025-09-08T18:59:59.999Z"),
                                 {},
                                 {},
                                 {}}};
  ASSERT_TRUE(record(*store, with_changes("m-1", open_step)).has_value());
  EXPECT_TRUE(store->open_deadlines(at("2025-09-08T00:00:00Z"), 10).value().empty())
      << "not overdue yet";
  ASSERT_EQ(store->open_deadlines(std::nullopt, 10).value().size(), 1U);
  StateChanges marks;
  marks.marked_deadlines = {
      {"a-1", "career_center_review", at("2025-09-05T11:00:00Z"), false,
       at("2025-09-08T04:00:00Z")},
      {"a-1", "career_center_review", at("2025-09-05T11:00:00Z"), true, at("2025-09-08T19:00:00Z")},
      // A mark for another opening of the step changes nothing.
      {"a-1", "career_center_review", at("2025-09-01T00:00:00Z"), true,
       at("2025-09-09T00:00:00Z")}};
  ASSERT_TRUE(record(*store, with_changes("t-1", marks)).has_value());
  auto row = store->deadline("a-1", "career_center_review").value();
  ASSERT_TRUE(row.has_value());
  EXPECT_EQ(row->warned, at("2025-09-08T04:00:00Z"));
  EXPECT_EQ(row->breached, at("2025-09-08T19:00:00Z"));
  EXPECT_EQ(store->open_deadlines(at("2025-09-09T00:00:00Z"), 10).value().size(), 1U);
  StateChanges close;
  close.closed_deadlines = {{"a-1", "career_center_review", at("2025-09-09T06:00:00Z")}};
  ASSERT_TRUE(record(*store, with_changes("m-2", close)).has_value());
  EXPECT_EQ(store->deadline("a-1", "career_center_review").value()->closed,
            at("2025-09-09T06:00:00Z"));
  EXPECT_TRUE(store->open_deadlines(std::nullopt, 10).value().empty());
  // Opened again (a second sick leave, say): a fresh row.
  ASSERT_TRUE(record(*store, with_changes("m-3", open_step)).has_value());
  row = store->deadline("a-1", "career_center_review").value();
  EXPECT_FALSE(row->closed.has_value());
  EXPECT_FALSE(row->breached.has_value());
}

TEST_P(StoreContract, TheAuditKeepsWhoDidWhatNewestFirst) {
  auto store = open();
  EXPECT_TRUE(store->audit_log(10).value().empty());
  ASSERT_TRUE(store
                  ->record_audit({0, at("2025-09-01T10:00:00Z"), "operator", "replay",
                                  "0123456789ab", "nqs.gov.in.dlq", "m-1", "replayed", ""})
                  .has_value());
  ASSERT_TRUE(store
                  ->record_audit({0, at("2025-09-01T10:05:00Z"), "operator", "purge",
                                  "ba9876543210", "nqs.ais.events.dlq", "e-1", "purged", "x"})
                  .has_value());
  const auto rows = store->audit_log(10).value();
  ASSERT_EQ(rows.size(), 2U);
  EXPECT_EQ(rows[0].action, "purge");
  EXPECT_EQ(rows[0].at, at("2025-09-01T10:05:00Z"));
  EXPECT_EQ(rows[1].dead_letter, "0123456789ab");
  EXPECT_GT(rows[0].id, rows[1].id);
  EXPECT_EQ(store->audit_log(1).value().size(), 1U);
}

TEST_P(StoreContract, OperationsSeeTheOutboxAndTheTimers) {
  auto store = open();
  EXPECT_TRUE(store->ping().has_value());
  auto stats = store->outbox_stats().value();
  EXPECT_EQ(stats.pending, 0);
  EXPECT_FALSE(stats.oldest.has_value());
  auto rows = store->record_input(entry("m-1"), {message("c-1"), message("c-2")}).value().outbox;
  stats = store->outbox_stats().value();
  EXPECT_EQ(stats.pending, 2);
  EXPECT_EQ(stats.oldest, at("2025-09-01T10:00:01Z"));
  StateChanges timers;
  timers.timers = {{"voucher_expiry", "a-1", at("2025-10-01T00:00:00Z"), ""},
                   {"voucher_expiry", "a-2", at("2025-12-01T00:00:00Z"), ""}};
  ASSERT_TRUE(record(*store, with_changes("m-2", timers)).has_value());
  const auto timer_stats = store->timer_stats(at("2025-11-01T00:00:00Z")).value();
  EXPECT_EQ(timer_stats.pending, 2);
  EXPECT_EQ(timer_stats.overdue, 1);
}

// Issue 18: the signed messages of an input are archived in its transaction, exactly, in one
// chain; a duplicate input or a transaction that fails archives nothing.
TEST_P(StoreContract, ArchivesSignedMessagesInTheInputsTransactionInOneChain) {
  {
    auto store = open();
    EXPECT_EQ(store->evidence_head().value().seq, 0);
    auto first = with_changes("m-1", {});
    first.evidence = {evidence("m-1", "m-1"), evidence("n-1", "m-1")};
    // A notification sent: no signer or revocation facts of its own.
    first.evidence.back().signer_json.clear();
    first.evidence.back().revocation_json.clear();
    auto second = with_changes("m-2", {});
    second.evidence = {evidence("m-2", "m-2")};
    std::vector<Store::Input> inputs;
    inputs.push_back(std::move(first));
    inputs.push_back(std::move(second));
    ASSERT_TRUE(store->record_inputs(std::move(inputs)).has_value());
    auto again = with_changes("m-2", {});
    again.evidence = {evidence("m-2-again", "m-2")};
    ASSERT_TRUE(record(*store, std::move(again)).value().front().duplicate);
    // A transaction that fails (a stale application version) archives nothing.
    StateChanges create;
    create.applications = {application("a-1", "with_career_center")};
    ASSERT_TRUE(record(*store, with_changes("m-3", create)).has_value());
    auto stale = with_changes("m-4", create);
    stale.evidence = {evidence("m-4", "m-4")};
    ASSERT_FALSE(record(*store, std::move(stale)).has_value());
  }
  auto store = open();
  const auto records = store->evidence_after(0, 100).value();
  ASSERT_EQ(records.size(), 3U);
  EXPECT_EQ(records[0].evidence_id, "received:m-1");
  EXPECT_EQ(records[1].evidence_id, "received:n-1");
  EXPECT_EQ(records[2].evidence_id, "received:m-2");
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].seq, static_cast<std::int64_t>(i + 1));
    EXPECT_EQ(records[i].prev_sha256,
              i == 0 ? std::string(kEvidenceChainStart) : records[i - 1].record_sha256);
  }
  const auto expected = evidence("n-1", "m-1");
  EXPECT_EQ(records[1].body, expected.body) << "the exact bytes, NUL and all";
  EXPECT_EQ(records[1].body_sha256, sha256_hex(expected.body));
  EXPECT_EQ(records[1].caused, expected.caused);
  EXPECT_EQ(records[1].verified_at, expected.verified_at);
  EXPECT_EQ(records[1].chain_pem, expected.chain_pem);
  EXPECT_EQ(records[1].signer_json, "{}");
  EXPECT_EQ(records[0].signer_json, expected.signer_json);
  EXPECT_TRUE(check_evidence_chain(records, 0, kEvidenceChainStart).empty());
  const auto head = store->evidence_head().value();
  EXPECT_EQ(head.seq, 3);
  EXPECT_EQ(head.record_sha256, records[2].record_sha256);
  // Found by evidence id, message id or application id; after a seq, in pages.
  EXPECT_EQ(store->find_evidence("received:m-2").value().size(), 1U);
  EXPECT_EQ(store->find_evidence("n-1").value().front().seq, 2);
  EXPECT_EQ(store->find_evidence("app-m-1").value().front().seq, 1);
  EXPECT_TRUE(store->find_evidence("").value().empty());
  const auto page = store->evidence_after(1, 1).value();
  ASSERT_EQ(page.size(), 1U);
  EXPECT_EQ(page.front().seq, 2);
}

// Issue 18: the days a seal covers are found by the indexes: the first day after the last one
// sealed, before a given day; a day's count, first and last records, seals not counted; a seal is
// a record of its own in the chain (direction seal, outcome sealed).
TEST_P(StoreContract, FindsTheDaysToSealAndWhatTheirSealsState) {
  auto store = open();
  EXPECT_EQ(store->next_unsealed_day("2025-09-09").value(), std::nullopt) << "no records";
  archive_days(*store, "2025-09-03");
  EXPECT_EQ(store->next_unsealed_day("2025-09-01").value(), std::nullopt) << "not ended";
  EXPECT_EQ(store->next_unsealed_day("2025-09-09").value(), "2025-09-01");
  const auto day = store->evidence_day("2025-09-01").value();
  EXPECT_EQ(day.records, 2);
  EXPECT_EQ(day.first_seq, 1);
  EXPECT_EQ(day.last_seq, 2);
  EXPECT_EQ(day.last_sha256, store->evidence_after(1, 1).value().front().record_sha256);
  EXPECT_EQ(store->evidence_day("2025-09-02").value().records, 0);

  auto seal = with_changes("seal:2025-09-01", {});
  auto sealed = evidence("seal", "seal:2025-09-01");
  sealed.evidence_id = "seal:2025-09-01";
  sealed.direction = "seal";
  sealed.outcome = "sealed";
  seal.evidence = {sealed};
  ASSERT_TRUE(record(*store, std::move(seal)).has_value());
  EXPECT_EQ(store->evidence_day("2025-09-01").value().records, 2) << "the seal is not counted";
  EXPECT_EQ(store->next_unsealed_day("2025-09-09").value(), "2025-09-03");
  EXPECT_EQ(store->next_unsealed_day("2025-09-03").value(), std::nullopt);
  EXPECT_EQ(store->evidence_after(3, 1).value().front().direction, "seal");
}

// Issue 18: the days exported are recorded; a purge removes the records up to the last before a
// day, audited in the same transaction, and the chain then starts after them; a plan made before
// another purge ran is refused.
TEST_P(StoreContract, PurgesRecordsAndTheChainStartsAfterThem) {
  auto store = open();
  archive_days(*store, "2025-09-02");
  const auto records = store->evidence_after(0, 10).value();
  ASSERT_EQ(records.size(), 3U);

  EXPECT_EQ(store->find_evidence_export("2025-09-01").value(), std::nullopt);
  const Store::EvidenceExport exported{
      "2025-09-01", 2, 2, records[1].record_sha256, "f00d", at("2025-09-03T10:00:00Z")};
  ASSERT_TRUE(store->record_evidence_export(exported).has_value());
  ASSERT_TRUE(store->record_evidence_export(exported).has_value()) << "exported again";
  const auto found = store->find_evidence_export("2025-09-01").value();
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->last_seq, 2);
  EXPECT_EQ(found->last_sha256, records[1].record_sha256);
  EXPECT_EQ(found->exported_at, exported.exported_at);

  EXPECT_EQ(store->evidence_purged().value().seq, 0);
  const auto plan = store->plan_evidence_purge("2025-09-02").value();
  EXPECT_EQ(plan.first_seq, 1);
  EXPECT_EQ(plan.last_seq, 2);
  EXPECT_EQ(plan.last_sha256, records[1].record_sha256);
  EXPECT_THAT(plan.days, ::testing::ElementsAre("2025-09-01"));
  const AuditRow audit{0,
                       at("2025-09-03T10:00:00Z"),
                       "tester",
                       "evidence purge",
                       "2025-09-01..2025-09-01",
                       "evidence",
                       "",
                       "purged",
                       "records 1 to 2"};
  EXPECT_EQ(store->purge_evidence(plan, audit).value(), 2);
  const auto remaining = store->evidence_after(0, 10).value();
  ASSERT_EQ(remaining.size(), 1U);
  EXPECT_EQ(remaining.front().seq, 3);
  const auto start = store->evidence_purged().value();
  EXPECT_EQ(start.seq, 2);
  EXPECT_TRUE(check_evidence_chain(remaining, start.seq, start.record_sha256).empty());
  EXPECT_EQ(store->audit_log(1).value().front().action, "evidence purge");
  EXPECT_EQ(store->plan_evidence_purge("2025-09-02").value().last_seq, 0) << "nothing left";
  EXPECT_FALSE(store->purge_evidence(plan, audit).has_value()) << "a stale plan";
  EXPECT_EQ(store->plan_evidence_purge("2025-09-09").value().last_seq, 3) << "every record";
}

}  // namespace nqs::store
