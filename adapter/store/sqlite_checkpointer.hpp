#pragma once

#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace nqs::store {

// Copies a WAL-mode SQLite file's log back into the database from a thread and a connection of
// its own, so that the writer's commits do not: SQLite's auto-checkpoint runs inside the COMMIT
// that crossed its threshold, on the daemon's event loop (a tenth of the loop's time in a
// profile of a burst, the loop being what a burst waited for). A PASSIVE checkpoint never takes
// the writer's lock: it copies what is committed while the writer goes on, and the writer starts
// the log again from its beginning at its next transaction once all of it has been copied.
//
// Installed as the writer connection's WAL hook (which replaces SQLite's auto-checkpoint, and
// which a later `PRAGMA wal_autocheckpoint` would replace in turn): after a commit that leaves
// `pages` frames or more in the log the thread is woken; should the log reach `writer_pages` all
// the same (the thread cannot keep up), the writer checkpoints itself as SQLite would have. A
// thread that cannot be started, or cannot open or read the file, is logged once and the writer
// checkpoints from `pages` on, as before. The log stays bounded either way; its file keeps the
// largest size it reached (about 40 MB at 10,000 pages).
class SqliteCheckpointer {
 public:
  SqliteCheckpointer(sqlite3* writer, int pages = 1000, int writer_pages = 10000);
  ~SqliteCheckpointer();  // stops the thread, if it was started, and waits for it
  SqliteCheckpointer(const SqliteCheckpointer&) = delete;
  SqliteCheckpointer& operator=(const SqliteCheckpointer&) = delete;

  // Checkpoints that ended with frames of the log copied (SQLite counts them since the log
  // began, not since the last checkpoint), the thread's and the writer's own.
  [[nodiscard]] std::uint64_t checkpoints() const { return checkpoints_; }
  [[nodiscard]] std::uint64_t writer_checkpoints() const { return writer_checkpoints_; }
  // The frames in the log after the last commit, and those the thread's last checkpoint had
  // copied: equal once the thread has caught up, and the writer then starts the log again.
  [[nodiscard]] int log_frames() const { return log_frames_; }
  [[nodiscard]] int copied_frames() const { return copied_frames_; }

 private:
  static int on_commit(void* self, sqlite3* db, const char* schema, int frames);
  void wake();
  void run();
  void give_up(const std::string& why);

  sqlite3* writer_;
  std::string path_;
  int pages_;
  int writer_pages_;
  std::mutex mutex_;
  std::condition_variable woken_;
  bool due_ = false;
  bool stopping_ = false;
  std::thread thread_;  // started by the first commit that needs it
  std::atomic<std::uint64_t> checkpoints_{0};
  std::atomic<std::uint64_t> writer_checkpoints_{0};
  std::atomic<int> log_frames_{0};
  std::atomic<int> copied_frames_{0};
  std::atomic<bool> failed_{false};  // the writer checkpoints from `pages` on
  std::atomic<bool> logged_{false};
};

}  // namespace nqs::store
