#pragma once

#include <fmt/format.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>

namespace nqs::test {

// A fresh, empty database on the test PostgreSQL (tests/pg/pg.sh) at NQS_TEST_PG_URL; its URL.
inline std::string fresh_database(const std::string& prefix = "nqs") {
  static std::atomic<int> counter{0};
  const auto name = fmt::format("{}_{}_{}", prefix, ::getpid(), ++counter);
  PGconn* admin = PQconnectdb(NQS_TEST_PG_URL);
  if (PQstatus(admin) != CONNECTION_OK) {
    std::string message = PQerrorMessage(admin);
    PQfinish(admin);
    throw std::runtime_error("the test PostgreSQL is not reachable: " + message);
  }
  PQclear(PQexec(admin, fmt::format("DROP DATABASE IF EXISTS {}", name).c_str()));
  PGresult* created = PQexec(admin, fmt::format("CREATE DATABASE {}", name).c_str());
  const bool ok = PQresultStatus(created) == PGRES_COMMAND_OK;
  PQclear(created);
  PQfinish(admin);
  if (!ok) throw std::runtime_error("cannot create the test database " + name);
  const std::string url = NQS_TEST_PG_URL;
  return url.substr(0, url.rfind('/') + 1) + name;
}

// A PostgreSQL primary and its streaming standby of one test's own (tests/pg/pg.sh, the standby
// made by pg_basebackup), started fresh under `dir` on `port` and `port + 1`, both stopped when it
// goes.
class ReplicatedPostgres {
 public:
  ReplicatedPostgres(std::string dir, int port) : dir_(std::move(dir)), primary_(port) {
    stop();
    std::filesystem::remove_all(dir_);
    pg(fmt::format("start {}/primary {}", dir_, primary_));
    pg(fmt::format("standby {}/standby {} {}", dir_, standby(), primary_));
  }
  ~ReplicatedPostgres() { stop(); }
  ReplicatedPostgres(const ReplicatedPostgres&) = delete;
  ReplicatedPostgres& operator=(const ReplicatedPostgres&) = delete;

  [[nodiscard]] int primary() const { return primary_; }
  [[nodiscard]] int standby() const { return primary_ + 1; }
  // Both hosts, the primary first, as store.url names them.
  [[nodiscard]] std::string url() const {
    return fmt::format("postgresql://nqs@127.0.0.1:{},127.0.0.1:{}/postgres", primary_, standby());
  }
  // One server alone.
  [[nodiscard]] static std::string url_of(int port) {
    return fmt::format("postgresql://nqs@127.0.0.1:{}/postgres", port);
  }

  void stop_primary() const { pg(fmt::format("stop {}/primary {}", dir_, primary_)); }
  void promote_standby() const { pg(fmt::format("promote {}/standby {}", dir_, standby())); }

 private:
  static void pg(const std::string& arguments) {
    const auto command =
        fmt::format("{} {} >/dev/null 2>&1", NQS_SOURCE_DIR "/tests/pg/pg.sh", arguments);
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
  }
  void stop() const {
    for (const auto& [role, port] : {std::pair{"standby", standby()}, {"primary", primary_}}) {
      const auto command = fmt::format("{} stop {}/{} {} >/dev/null 2>&1",
                                       NQS_SOURCE_DIR "/tests/pg/pg.sh", dir_, role, port);
      (void)std::system(command.c_str());
    }
  }

  std::string dir_;
  int primary_;
};

}  // namespace nqs::test
