// The SQLite store on real files: one transaction per input, duplicates, the outbox, migrations.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/store.hpp"
#include "test_support.hpp"

namespace nqs::store {
namespace {

Instant at(const char* text) {
  return *parse_instant(text);
}

InboxEntry entry(const std::string& key, const std::string& outcome = "processed") {
  InboxEntry e;
  e.key = key;
  e.source = "nqs.gov.in";
  e.outcome = outcome;
  e.document_type = "VoucherApplication";
  e.body_sha256 = std::string(64, 'a');
  e.received_at = at("2025-09-01T10:00:00Z");
  return e;
}

OutboxMessage message(const std::string& id) {
  OutboxMessage m;
  m.key = id;
  m.exchange = "ais.commands";
  m.routing_key = "RegisterApplication";
  m.properties_json = "{\"message_id\":\"" + id + "\",\"headers\":{\"x-nqs-input\":\"k\"}}";
  m.body = std::string("{\"x\":1}\0binary", 14);
  m.created_at = at("2025-09-01T10:00:01Z");
  return m;
}

std::unique_ptr<Store> open(const test::TempDir& dir) {
  auto store = open_sqlite(SqliteSettings{(dir.path() / "db" / "store.sqlite").string()});
  EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
  return std::move(store).value();
}

TEST(SqliteStore, RecordsAnInputWithItsOutboxInOneTransaction) {
  test::TempDir dir;
  auto store = open(dir);
  EXPECT_EQ(store->schema_version().value(), 3);
  auto recorded = store->record_input(entry("m-1"), {message("c-1"), message("c-2")});
  ASSERT_TRUE(recorded.has_value()) << recorded.error().message;
  EXPECT_FALSE(recorded.value().duplicate);
  ASSERT_EQ(recorded.value().outbox.size(), 2U);
  EXPECT_GT(recorded.value().outbox[1].id, recorded.value().outbox[0].id);
  EXPECT_EQ(recorded.value().outbox[0].input_key, "m-1");

  auto found = store->find_input("m-1").value();
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->outcome, "processed");
  EXPECT_EQ(found->received_at, at("2025-09-01T10:00:00Z"));
  EXPECT_FALSE(store->find_input("m-2").value().has_value());

  auto pending = store->pending_outbox(10).value();
  ASSERT_EQ(pending.size(), 2U);
  EXPECT_EQ(pending[0].key, "c-1");
  EXPECT_EQ(pending[0].body, std::string("{\"x\":1}\0binary", 14)) << "bodies are bytes";
  EXPECT_EQ(pending[0].properties_json,
            "{\"message_id\":\"c-1\",\"headers\":{\"x-nqs-input\":\"k\"}}");
}

TEST(SqliteStore, ADuplicateKeyWritesNothing) {
  test::TempDir dir;
  auto store = open(dir);
  ASSERT_TRUE(store->record_input(entry("m-1"), {message("c-1")}).has_value());
  auto again = store->record_input(entry("m-1", "rejected"), {message("c-9")});
  ASSERT_TRUE(again.has_value());
  EXPECT_TRUE(again.value().duplicate);
  EXPECT_TRUE(again.value().outbox.empty());
  EXPECT_EQ(store->find_input("m-1").value()->outcome, "processed");
  EXPECT_EQ(store->count_pending_outbox().value(), 1);
  EXPECT_EQ(store->count_inbox("rejected").value(), 0);
}

TEST(SqliteStore, AFailingOutboxRowRollsTheWholeInputBack) {
  test::TempDir dir;
  auto store = open(dir);
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

TEST(SqliteStore, SentRowsLeaveThePendingList) {
  test::TempDir dir;
  auto store = open(dir);
  auto rows = store->record_input(entry("m-1"), {message("c-1"), message("c-2")}).value().outbox;
  ASSERT_TRUE(store->mark_sent({rows[0].id}, at("2025-09-01T10:00:02Z")).has_value());
  auto pending = store->pending_outbox(10).value();
  ASSERT_EQ(pending.size(), 1U);
  EXPECT_EQ(pending[0].key, "c-2");
  EXPECT_TRUE(store->mark_sent({}, at("2025-09-01T10:00:03Z")).has_value());
  EXPECT_EQ(store->pending_outbox(1).value().size(), 1U);
}

TEST(SqliteStore, CommittedDataSurvivesReopening) {
  test::TempDir dir;
  {
    auto store = open(dir);
    ASSERT_TRUE(store->record_input(entry("m-1", "rejected"), {message("d-1")}).has_value());
  }
  auto reopened = open(dir);
  EXPECT_EQ(reopened->schema_version().value(), 3) << "migrations are applied once";
  EXPECT_EQ(reopened->count_inbox("rejected").value(), 1);
  EXPECT_EQ(reopened->count_pending_outbox().value(), 1);
}

TEST(SqliteStore, UsesWalWithFullSynchronousCommits) {
  test::TempDir dir;
  auto store = open(dir);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() / "db" / "store.sqlite").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* statement = nullptr;
  sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &statement, nullptr);
  ASSERT_EQ(sqlite3_step(statement), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)), "wal");
  sqlite3_finalize(statement);
  sqlite3_close(db);
}

TEST(SqliteStore, RefusesASchemaNewerThanItKnows) {
  test::TempDir dir;
  { auto store = open(dir); }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir.path() / "db" / "store.sqlite").c_str(), &db), SQLITE_OK);
  sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (99, 'later')", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  auto store = open_sqlite(SqliteSettings{(dir.path() / "db" / "store.sqlite").string()});
  ASSERT_FALSE(store.has_value());
  EXPECT_THAT(store.error().message,
              ::testing::HasSubstr("schema version 99, newer than this build"));
}

TEST(SqliteStore, AnUnwritablePathIsAnError) {
  auto store = open_sqlite(SqliteSettings{"/proc/nqs-adapter/store.sqlite"});
  ASSERT_FALSE(store.has_value());
  EXPECT_THAT(store.error().message, ::testing::HasSubstr("cannot open the store"));
}

// --- the domain's state
// ---------------------------------------------------------------------------

Store::Input with_changes(const std::string& key, StateChanges changes) {
  return Store::Input{entry(key), {}, std::move(changes)};
}

ApplicationRow application(const std::string& id, const std::string& stage,
                           const std::string& voucher = "", const std::string& act = "") {
  return ApplicationRow{id,    "850101300124", 2025, "750000000",
                        stage, voucher,        act,  "{\"stage\":\"" + stage + "\"}"};
}

Result<std::vector<Recorded>> record(Store& store, Store::Input input) {
  std::vector<Store::Input> inputs;
  inputs.push_back(std::move(input));
  return store.record_inputs(std::move(inputs));
}

TEST(SqliteStoreState, ApplicationsAreFoundByIdVoucherActAndPerson) {
  test::TempDir dir;
  auto store = open(dir);
  StateChanges changes;
  changes.applications = {application("a-1", "with_career_center")};
  ASSERT_TRUE(record(*store, with_changes("m-1", changes)).has_value());
  changes.applications = {application("a-1", "voucher_active", "v-1")};
  ASSERT_TRUE(record(*store, with_changes("m-2", changes)).has_value());
  auto found = store->find_application("a-1").value();
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->stage, "voucher_active");
  EXPECT_EQ(found->state_json, "{\"stage\":\"voucher_active\"}");
  EXPECT_EQ(store->find_application_by_voucher("v-1").value()->application_id, "a-1");
  EXPECT_FALSE(store->find_application_by_act("act-1").value().has_value());
  EXPECT_EQ(store->applications_of("850101300124", 2025).value().size(), 1U);
  EXPECT_TRUE(store->applications_of("850101300124", 2026).value().empty());
  // Refused applications are left out (a person may have any number of them).
  changes.applications = {application("a-2", "refused_automatic")};
  ASSERT_TRUE(record(*store, with_changes("m-3", changes)).has_value());
  EXPECT_EQ(store->applications_of("850101300124", 2025).value().size(), 1U);
}

TEST(SqliteStoreState, TheQuotaCannotBeOverReservedWhateverTheOrder) {
  test::TempDir dir;
  auto store = open(dir);
  EXPECT_EQ(store->quota_left("750000000", 2025).value(), 0) << "no allocation known";
  StateChanges allocate;
  allocate.allocations = {{"750000000", 2025, 2}};
  ASSERT_TRUE(record(*store, with_changes("quota", allocate)).has_value());
  EXPECT_EQ(store->quota_left("750000000", 2025).value(), 2);
  StateChanges reserve;
  reserve.reservations = {{"750000000", 2025, +1}};
  reserve.applications = {application("a-1", "with_career_center")};
  ASSERT_TRUE(record(*store, with_changes("m-1", reserve)).has_value());
  reserve.applications = {application("a-2", "with_career_center")};
  ASSERT_TRUE(record(*store, with_changes("m-2", reserve)).has_value());
  EXPECT_EQ(store->quota_left("750000000", 2025).value(), 0);
  // A third taking the last unit fails whole: no application, no inbox entry.
  reserve.applications = {application("a-3", "with_career_center")};
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
  allocate.allocations = {{"750000000", 2025, 0}};
  EXPECT_FALSE(record(*store, with_changes("quota-2", allocate)).has_value());
}

TEST(SqliteStoreState, AnOlderUnemploymentEventNeverOverwritesANewerOne) {
  test::TempDir dir;
  auto store = open(dir);
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

TEST(SqliteStoreState, ADuplicateInputChangesNothing) {
  test::TempDir dir;
  auto store = open(dir);
  StateChanges first;
  first.applications = {application("a-1", "with_career_center")};
  ASSERT_TRUE(record(*store, with_changes("m-1", first)).has_value());
  StateChanges again;
  again.applications = {application("a-1", "paid")};
  auto duplicate = record(*store, with_changes("m-1", again));
  ASSERT_TRUE(duplicate.has_value());
  EXPECT_TRUE(duplicate.value().front().duplicate);
  EXPECT_EQ(store->find_application("a-1").value()->stage, "with_career_center");
}

TEST(SqliteStoreState, TimersAreSetMovedFoundWhenDueAndCancelledOnlyIfNotMoved) {
  test::TempDir dir;
  auto store = open(dir);
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

TEST(SqliteStoreState, TheQuotaReadsAllocatedAndReserved) {
  test::TempDir dir;
  auto store = open(dir);
  EXPECT_FALSE(store->quota("750000000", 2025).value().has_value());
  StateChanges allocate;
  allocate.allocations = {{"750000000", 2025, 3}};
  allocate.reservations = {{"750000000", 2025, +1}};
  ASSERT_TRUE(record(*store, with_changes("quota", allocate)).has_value());
  const auto quota = store->quota("750000000", 2025).value();
  ASSERT_TRUE(quota.has_value());
  EXPECT_EQ(quota->allocated, 3);
  EXPECT_EQ(quota->reserved, 1);
}

}  // namespace
}  // namespace nqs::store
