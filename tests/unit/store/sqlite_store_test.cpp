// The SQLite store on real files: the store contract (store_contract.hpp), and what is SQLite's
// own (WAL with full synchronous commits, the schema version, an unwritable path).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/sql_store.hpp"
#include "store_contract.hpp"

namespace nqs::store {
namespace {

std::unique_ptr<SqlStore> open(const test::TempDir& dir) {
  auto store = open_sqlite(SqliteSettings{(dir.path() / "db" / "store.sqlite").string()});
  EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
  return std::move(store).value();
}

// Column `column` of every row `sql` gives on the store's file, one line each, read over a
// connection of its own.
std::string column_of(const test::TempDir& dir, const char* sql, int column) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open((dir.path() / "db" / "store.sqlite").c_str(), &db) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open the store's file";
  } else if (sqlite3_stmt* statement = nullptr;
             sqlite3_prepare_v2(db, sql, -1, &statement, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sqlite3_errmsg(db);
  } else {
    while (sqlite3_step(statement) == SQLITE_ROW)
      out +=
          reinterpret_cast<const char*>(sqlite3_column_text(statement, column)) + std::string("\n");
    sqlite3_finalize(statement);
  }
  sqlite3_close(db);
  return out;
}

// The outbox as versions before migration 14 left it: the body in the row.
constexpr const char* kOutboxBeforeMigration14 =
    "DROP TABLE outbox_bodies;"
    "ALTER TABLE outbox ADD COLUMN body BLOB NOT NULL DEFAULT x'';";

// A new store on `dir`, changed on its file by `sql` (to what an earlier version left, say), then
// opened again: the migrations the change undid run on it.
Result<std::unique_ptr<SqlStore>> reopened_after(const test::TempDir& dir, const std::string& sql) {
  { auto store = open(dir); }
  sqlite3* db = nullptr;
  if (sqlite3_open((dir.path() / "db" / "store.sqlite").c_str(), &db) != SQLITE_OK ||
      sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "changing the store's file: " << sqlite3_errmsg(db);
  }
  sqlite3_close(db);
  return open_sqlite(SqliteSettings{(dir.path() / "db" / "store.sqlite").string()});
}

TEST(SqliteStore, UsesWalWithFullSynchronousCommits) {
  test::TempDir dir;
  auto store = open(dir);
  EXPECT_EQ(column_of(dir, "PRAGMA journal_mode", 0), "wal\n");
}

// store.sqlite_cache_mib sets the connection's page cache (read back from SQLite by ping).
TEST(SqliteStore, KeepsThePageCacheItIsGiven) {
  test::TempDir dir;
  auto store = open_sqlite(
      SqliteSettings{(dir.path() / "store.sqlite").string(), std::chrono::milliseconds{100}, 8});
  ASSERT_TRUE(store.has_value()) << store.error().message;
  auto where = store.value()->ping();
  ASSERT_TRUE(where.has_value()) << where.error().message;
  EXPECT_THAT(where.value(), testing::HasSubstr("(page cache 8 MiB)"));
}

// A batch's reads share one read transaction (Processor::flush): they see the store as it was at
// the first of them; a write of the same connection, in a transaction or alone, ends them first
// (inside them it would fail: a transaction within a transaction, a write on a stale snapshot).
TEST(SqliteStore, SharedReadsSeeOneSnapshotUntilTheyEndOrAWriteEndsThem) {
  test::TempDir dir;
  auto reader = open(dir);
  auto writer = open(dir);
  const auto seen = [&](const char* key) {
    auto found = reader->find_input(key);
    EXPECT_TRUE(found.has_value()) << found.error().message;
    return found.has_value() && found.value().has_value();
  };
  reader->begin_reads();
  EXPECT_FALSE(seen("m-1"));
  ASSERT_TRUE(writer->record_input(contract::entry("m-1"), {}).has_value());
  EXPECT_FALSE(seen("m-1"));
  reader->end_reads();
  EXPECT_TRUE(seen("m-1"));

  reader->begin_reads();
  EXPECT_FALSE(seen("m-2"));
  ASSERT_TRUE(writer->record_input(contract::entry("m-2"), {}).has_value());
  auto recorded = reader->record_input(contract::entry("m-3"), {});
  ASSERT_TRUE(recorded.has_value()) << recorded.error().message;
  EXPECT_TRUE(seen("m-2"));

  reader->begin_reads();
  EXPECT_FALSE(seen("m-4"));
  ASSERT_TRUE(writer->record_input(contract::entry("m-4"), {}).has_value());
  auto audited = reader->record_audit(AuditRow{0, contract::at("2026-12-04T10:00:00Z"), "operator",
                                               "replay", "d-1", "q", "m-4", "replayed", ""});
  ASSERT_TRUE(audited.has_value()) << audited.error().message;
  EXPECT_TRUE(seen("m-4"));
  reader->end_reads();
  EXPECT_EQ(column_of(dir, "SELECT count(*) FROM audit", 0), "1\n");
}

// Art. 3's reading of a person's applications (SqlStore::applications_of) goes through the index
// of applications not refused: a person's refused applications are not walked for each new one.
TEST(SqliteStore, APersonsApplicationsNotRefusedAreReadByTheirOwnIndex) {
  test::TempDir dir;
  auto store = open(dir);
  const auto plan = column_of(dir,
                              "EXPLAIN QUERY PLAN SELECT * FROM applications WHERE iin = ? AND "
                              "quota_year = ? AND stage NOT IN ('refused_automatic', "
                              "'refused_career_center', 'refused_recognition_center') ORDER BY "
                              "application_id",
                              3);
  EXPECT_THAT(plan, testing::HasSubstr("USING INDEX applications_not_refused")) << plan;
  // And no other index of a person's applications is written with each one (migration 13).
  EXPECT_EQ(column_of(dir,
                      "SELECT group_concat(name) FROM sqlite_master WHERE type = 'index' AND "
                      "tbl_name = 'applications' AND sql LIKE '%(iin, quota_year)%'",
                      0),
            "applications_not_refused\n");
}

// Marking an outbox row sent rewrites the row, and SQLite rewrites a row whole: the body is in a
// table of its own (migration 14), so a signed notification's 6 KB are not written to the log
// again with each confirm. Counted in the log's frames (pages) the mark alone wrote.
TEST(SqliteStore, MarkingARowSentDoesNotWriteItsBodyAgain) {
  test::TempDir dir;
  auto store = open(dir);
  auto notification = message("n-1");
  notification.body = std::string(6000, 'n');
  const auto rows = store->record_input(entry("m-1"), {notification}).value().outbox;
  ASSERT_EQ(store->pending_outbox(1).value().at(0).body, notification.body);
  EXPECT_EQ(column_of(dir, "PRAGMA wal_checkpoint(TRUNCATE)", 0), "0\n") << "not busy";
  ASSERT_TRUE(store->mark_sent({rows.at(0).id}, at("2025-09-01T10:00:02Z")).has_value());
  const auto frames = std::stoi(column_of(dir, "PRAGMA wal_checkpoint(PASSIVE)", 1));
  // The outbox row's page and its pending index's; with the body inside, its two overflow
  // pages and the row's page again.
  EXPECT_GE(frames, 1);
  EXPECT_LE(frames, 2);
}

// The default VFS of this process, wrapped so as to count the syncs its files ask of the disk
// (fsync or fdatasync), while it lives.
class CountingSyncs {
 public:
  CountingSyncs() {
    real_ = sqlite3_vfs_find(nullptr);
    vfs_ = *real_;
    vfs_.zName = "counting-syncs";
    vfs_.szOsFile = static_cast<int>(sizeof(File)) + real_->szOsFile;
    vfs_.pAppData = this;
    vfs_.xOpen = &CountingSyncs::open;
    methods_ = {};
    sqlite3_vfs_register(&vfs_, 1);
  }
  ~CountingSyncs() {
    sqlite3_vfs_unregister(&vfs_);
    sqlite3_vfs_register(real_, 1);
  }
  CountingSyncs(const CountingSyncs&) = delete;
  CountingSyncs& operator=(const CountingSyncs&) = delete;

  [[nodiscard]] int syncs() const { return syncs_; }

 private:
  // The file as the wrapped VFS sees it, then the real VFS's own after it.
  struct File {
    sqlite3_file base;
    CountingSyncs* owner;
    sqlite3_file* real() { return reinterpret_cast<sqlite3_file*>(this + 1); }
  };
  static File* as(sqlite3_file* file) { return reinterpret_cast<File*>(file); }

  static int open(sqlite3_vfs* vfs, const char* name, sqlite3_file* file, int flags, int* out) {
    auto* self = static_cast<CountingSyncs*>(vfs->pAppData);
    auto* wrapped = as(file);
    wrapped->owner = self;
    const int rc = self->real_->xOpen(self->real_, name, wrapped->real(), flags, out);
    if (rc != SQLITE_OK || wrapped->real()->pMethods == nullptr) {
      file->pMethods = nullptr;
      return rc;
    }
    // The real methods, but for sync, close and the version (WAL needs 2 or more for its shared
    // memory, which is passed through).
    self->methods_ = *wrapped->real()->pMethods;
    self->methods_.xClose = [](sqlite3_file* f) {
      return as(f)->real()->pMethods->xClose(as(f)->real());
    };
    self->methods_.xRead = [](sqlite3_file* f, void* b, int n, sqlite3_int64 o) {
      return as(f)->real()->pMethods->xRead(as(f)->real(), b, n, o);
    };
    self->methods_.xWrite = [](sqlite3_file* f, const void* b, int n, sqlite3_int64 o) {
      return as(f)->real()->pMethods->xWrite(as(f)->real(), b, n, o);
    };
    self->methods_.xTruncate = [](sqlite3_file* f, sqlite3_int64 n) {
      return as(f)->real()->pMethods->xTruncate(as(f)->real(), n);
    };
    self->methods_.xSync = [](sqlite3_file* f, int how) {
      ++as(f)->owner->syncs_;
      return as(f)->real()->pMethods->xSync(as(f)->real(), how);
    };
    self->methods_.xFileSize = [](sqlite3_file* f, sqlite3_int64* n) {
      return as(f)->real()->pMethods->xFileSize(as(f)->real(), n);
    };
    self->methods_.xLock = [](sqlite3_file* f, int l) {
      return as(f)->real()->pMethods->xLock(as(f)->real(), l);
    };
    self->methods_.xUnlock = [](sqlite3_file* f, int l) {
      return as(f)->real()->pMethods->xUnlock(as(f)->real(), l);
    };
    self->methods_.xCheckReservedLock = [](sqlite3_file* f, int* r) {
      return as(f)->real()->pMethods->xCheckReservedLock(as(f)->real(), r);
    };
    self->methods_.xFileControl = [](sqlite3_file* f, int op, void* a) {
      return as(f)->real()->pMethods->xFileControl(as(f)->real(), op, a);
    };
    self->methods_.xSectorSize = [](sqlite3_file* f) {
      return as(f)->real()->pMethods->xSectorSize(as(f)->real());
    };
    self->methods_.xDeviceCharacteristics = [](sqlite3_file* f) {
      return as(f)->real()->pMethods->xDeviceCharacteristics(as(f)->real());
    };
    self->methods_.xShmMap = [](sqlite3_file* f, int r, int s, int e, void volatile** p) {
      return as(f)->real()->pMethods->xShmMap(as(f)->real(), r, s, e, p);
    };
    self->methods_.xShmLock = [](sqlite3_file* f, int o, int n, int fl) {
      return as(f)->real()->pMethods->xShmLock(as(f)->real(), o, n, fl);
    };
    self->methods_.xShmBarrier = [](sqlite3_file* f) {
      as(f)->real()->pMethods->xShmBarrier(as(f)->real());
    };
    self->methods_.xShmUnmap = [](sqlite3_file* f, int d) {
      return as(f)->real()->pMethods->xShmUnmap(as(f)->real(), d);
    };
    self->methods_.iVersion = 2;
    self->methods_.xFetch = nullptr;
    self->methods_.xUnfetch = nullptr;
    file->pMethods = &self->methods_;
    return rc;
  }

  sqlite3_vfs* real_ = nullptr;
  sqlite3_vfs vfs_{};
  sqlite3_io_methods methods_{};
  int syncs_ = 0;
};

// Issue 17: marking confirmed rows sent does not wait for the disk (it runs on the event loop
// after every confirm, and a mark lost only publishes a row again); recording an input still
// does, before and after a mark.
TEST(SqliteStore, MarkingRowsSentDoesNotWaitForTheDiskAndRecordingStillDoes) {
  test::TempDir dir;
  CountingSyncs counting;
  auto store = open(dir);
  const int at_open = counting.syncs();
  const auto rows = store->record_input(entry("m-1"), {message("c-1")}).value().outbox;
  const int recording = counting.syncs() - at_open;
  EXPECT_GE(recording, 1) << "a commit waits for its sync";
  const int before_mark = counting.syncs();
  ASSERT_TRUE(store->mark_sent({rows.at(0).id}, at("2025-09-01T10:00:02Z")).has_value());
  EXPECT_EQ(counting.syncs(), before_mark) << "no sync for a mark";
  EXPECT_EQ(store->count_pending_outbox().value(), 0) << "the mark is committed all the same";
  const int after_mark = counting.syncs();
  ASSERT_TRUE(store->record_input(entry("m-2"), {message("c-2")}).has_value());
  EXPECT_GE(counting.syncs() - after_mark, 1) << "synchronous=FULL again after the mark";
}

// Migration 14 on a store as an earlier version left it: a pending row's body moves to its own
// table and is published as it was.
TEST(SqliteStore, AnOutboxRowsBodyMovesToItsOwnTable) {
  test::TempDir dir;
  auto store = reopened_after(
      dir, std::string("DELETE FROM schema_migrations WHERE version >= 14;") +
               kOutboxBeforeMigration14 +
               "INSERT INTO inbox (input_key, source, outcome, body_sha256, received_at) "
               "VALUES ('m-1', 'gov', 'processed', '00', '2025-09-01T10:00:00.000Z');"
               "INSERT INTO outbox (message_key, input_key, exchange_name, routing_key, "
               "properties, body, created_at) VALUES ('c-1', 'm-1', 'ais.commands', "
               "'RegisterApplication', '{}', x'7b7d00ff', '2025-09-01T10:00:01.000Z');");
  ASSERT_TRUE(store.has_value()) << store.error().message;
  const auto pending = store.value()->pending_outbox(10).value();
  ASSERT_EQ(pending.size(), 1U);
  EXPECT_EQ(pending[0].key, "c-1");
  EXPECT_EQ(pending[0].body, std::string("{}\0\xff", 4));
  EXPECT_EQ(
      column_of(dir, "SELECT count(*) FROM pragma_table_info('outbox') WHERE name = 'body'", 0),
      "0\n");
}

// The next timer due is read after every commit that wrote a timer: by the index of due times
// (the first unclaimed one) and of claims, never by reading every pending timer.
TEST(SqliteStore, TheNextTimerDueIsFoundByIndexesAlone) {
  test::TempDir dir;
  auto store = open(dir);
  const auto plan =
      column_of(dir, (std::string("EXPLAIN QUERY PLAN ") + SqlStore::kNextTimerDue).c_str(), 3);
  EXPECT_THAT(plan, testing::HasSubstr("SCAN timers USING INDEX timers_by_due\n")) << plan;
  EXPECT_THAT(plan, testing::HasSubstr("SEARCH timers USING INDEX timers_claimed")) << plan;
  EXPECT_THAT(plan, testing::Not(testing::ContainsRegex("(SCAN|SEARCH) timers\n"))) << plan;
}

TEST(SqliteStore, RefusesASchemaNewerThanItKnows) {
  test::TempDir dir;
  auto store = reopened_after(dir, "INSERT INTO schema_migrations VALUES (99, 'later')");
  ASSERT_FALSE(store.has_value());
  EXPECT_THAT(store.error().message,
              ::testing::HasSubstr("schema version 99, newer than this build"));
}

TEST(SqliteStore, QuotaKeptByDistrictIsMergedIntoItsOblast) {
  // Migration 7 (audit point 3), on a store as an earlier version left it.
  test::TempDir dir;
  auto store = reopened_after(
      dir, std::string("DELETE FROM schema_migrations WHERE version >= 7;"
                       "DROP INDEX applications_not_refused;"
                       "CREATE INDEX applications_by_person ON applications (iin, quota_year);") +
               kOutboxBeforeMigration14 +
               "DROP INDEX timers_claimed;"
               "DROP TABLE evidence; DROP TABLE evidence_head;"
               "DROP TABLE evidence_exports; DROP TABLE evidence_purged;"
               "ALTER TABLE quota DROP COLUMN pool_start;"
               "ALTER TABLE quota DROP COLUMN pool_end;"
               "INSERT INTO quota (region, year, allocated, reserved) VALUES "
               "('750000000', 2025, 5, 1), ('751110000', 2025, 3, 2), "
               "('751110000', 2026, 4, 0), ('190000000', 2025, 2, 0);");
  ASSERT_TRUE(store.has_value()) << store.error().message;
  EXPECT_EQ(store.value()->schema_version().value(), 14);
  EXPECT_EQ(store.value()->quota_left("750000000", 2025).value(), 5);  // 8 allocated, 3 reserved
  EXPECT_EQ(store.value()->quota_left("750000000", 2026).value(), 4);
  EXPECT_EQ(store.value()->quota_left("190000000", 2025).value(), 2);
  EXPECT_EQ(store.value()->quota_left("751110000", 2025).value(), 0) << "no district row left";
}

TEST(SqliteStore, AnUnwritablePathIsAnError) {
  auto store = open_sqlite(SqliteSettings{"/proc/nqs-adapter/store.sqlite"});
  ASSERT_FALSE(store.has_value());
  EXPECT_THAT(store.error().message, ::testing::HasSubstr("cannot open the store"));
}

const StoreBackend kSqlite{
    "sqlite", [] {
      auto dir = std::make_shared<test::TempDir>();
      return std::function<std::unique_ptr<SqlStore>()>([dir] {
        auto store = open_sqlite(SqliteSettings{(dir->path() / "db" / "store.sqlite").string()});
        EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
        return std::move(store).value();
      });
    }};
INSTANTIATE_TEST_SUITE_P(Sqlite, StoreContract, ::testing::Values(kSqlite),
                         [](const auto& test_info) { return test_info.param.name; });

}  // namespace
}  // namespace nqs::store
