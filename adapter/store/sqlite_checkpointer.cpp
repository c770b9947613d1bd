#include "store/sqlite_checkpointer.hpp"

#include <memory>
#include <system_error>

#include "log/logging.hpp"

namespace nqs::store {
namespace {

struct ConnectionClose {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};

}  // namespace

SqliteCheckpointer::SqliteCheckpointer(sqlite3* writer, int pages, int writer_pages)
    : writer_(writer), pages_(pages), writer_pages_(writer_pages) {
  const char* file = sqlite3_db_filename(writer, "main");
  if (file != nullptr) path_ = file;
  // An in-memory or temporary database has no file to open twice: the writer does it all.
  if (path_.empty()) failed_ = true;
  sqlite3_wal_hook(writer_, &SqliteCheckpointer::on_commit, this);
}

SqliteCheckpointer::~SqliteCheckpointer() {
  // SQLite's own auto-checkpoint again, for whatever the connection still commits.
  sqlite3_wal_autocheckpoint(writer_, pages_);
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  woken_.notify_one();
  if (thread_.joinable()) thread_.join();
}

int SqliteCheckpointer::on_commit(void* self, sqlite3* db, const char* schema, int frames) {
  auto& checkpointer = *static_cast<SqliteCheckpointer*>(self);
  checkpointer.log_frames_ = frames;
  if (frames < checkpointer.pages_) return SQLITE_OK;
  if (frames >= checkpointer.writer_pages_ || checkpointer.failed_) {
    // What SQLite's auto-checkpoint does. Busy when the thread is at it: nothing to wait for.
    int copied = 0;
    if (sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, &copied) ==
            SQLITE_OK &&
        copied > 0) {
      ++checkpointer.writer_checkpoints_;
    }
    return SQLITE_OK;
  }
  checkpointer.wake();
  return SQLITE_OK;
}

void SqliteCheckpointer::wake() {
  bool started = true;
  {
    const std::lock_guard lock(mutex_);
    due_ = true;
    if (!thread_.joinable()) {
      // Called inside SQLite's COMMIT: nothing may be thrown through it.
      try {
        thread_ = std::thread([this] { run(); });
      } catch (const std::system_error&) {
        started = false;
      }
    }
  }
  if (!started) return give_up("its thread could not be started");
  woken_.notify_one();
}

void SqliteCheckpointer::give_up(const std::string& why) {
  failed_ = true;
  if (logged_.exchange(true)) return;
  log::warn("the store's log is checkpointed by the writer from now on: " + why, {{"path", path_}});
}

void SqliteCheckpointer::run() {
  sqlite3* opened = nullptr;
  // Its own connection: a connection is used by one thread at a time (SQLITE_OPEN_NOMUTEX).
  if (sqlite3_open_v2(path_.c_str(), &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    sqlite3_close_v2(opened);
    return give_up("it cannot be opened a second time");
  }
  const std::unique_ptr<sqlite3, ConnectionClose> db(opened);
  // The database file is synced after each checkpoint, as the writer's synchronous=FULL would;
  // reading the schema opens the log, without which a checkpoint would copy nothing.
  if (sqlite3_exec(db.get(), "PRAGMA synchronous = FULL; SELECT count(*) FROM sqlite_master",
                   nullptr, nullptr, nullptr) != SQLITE_OK) {
    return give_up(sqlite3_errmsg(db.get()));
  }
  std::unique_lock lock(mutex_);
  while (true) {
    woken_.wait(lock, [this] { return due_ || stopping_; });
    if (stopping_) return;
    due_ = false;
    lock.unlock();
    int log = 0;
    int copied = 0;
    if (sqlite3_wal_checkpoint_v2(db.get(), "main", SQLITE_CHECKPOINT_PASSIVE, &log, &copied) ==
            SQLITE_OK &&
        copied > 0) {
      copied_frames_ = copied;  // of the log as it was when the checkpoint began
      ++checkpoints_;
    }
    lock.lock();
  }
}

}  // namespace nqs::store
