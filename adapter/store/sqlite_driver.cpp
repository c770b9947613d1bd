// The SQLite driver: one file, WAL, synchronous=FULL, the process its only writer.
#include <fmt/format.h>
#include <sqlite3.h>

#include <filesystem>
#include <map>

#include "store/sql_store.hpp"
#include "store/sqlite_checkpointer.hpp"
#include "store_migrations.hpp"

namespace nqs::store {
namespace {

struct StatementFree {
  void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
};
using Statement = std::unique_ptr<sqlite3_stmt, StatementFree>;

// $1, $2, ... as SQLite's ?1, ?2, ... (outside quoted text).
std::string numbered_parameters(std::string_view sql) {
  std::string out(sql);
  bool quoted = false;
  for (auto& c : out) {
    if (c == '\'') quoted = !quoted;
    if (!quoted && c == '$') c = '?';
  }
  return out;
}

class SqliteDriver final : public SqlDriver {
 public:
  explicit SqliteDriver(sqlite3* db) : db_(db) {}
  ~SqliteDriver() override {
    checkpointer_.reset();
    statements_.clear();
    scratch_.reset();
    sqlite3_close_v2(db_);
  }
  SqliteDriver(const SqliteDriver&) = delete;
  SqliteDriver& operator=(const SqliteDriver&) = delete;

  Result<void> configure(const SqliteSettings& settings) {
    sqlite3_busy_timeout(db_, static_cast<int>(settings.busy_timeout.count()));
    // WAL with synchronous=FULL: a transaction that returned from COMMIT survives a power loss;
    // readers do not block the writer.
    BOOST_OUTCOME_TRY(run_script("PRAGMA journal_mode = WAL", "configuring"));
    BOOST_OUTCOME_TRY(run_script("PRAGMA synchronous = FULL", "configuring"));
    // The log is copied back into the file by a thread of its own, not inside the commits.
    checkpointer_ = std::make_unique<SqliteCheckpointer>(db_);
    // A negative cache_size is in KiB.
    BOOST_OUTCOME_TRY(run_script(fmt::format("PRAGMA cache_size = -{}", settings.cache_mib * 1024),
                                 "configuring"));
    return run_script("PRAGMA foreign_keys = ON", "configuring");
  }

  [[nodiscard]] std::string_view name() const override { return "SQLite"; }
  [[nodiscard]] std::span<const std::string_view> migrations() const override {
    return migrations::k_sqlite;
  }
  [[nodiscard]] bool shared() const override { return false; }

  Result<SqlRows> run(std::string_view sql, const SqlParams& params,
                      std::string_view doing) override {
    BOOST_OUTCOME_TRY(auto* statement, prepared(sql, doing));
    if (reading_ && sqlite3_stmt_readonly(statement) == 0) end_reads();  // a write of its own
    const int count = sqlite3_bind_parameter_count(statement);
    int index = 0;
    for (const auto& value : params.values()) {
      if (++index > count) break;
      bind(statement, index, value);
    }
    SqlRows rows;
    const int columns = sqlite3_column_count(statement);
    int step = 0;
    while ((step = sqlite3_step(statement)) == SQLITE_ROW) {
      std::vector<SqlRows::Cell> row;
      row.reserve(static_cast<std::size_t>(columns));
      for (int column = 0; column < columns; ++column)
        row.push_back(cell(statement, column));
      rows.add_row(std::move(row));
    }
    if (step != SQLITE_DONE) {
      auto error = failure(doing);
      sqlite3_reset(statement);
      return error;
    }
    if (sqlite3_stmt_readonly(statement) == 0) rows.set_changed(sqlite3_changes(db_));
    sqlite3_reset(statement);
    return rows;
  }

  Result<void> run_script(std::string_view sql, std::string_view doing) override {
    char* message = nullptr;
    const std::string text(sql);
    if (sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &message) != SQLITE_OK) {
      std::string detail = message != nullptr ? message : sqlite3_errmsg(db_);
      sqlite3_free(message);
      return make_error(fmt::format("SQLite error while {}: {}", doing, detail));
    }
    return outcome::success();
  }

  Result<void> begin() override { return begin_writing(true); }
  Result<void> commit() override {
    BOOST_OUTCOME_TRY(run_script("COMMIT", "committing"));
    return flushed_again();
  }
  void rollback() override {
    if (sqlite3_get_autocommit(db_) == 0) (void)run_script("ROLLBACK", "rolling back");
    (void)flushed_again();
  }
  Result<void> begin_unflushed() override { return begin_writing(false); }
  // A deferred transaction: its snapshot and the WAL's read lock are taken by its first read
  // and kept until its end, instead of for each statement (two fcntl locks and the WAL index's
  // header each time: a fifth of deciding an accepted document, in a profile). Without it the
  // reads are what they were, one transaction each.
  void begin_reads() override {
    if (sqlite3_get_autocommit(db_) != 0)
      reading_ = run_script("BEGIN", "sharing reads").has_value();
  }
  void end_reads() override {
    if (!reading_) return;
    reading_ = false;
    if (sqlite3_get_autocommit(db_) == 0 && !run_script("COMMIT", "ending shared reads")) {
      rollback();
    }
  }
  // Each migration takes the write lock in its transaction: nothing more is needed.
  Result<void> start_migrations() override { return outcome::success(); }
  Result<void> end_migrations() override { return outcome::success(); }

  Result<std::string> ping() override {
    BOOST_OUTCOME_TRY(begin());
    rollback();
    const char* file = sqlite3_db_filename(db_, "main");
    BOOST_OUTCOME_TRY(auto cache, run("PRAGMA cache_size", {}, "reading the page cache's size"));
    const auto kib = cache.empty() ? 0 : -cache.integer(0, 0);
    return fmt::format("SQLite {} (page cache {} MiB)",
                       file != nullptr && *file != '\0' ? file : ":memory:", kib / 1024);
  }

 private:
  // Each statement prepared once and kept.
  Result<sqlite3_stmt*> prepared(std::string_view sql, std::string_view doing) {
    auto found = statements_.find(sql);
    if (found != statements_.end()) {
      sqlite3_clear_bindings(found->second.get());
      return found->second.get();
    }
    const auto text = numbered_parameters(sql);
    sqlite3_stmt* statement = nullptr;
    if (sqlite3_prepare_v2(db_, text.c_str(), -1, &statement, nullptr) != SQLITE_OK) {
      return failure(fmt::format("preparing a statement for {}", doing));
    }
    // A statement whose text varies (a list of ids) is not kept once the cache is full.
    if (statements_.size() >= kKeptStatements) {
      scratch_.reset(statement);
      return statement;
    }
    statements_.emplace(std::string(sql), Statement(statement));
    return statement;
  }

  static void bind(sqlite3_stmt* statement, int index, const SqlValue& value) {
    switch (value.kind) {
      case SqlValue::Kind::null:
        sqlite3_bind_null(statement, index);
        break;
      case SqlValue::Kind::integer:
        sqlite3_bind_int64(statement, index, value.integer);
        break;
      case SqlValue::Kind::text:
        sqlite3_bind_text(statement, index, value.text.data(), static_cast<int>(value.text.size()),
                          SQLITE_TRANSIENT);
        break;
      case SqlValue::Kind::bytes:
        sqlite3_bind_blob(statement, index, value.text.data(), static_cast<int>(value.text.size()),
                          SQLITE_TRANSIENT);
        break;
    }
  }

  static SqlRows::Cell cell(sqlite3_stmt* statement, int column) {
    switch (sqlite3_column_type(statement, column)) {
      case SQLITE_NULL:
        return std::nullopt;
      case SQLITE_BLOB: {
        const auto* blob = static_cast<const char*>(sqlite3_column_blob(statement, column));
        const auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement, column));
        return blob == nullptr ? std::string() : std::string(blob, size);
      }
      default: {
        const auto* text = sqlite3_column_text(statement, column);
        const auto size = static_cast<std::size_t>(sqlite3_column_bytes(statement, column));
        return text == nullptr ? std::string()
                               : std::string(reinterpret_cast<const char*>(text), size);
      }
    }
  }

  // What an SQLite error asks for: a lock, I/O or space is transient (and so is what would fail
  // every input alike, corruption or a bug: held, never dead-lettered en masse); a unique key or
  // CHECK another writer's change broke is a conflict; a value the schema refuses is permanent.
  Error failure(std::string_view doing) const {
    const int code = sqlite3_extended_errcode(db_);
    Failure kind = Failure::transient;
    switch (code) {
      case SQLITE_CONSTRAINT_UNIQUE:
      case SQLITE_CONSTRAINT_PRIMARYKEY:
      case SQLITE_CONSTRAINT_CHECK:
        kind = Failure::conflict;
        break;
      case SQLITE_CONSTRAINT_TRIGGER:  // a trigger's RAISE(ABORT): the schema refuses the row
      case SQLITE_CONSTRAINT_NOTNULL:
      case SQLITE_CONSTRAINT_FOREIGNKEY:
      case SQLITE_CONSTRAINT_DATATYPE:
      case SQLITE_TOOBIG:
      case SQLITE_MISMATCH:
      case SQLITE_RANGE:
        kind = Failure::permanent;
        break;
      default:
        break;
    }
    return make_error(
        fmt::format("SQLite error while {}: {} ({})", doing, sqlite3_errmsg(db_), code), kind);
  }

  static constexpr std::size_t kKeptStatements = 64;

  sqlite3* db_;
  std::map<std::string, Statement, std::less<>> statements_;
  Statement scratch_;  // the last statement not kept
  std::unique_ptr<SqliteCheckpointer> checkpointer_;
  // The write lock at once: a transaction never fails half-way for want of it. In WAL mode,
  // synchronous=NORMAL commits without a sync of the log; it is set outside an unflushed
  // transaction and back to FULL when the transaction ends, whichever way. A transaction that
  // should wait for the disk never begins under NORMAL: should setting FULL again have failed
  // when an unflushed one ended, it is set here or the transaction does not begin.
  Result<void> begin_writing(bool flushed) {
    end_reads();
    if (flushed) {
      BOOST_OUTCOME_TRY(flushed_again());
    } else {
      BOOST_OUTCOME_TRY(run_script("PRAGMA synchronous = NORMAL", "configuring"));
      unflushed_ = true;
    }
    auto begun = run_script("BEGIN IMMEDIATE", "beginning a transaction");
    if (!begun) (void)flushed_again();
    return begun;
  }
  // Back to synchronous=FULL after a transaction begun with begin_unflushed.
  Result<void> flushed_again() {
    if (!unflushed_) return outcome::success();
    BOOST_OUTCOME_TRY(run_script("PRAGMA synchronous = FULL", "configuring"));
    unflushed_ = false;
    return outcome::success();
  }

  bool unflushed_ = false;  // synchronous=NORMAL until the transaction ends
  bool reading_ = false;    // between begin_reads and end_reads, in a transaction of ours
};

}  // namespace

Result<std::unique_ptr<SqlStore>> open_sqlite(const SqliteSettings& settings) {
  std::error_code ec;
  const auto folder = std::filesystem::path(settings.path).parent_path();
  if (!folder.empty()) std::filesystem::create_directories(folder, ec);
  sqlite3* db = nullptr;
  const int opened =
      sqlite3_open_v2(settings.path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (opened != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close_v2(db);
    return make_error(fmt::format("cannot open the store {}: {}", settings.path, message));
  }
  auto driver = std::make_unique<SqliteDriver>(db);
  BOOST_OUTCOME_TRY(driver->configure(settings));
  auto store = std::make_unique<SqlStore>(std::move(driver));
  BOOST_OUTCOME_TRY(store->migrate());
  return store;
}

}  // namespace nqs::store
