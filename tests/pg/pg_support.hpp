#pragma once

#include <fmt/format.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
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

}  // namespace nqs::test
