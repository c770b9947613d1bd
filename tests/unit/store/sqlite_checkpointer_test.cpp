// The SQLite log copied back into the database by a thread of its own (store/sqlite_checkpointer):
// bounded without SQLite's auto-checkpoint, the copying done by the thread, nothing lost.
#include "store/sqlite_checkpointer.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "test_support.hpp"

namespace nqs::store {
namespace {

void exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql, nullptr, nullptr, &message), SQLITE_OK)
      << (message != nullptr ? message : "");
}

std::int64_t count_rows(sqlite3* db) {
  sqlite3_stmt* statement = nullptr;
  std::int64_t rows = -1;
  if (sqlite3_prepare_v2(db, "SELECT count(*) FROM t", -1, &statement, nullptr) == SQLITE_OK &&
      sqlite3_step(statement) == SQLITE_ROW) {
    rows = sqlite3_column_int64(statement, 0);
  }
  sqlite3_finalize(statement);
  return rows;
}

// A WAL-mode file of its own, with a table `t`.
sqlite3* open_wal(const std::filesystem::path& path) {
  sqlite3* db = nullptr;
  EXPECT_EQ(
      sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr),
      SQLITE_OK);
  exec(db, "PRAGMA journal_mode = WAL");
  exec(db, "PRAGMA synchronous = FULL");
  exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB)");
  return db;
}

// `transactions` of ten rows of 3,000 bytes: a page each, and a dozen frames a transaction.
void write(sqlite3* db, int transactions) {
  for (int i = 0; i < transactions; ++i) {
    exec(db, "BEGIN IMMEDIATE");
    for (int row = 0; row < 10; ++row)
      exec(db, "INSERT INTO t (body) VALUES (randomblob(3000))");
    exec(db, "COMMIT");
  }
}

constexpr std::uintmax_t kFrame = 4096 + 24;

// From `pages` frames on, the thread copies the log into the database file; the writer, whose
// SQLite would have waited for 1,000 frames and copied them inside its own COMMIT, does not.
TEST(SqliteCheckpointer, TheThreadCopiesTheLogBackInsteadOfTheWriter) {
  test::TempDir dir;
  const auto path = dir.path() / "wal.sqlite";
  sqlite3* db = open_wal(path);
  const auto file_before = std::filesystem::file_size(path);
  {
    SqliteCheckpointer checkpointer(db, 100, 1000);
    write(db, 20);  // about 240 frames
    // Woken at 100 frames, the thread checkpoints in its own time: wait for it (not a speed).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{60};
    while (checkpointer.checkpoints() == 0 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds{10});
    EXPECT_GT(checkpointer.checkpoints(), 0U);
    EXPECT_EQ(checkpointer.writer_checkpoints(), 0U);
    // What the thread copied is in the database file itself now, not only in the log.
    // (Its first checkpoint copies the 100 frames and more that woke it: 80 pages at least.)
    EXPECT_GE(std::filesystem::file_size(path), file_before + 80 * 4096);
  }
  EXPECT_EQ(count_rows(db), 200);
  sqlite3_close_v2(db);
  sqlite3* again = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &again), SQLITE_OK);
  EXPECT_EQ(count_rows(again), 200);
  sqlite3_close_v2(again);
}

// Once the thread has copied all of the log, the writer's next transaction starts it again from
// its beginning: the thread alone keeps it bounded while the writer pauses between bursts.
TEST(SqliteCheckpointer, WhatTheThreadCopiedIsWrittenOverFromTheLogsBeginning) {
  test::TempDir dir;
  const auto path = dir.path() / "wal.sqlite";
  sqlite3* db = open_wal(path);
  int transactions = 0;
  {
    SqliteCheckpointer checkpointer(db, 100, 1000000);
    for (int burst = 0; burst < 5; ++burst) {
      // Bursts of different sizes: the log's frames at the end of one are never the last's.
      write(db, 10 + burst);
      transactions += 10 + burst;
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{60};
      while (checkpointer.copied_frames() != checkpointer.log_frames() &&
             std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds{5});
      ASSERT_EQ(checkpointer.copied_frames(), checkpointer.log_frames()) << "burst " << burst;
    }
    EXPECT_EQ(checkpointer.writer_checkpoints(), 0U);
  }
  // About 750 frames written, never more than one burst's (under 200) in the log.
  EXPECT_LT(std::filesystem::file_size(path.string() + "-wal"), 220 * kFrame)
      << "the log was not started again";
  EXPECT_EQ(count_rows(db), transactions * 10);
  sqlite3_close_v2(db);
}

// Past `writer_pages` frames the writer checkpoints itself, as SQLite's auto-checkpoint would: the
// log restarts once copied and stays bounded, whatever the thread does (here, never started).
TEST(SqliteCheckpointer, PastItsBoundTheWriterCopiesTheLogItselfAndTheLogStaysBounded) {
  test::TempDir dir;
  const auto path = dir.path() / "wal.sqlite";
  sqlite3* db = open_wal(path);
  {
    SqliteCheckpointer checkpointer(db, 100, 100);
    write(db, 200);  // about 2,400 frames
    EXPECT_GT(checkpointer.writer_checkpoints(), 0U);
    EXPECT_EQ(checkpointer.checkpoints(), 0U);
  }
  EXPECT_LT(std::filesystem::file_size(path.string() + "-wal"), (100 + 2 * 12) * kFrame)
      << "the log grew without bound";
  EXPECT_EQ(count_rows(db), 2000);
  sqlite3_close_v2(db);
}

}  // namespace
}  // namespace nqs::store
