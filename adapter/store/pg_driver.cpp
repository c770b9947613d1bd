// The PostgreSQL driver (libpq): several `nqs-adapter run` processes sharing one database, a
// connection that finds the primary again after a failover, every statement bounded in time.
#include <fmt/format.h>
#include <libpq-fe.h>
#include <poll.h>

#include <cerrno>

#include "store/postgres_url.hpp"
#include "store/sql_store.hpp"
#include "store_migrations.hpp"

namespace nqs::store {
namespace {
// What a PostgreSQL error asks for, by its SQLSTATE: a serialization failure, a deadlock, a unique
// key or a CHECK another writer's change broke is a conflict; bad data or another integrity
// constraint is permanent; the rest (the connection, the server, resources, a read-only standby,
// what would fail every input alike) is transient: held, never dead-lettered en masse.
Failure failure_of(std::string_view state) {
  if (state == "40001" || state == "40P01" || state == "23505" || state == "23514") {
    return Failure::conflict;
  }
  if (state.starts_with("22") || state.starts_with("23")) return Failure::permanent;
  return Failure::transient;
}

struct ResultFree {
  void operator()(PGresult* result) const { PQclear(result); }
};
using PgResult = std::unique_ptr<PGresult, ResultFree>;

std::int64_t affected(const PGresult* result) {
  const char* count = PQcmdTuples(const_cast<PGresult*>(result));
  return count == nullptr || *count == '\0' ? 0 : std::stoll(count);
}

// A BYTEA column, which libpq gives in its text form.
constexpr Oid kByteaOid = 17;

// The statement's own deadline on the client: the server's statement_timeout and this margin
// (the server should have cancelled it by then; a server that does not answer at all is given up).
constexpr std::chrono::milliseconds kClientMargin{5000};
// How long the client waits for one statement of the migrations (the server sets none).
constexpr std::chrono::milliseconds kMigrationDeadline{600000};

// SQLSTATEs after which the connection is not used again: a read-only server (a standby, or a
// primary demoted after a failover), the server shutting down or not accepting connections.
bool needs_new_connection(std::string_view state) {
  return state == "25006" || state == "57P01" || state == "57P02" || state == "57P03" ||
         state.starts_with("08");
}

class PgDriver final : public SqlDriver {
 public:
  PgDriver(PGconn* connection, PostgresSettings settings)
      : connection_(connection), settings_(std::move(settings)) {}
  ~PgDriver() override { PQfinish(connection_); }
  PgDriver(const PgDriver&) = delete;
  PgDriver& operator=(const PgDriver&) = delete;

  [[nodiscard]] std::string_view name() const override { return "PostgreSQL"; }
  [[nodiscard]] std::span<const std::string_view> migrations() const override {
    return migrations::k_postgresql;
  }
  [[nodiscard]] bool shared() const override { return true; }

  Result<SqlRows> run(std::string_view sql, const SqlParams& params,
                      std::string_view doing) override {
    BOOST_OUTCOME_TRY(auto result, send(std::string(sql), params, doing));
    SqlRows rows;
    if (!result) return rows;
    const int columns = PQnfields(result.get());
    for (int row = 0; row < PQntuples(result.get()); ++row) {
      std::vector<SqlRows::Cell> cells;
      cells.reserve(static_cast<std::size_t>(columns));
      for (int column = 0; column < columns; ++column) {
        BOOST_OUTCOME_TRY(auto cell, cell_of(result.get(), row, column));
        cells.push_back(std::move(cell));
      }
      rows.add_row(std::move(cells));
    }
    rows.set_changed(affected(result.get()));
    return rows;
  }

  Result<void> run_script(std::string_view sql, std::string_view doing) override {
    BOOST_OUTCOME_TRY(ensure_connected(doing));
    const std::string text(sql);
    if (PQsendQuery(connection_, text.c_str()) != 1) return lost(doing);
    BOOST_OUTCOME_TRY(await_result(doing));
    return outcome::success();
  }

  Result<void> begin() override {
    BOOST_OUTCOME_TRY(send("BEGIN", {}, "beginning a transaction"));
    return outcome::success();
  }
  Result<void> commit() override {
    BOOST_OUTCOME_TRY(send("COMMIT", {}, "committing"));
    return outcome::success();
  }
  void rollback() override { (void)send("ROLLBACK", {}, "rolling back"); }
  // synchronous_commit off for this transaction alone: its commit does not wait for the WAL's
  // flush (nor for a synchronous standby).
  Result<void> begin_unflushed() override {
    BOOST_OUTCOME_TRY(begin());
    if (auto set = send("SET LOCAL synchronous_commit TO OFF", {}, "beginning a transaction");
        !set) {
      rollback();
      return set.error();
    }
    return outcome::success();
  }

  // Migrations may wait for another instance's (the advisory lock) and may take long (an index on
  // a large table): no statement timeout, a deadline of their own, and no reconnect (the lock
  // belongs to the session). Instances starting together: one migrates, the others wait and find
  // it done.
  Result<void> start_migrations() override {
    migrating_ = true;
    auto started = [&]() -> Result<void> {
      BOOST_OUTCOME_TRY(send("SET statement_timeout = 0", {}, "configuring the session"));
      BOOST_OUTCOME_TRY(send("SET client_min_messages = warning", {}, "configuring the session"));
      BOOST_OUTCOME_TRY(send("SELECT pg_advisory_lock(7450001)", {}, "locking the migrations"));
      return outcome::success();
    }();
    if (!started) migrating_ = false;
    return started;
  }
  Result<void> end_migrations() override {
    (void)send("SELECT pg_advisory_unlock(7450001)", {}, "unlocking the migrations");
    migrating_ = false;
    BOOST_OUTCOME_TRY(
        send(fmt::format("SET statement_timeout = {}", settings_.statement_timeout.count()), {},
             "configuring the session"));
    return outcome::success();
  }

  Result<std::string> ping() override {
    // Writable: connected, and not a read-only standby.
    BOOST_OUTCOME_TRY(auto result, send("SELECT pg_is_in_recovery()", {}, "checking the server"));
    if (result && PQntuples(result.get()) == 1 &&
        std::string_view(PQgetvalue(result.get(), 0, 0)) == "t") {
      broken_ = true;  // the next statement looks for the primary
      return make_error(fmt::format("PostgreSQL {} is a read-only standby", server()));
    }
    return fmt::format("PostgreSQL {}", server());
  }

  static void forward_notice(void* self, const char* message) {
    std::string text = message != nullptr ? message : "";
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
      text.pop_back();
    if (!text.empty()) static_cast<const PgDriver*>(self)->notice(text);
  }

 private:
  static Result<SqlRows::Cell> cell_of(const PGresult* result, int row, int column) {
    if (PQgetisnull(result, row, column)) return SqlRows::Cell{};
    const auto* value = PQgetvalue(result, row, column);
    if (PQftype(result, column) != kByteaOid) {
      return SqlRows::Cell{
          std::string(value, static_cast<std::size_t>(PQgetlength(result, row, column)))};
    }
    std::size_t length = 0;
    unsigned char* bytes = PQunescapeBytea(reinterpret_cast<const unsigned char*>(value), &length);
    if (bytes == nullptr) return make_error("PostgreSQL: a BYTEA value cannot be read");
    SqlRows::Cell cell{std::string(reinterpret_cast<const char*>(bytes), length)};
    PQfreemem(bytes);
    return cell;
  }

  // Sends one statement, its parameters as text (bytes in binary), and reads its result; no
  // result for a ROLLBACK with nothing to undo.
  Result<PgResult> send(const std::string& sql, const SqlParams& params, std::string_view doing) {
    const bool ends_transaction = sql == "COMMIT" || sql == "ROLLBACK";
    if (sql == "ROLLBACK" && !in_transaction_) return PgResult{};
    if (sql == "ROLLBACK" && (broken_ || PQstatus(connection_) != CONNECTION_OK)) {
      // The server rolled back when the connection ended: nothing is left to undo.
      in_transaction_ = false;
      return PgResult{};
    }
    BOOST_OUTCOME_TRY(ensure_connected(doing));
    std::vector<std::string> texts;
    std::vector<const char*> values;
    std::vector<int> lengths;
    std::vector<int> formats;
    texts.reserve(params.values().size());
    for (const auto& value : params.values()) {
      texts.push_back(value.kind == SqlValue::Kind::integer ? std::to_string(value.integer)
                                                            : value.text);
    }
    for (std::size_t i = 0; i < texts.size(); ++i) {
      const auto kind = params.values()[i].kind;
      values.push_back(kind == SqlValue::Kind::null ? nullptr : texts[i].data());
      lengths.push_back(static_cast<int>(texts[i].size()));
      formats.push_back(kind == SqlValue::Kind::bytes ? 1 : 0);
    }
    const int sent = PQsendQueryParams(connection_, sql.c_str(), static_cast<int>(values.size()),
                                       nullptr, values.empty() ? nullptr : values.data(),
                                       lengths.empty() ? nullptr : lengths.data(),
                                       formats.empty() ? nullptr : formats.data(), 0);
    if (sent != 1) {
      if (ends_transaction) in_transaction_ = false;
      return lost(doing);
    }
    auto result = await_result(doing);
    if (sql == "BEGIN" && result) in_transaction_ = true;
    if (ends_transaction) in_transaction_ = false;
    return result;
  }

  // The host and port of the live connection.
  std::string server() const {
    const char* host = PQhost(connection_);
    const char* port = PQport(connection_);
    return fmt::format("{}:{}", host != nullptr ? host : "?", port != nullptr ? port : "?");
  }

 private:
  // A connection that failed, or that the server made unusable (read-only, shutting down), is
  // opened again before the next statement: libpq tries the URL's hosts in turn and keeps one
  // that accepts writes, so after a failover the promoted standby is found. Never inside a
  // transaction: its statements before the loss are gone, and the caller must start again.
  Result<void> ensure_connected(std::string_view doing) {
    if (!broken_ && PQstatus(connection_) == CONNECTION_OK) return outcome::success();
    if (in_transaction_ || migrating_) {
      return make_error(fmt::format("PostgreSQL connection lost inside a {} while {}",
                                    migrating_ ? "migration" : "transaction", doing));
    }
    const std::string before = server();
    PQreset(connection_);
    if (PQstatus(connection_) != CONNECTION_OK) {
      return make_error(
          fmt::format("PostgreSQL unreachable while {}: {}", doing, connection_message()));
    }
    broken_ = false;
    ++reconnects_;
    notice(fmt::format("reconnected to PostgreSQL {} (was {})", server(), before));
    return outcome::success();
  }

  Error lost(std::string_view doing) {
    broken_ = true;
    return make_error(fmt::format("PostgreSQL error while {}: {}", doing, connection_message()));
  }

  std::string connection_message() const {
    std::string message = PQerrorMessage(connection_);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
      message.pop_back();
    return message;
  }

  // Waits until the statement's next result can be read without blocking. Past the deadline the
  // connection is given up (the server's own statement_timeout cancels the statement; a server
  // that does not answer at all is left, and the next statement runs on a new connection).
  Result<void> readable(std::chrono::steady_clock::time_point deadline,
                        std::chrono::milliseconds limit, std::string_view doing) {
    while (PQisBusy(connection_) == 1) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        broken_ = true;
        return make_error(
            fmt::format("PostgreSQL did not answer within {} ms while {}", limit.count(), doing));
      }
      pollfd descriptor{PQsocket(connection_), POLLIN, 0};
      const int ready = ::poll(&descriptor, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno != EINTR) return lost(doing);
      if (ready > 0 && PQconsumeInput(connection_) != 1) return lost(doing);
    }
    return outcome::success();
  }

  // The result of the statement sent (the last one of a script), every result read within one
  // deadline: the statement timeout and a margin (migrations: kMigrationDeadline).
  Result<PgResult> await_result(std::string_view doing) {
    const auto limit =
        migrating_ ? kMigrationDeadline : settings_.statement_timeout + kClientMargin;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    PgResult last;
    std::optional<Error> failure;
    for (;;) {
      BOOST_OUTCOME_TRY(readable(deadline, limit, doing));
      PGresult* next = PQgetResult(connection_);
      if (next == nullptr) break;
      PgResult current(next);
      const auto status = PQresultStatus(current.get());
      if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
        if (!failure) failure = failed(current.get(), doing);
        continue;  // read to the end, so the connection is ready for the next statement
      }
      last = std::move(current);
    }
    if (failure) return *failure;
    if (!last) return lost(doing);
    return last;
  }

  Error failed(const PGresult* result, std::string_view doing) {
    const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
    const std::string code = state != nullptr ? state : "";
    std::string message = PQresultErrorMessage(result);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
      message.pop_back();
    if (message.empty()) message = connection_message();
    if (needs_new_connection(code) || PQstatus(connection_) != CONNECTION_OK) broken_ = true;
    return make_error(fmt::format("PostgreSQL error while {}: {} ({})", doing, message,
                                  code.empty() ? "no SQLSTATE" : code),
                      failure_of(code));
  }

  void notice(const std::string& text) const {
    if (settings_.on_notice) settings_.on_notice(text);
  }

  PGconn* connection_;
  PostgresSettings settings_;
  bool broken_ = false;          // open a new connection before the next statement
  bool in_transaction_ = false;  // between BEGIN and COMMIT or ROLLBACK
  bool migrating_ = false;       // holding the migration lock, with no statement timeout
  std::uint64_t reconnects_ = 0;
};

}  // namespace

Result<std::unique_ptr<SqlStore>> open_postgres(const PostgresSettings& settings) {
  BOOST_OUTCOME_TRY(check_postgres_url(settings.url));
  BOOST_OUTCOME_TRY(auto keywords, connection_keywords(settings));
  std::vector<const char*> names;
  std::vector<const char*> values;
  for (const auto& [name, value] : keywords) {
    names.push_back(name.c_str());
    values.push_back(value.c_str());
  }
  names.push_back(nullptr);
  values.push_back(nullptr);
  PGconn* connection = PQconnectdbParams(names.data(), values.data(), 1);
  if (connection == nullptr) return make_error("cannot open the store: out of memory");
  if (PQstatus(connection) != CONNECTION_OK) {
    std::string message = PQerrorMessage(connection);
    while (!message.empty() && message.back() == '\n')
      message.pop_back();
    PQfinish(connection);
    return make_error(fmt::format("cannot open the store {}: {}", settings.redacted(), message));
  }
  auto driver = std::make_unique<PgDriver>(connection, settings);
  // Notices and warnings go to the caller's logger, not to stderr as libpq would print them.
  PQsetNoticeProcessor(connection, &PgDriver::forward_notice, driver.get());
  auto store = std::make_unique<SqlStore>(std::move(driver));
  BOOST_OUTCOME_TRY(store->migrate());
  return store;
}

}  // namespace nqs::store
