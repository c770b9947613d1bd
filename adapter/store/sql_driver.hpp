#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/instant.hpp"
#include "common/result.hpp"

namespace nqs::store {

// One parameter of a statement: NULL, an integer, text, or bytes (a message body).
struct SqlValue {
  enum class Kind { null, integer, text, bytes };
  Kind kind = Kind::null;
  std::int64_t integer = 0;
  std::string text;  // text and bytes
};

// The parameters of one statement, $1, $2, ... in order.
class SqlParams {
 public:
  SqlParams& text(std::string value) { return add({SqlValue::Kind::text, 0, std::move(value)}); }
  SqlParams& integer(std::int64_t value) { return add({SqlValue::Kind::integer, value, {}}); }
  SqlParams& instant(Instant value) { return integer(value.time_since_epoch().count()); }
  SqlParams& bytes(std::string value) { return add({SqlValue::Kind::bytes, 0, std::move(value)}); }
  SqlParams& null() { return add({}); }
  SqlParams& optional_integer(std::optional<std::int64_t> value) {
    return value ? integer(*value) : null();
  }
  [[nodiscard]] const std::vector<SqlValue>& values() const { return values_; }

 private:
  SqlParams& add(SqlValue value) {
    values_.push_back(std::move(value));
    return *this;
  }
  std::vector<SqlValue> values_;
};

// What a statement gave: its rows, every cell as text (bytes as they are) or NULL, and how many
// rows it changed.
class SqlRows {
 public:
  using Cell = std::optional<std::string>;
  void add_row(std::vector<Cell> row) { rows_.push_back(std::move(row)); }
  void set_changed(std::int64_t changed) { changed_ = changed; }

  [[nodiscard]] std::size_t size() const { return rows_.size(); }
  [[nodiscard]] bool empty() const { return rows_.empty(); }
  [[nodiscard]] std::int64_t changed() const { return changed_; }
  [[nodiscard]] bool is_null(std::size_t row, std::size_t column) const {
    return !rows_.at(row).at(column).has_value();
  }
  [[nodiscard]] std::string text(std::size_t row, std::size_t column) const {
    return rows_.at(row).at(column).value_or("");
  }
  // 0 for NULL.
  [[nodiscard]] std::int64_t integer(std::size_t row, std::size_t column) const;
  // Milliseconds since the epoch; nothing for NULL.
  [[nodiscard]] std::optional<Instant> millis(std::size_t row, std::size_t column) const;
  // An ISO 8601 text column; the epoch when unreadable.
  [[nodiscard]] Instant utc(std::size_t row, std::size_t column) const;

 private:
  std::vector<std::vector<Cell>> rows_;
  std::int64_t changed_ = 0;
};

// One database connection in its dialect: SQLite or PostgreSQL. The store's statements are
// written once, in the SQL both understand, with $1, $2, ... parameters; a driver runs them and
// says, by the kind of its errors, what a failure asks for (common/result.hpp): transient (held),
// conflict (decided again) or permanent.
class SqlDriver {
 public:
  virtual ~SqlDriver() = default;

  // "SQLite" or "PostgreSQL", for messages.
  [[nodiscard]] virtual std::string_view name() const = 0;
  // The numbered migrations of store/migrations/<dialect>/.
  [[nodiscard]] virtual std::span<const std::string_view> migrations() const = 0;
  // Several instances share the database: due timers are claimed (FOR UPDATE SKIP LOCKED) for a
  // lease, and migrations are applied under a lock.
  [[nodiscard]] virtual bool shared() const = 0;

  virtual Result<SqlRows> run(std::string_view sql, const SqlParams& params,
                              std::string_view doing) = 0;
  // Statements without parameters, one after the other (a migration).
  virtual Result<void> run_script(std::string_view sql, std::string_view doing) = 0;

  // A write transaction (SQLite takes the write lock at once). It ends shared reads first.
  virtual Result<void> begin() = 0;
  virtual Result<void> commit() = 0;
  virtual void rollback() = 0;
  // A write transaction whose commit does not wait for the disk: lost with the machine, it is
  // never half-applied, and the next commit that does wait makes it durable too (SQLite's log and
  // PostgreSQL's WAL are written in order). Only for what is safe to do again: a confirmed outbox
  // row not marked sent is published again with its message id, which consumers deduplicate.
  virtual Result<void> begin_unflushed() = 0;

  // The reads until end_reads in one read transaction where that saves work (SQLite otherwise
  // takes and drops its file locks for each statement); a driver may ignore both.
  virtual void begin_reads() {}
  virtual void end_reads() {}

  // Migrations: one instance at a time, with no statement timeout.
  virtual Result<void> start_migrations() = 0;
  virtual Result<void> end_migrations() = 0;

  // A write is possible now; where the database is (the file, the server).
  virtual Result<std::string> ping() = 0;
};

}  // namespace nqs::store
