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
  EXPECT_EQ(store->schema_version().value(), 1);
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
  EXPECT_EQ(reopened->schema_version().value(), 1) << "migrations are applied once";
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

}  // namespace
}  // namespace nqs::store
