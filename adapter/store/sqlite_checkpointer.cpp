#include "store/sqlite_checkpointer.hpp"

#include <memory>

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
  sqlite3_wal_hook(writer_, &SqliteCheckpointer::on_commit, this);
}

SqliteCheckpointer::~SqliteCheckpointer() {
  sqlite3_wal_hook(writer_, nullptr, nullptr);
  {
    const std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  woken_.notify_one();
  if (thread_.joinable()) thread_.join();
}

int SqliteCheckpointer::on_commit(void* self, sqlite3* db, const char* schema, int frames) {
  auto& checkpointer = *static_cast<SqliteCheckpointer*>(self);
  if (frames >= checkpointer.writer_pages_ || checkpointer.path_.empty()) {
    // What SQLite's own auto-checkpoint does; an in-memory database has no file to open twice.
    if (frames >= checkpointer.pages_) {
      sqlite3_wal_checkpoint_v2(db, schema, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
      ++checkpointer.writer_checkpoints_;
    }
  } else if (frames >= checkpointer.pages_) {
    checkpointer.wake();
  }
  return SQLITE_OK;
}

void SqliteCheckpointer::wake() {
  {
    const std::lock_guard lock(mutex_);
    due_ = true;
    if (!thread_.joinable()) thread_ = std::thread([this] { run(); });
  }
  woken_.notify_one();
}

void SqliteCheckpointer::run() {
  sqlite3* opened = nullptr;
  // Its own connection: a connection is used by one thread at a time (SQLITE_OPEN_NOMUTEX).
  if (sqlite3_open_v2(path_.c_str(), &opened, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    sqlite3_close_v2(opened);
    return;  // the writer checkpoints at writer_pages
  }
  const std::unique_ptr<sqlite3, ConnectionClose> db(opened);
  // The database file is synced after each checkpoint, as the writer's synchronous=FULL would.
  sqlite3_exec(db.get(), "PRAGMA synchronous = FULL", nullptr, nullptr, nullptr);
  std::unique_lock lock(mutex_);
  while (true) {
    woken_.wait(lock, [this] { return due_ || stopping_; });
    if (stopping_) return;
    due_ = false;
    lock.unlock();
    if (sqlite3_wal_checkpoint_v2(db.get(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr) ==
        SQLITE_OK) {
      ++checkpoints_;
    }
    lock.lock();
  }
}

}  // namespace nqs::store
