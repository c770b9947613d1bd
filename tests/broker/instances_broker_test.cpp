// Two daemons on one broker and one PostgreSQL: they share the queues and the
// database; the same person's applications racing on both are decided as the rules say, and
// every deadline fires exactly once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "configuration/config.hpp"
#include "daemon_fixture.hpp"
#include "pg_support.hpp"

namespace nqs::test {
namespace {

using ::testing::HasSubstr;

class TwoInstances : public DaemonWithBroker {
 protected:
  void SetUp() override {
    store_url_ = fresh_database("nqs_instances");
    extra_config_ = fmt::format("clock: {{control_file: {}}}\n", clock_file().string());
    DaemonWithBroker::SetUp();
  }
  void TearDown() override {
    if (db_ != nullptr) PQfinish(db_);
  }

  std::filesystem::path clock_file() const { return dir_.path() / "clock-offset"; }

  std::int64_t query(const std::string& sql) {
    if (db_ == nullptr) db_ = PQconnectdb(store_url_.c_str());
    PGresult* result = PQexec(db_, sql.c_str());
    const auto value = PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1
                           ? std::stoll(PQgetvalue(result, 0, 0))
                           : std::int64_t{-1};
    PQclear(result);
    return value;
  }

  void publish_event(const std::string& type, const std::string& payload) {
    const auto id = fmt::format("e2000000-0000-4000-8000-{:012d}", ++events_);
    client_->publish(kAisEvents,
                     fmt::format(R"({{"eventId": "{}", "type": "{}",
                                   "occurredAt": "2023-01-01T09:00:00+05:00", "payload": {}}})",
                                 id, type, payload),
                     id, "application/json");
  }

  static std::string application(int n, int year) {
    Envelope envelope("voucher-application");
    envelope.set_text("ApplicationId", fmt::format("a2000000-0000-4000-8000-{:012d}", n));
    envelope.set_text("SubmittedAt", fmt::format("{}-09-01T10:15:00+05:00", year));
    return with_message_id(envelope.sign("individual-sign").bytes(), message_id_of(n));
  }

  PGconn* db_ = nullptr;
  int events_ = 0;
};

TEST_F(TwoInstances, ShareTheWorkDecideRacesByTheRulesAndFireEachDeadlineOnce) {
  start_daemon();
  DaemonProcess second(config_, dir_.path() / "daemon-2.log");
  second.start();
  ASSERT_TRUE(eventually([&] {
    auto state = client_->queue_state(kGovIn);
    return state && state->second >= 2;
  })) << "both instances consume";

  publish_event("UnemployedStatusChanged",
                R"({"iin": "850101300124", "registered": true, "region": "750000000",
                    "since": "2023-01-10"})");
  publish_event("QuotaAllocated", R"({"periodStart": 2023, "periodEnd": 2025,
      "regions": [{"region": "750000000", "vouchersPerYear": 1}]})");
  publish_event("QuotaAllocated", R"({"periodStart": 2026, "periodEnd": 2027,
      "regions": [{"region": "750000000", "vouchersPerYear": 1}]})");
  ASSERT_TRUE(eventually([&] { return query("SELECT count(*) FROM quota") == 5; }))
      << daemon_->log_text() << second.log_text();

  // Four applications for each of three years, all at once, on both instances, and one voucher a
  // year in the quota: one a year takes it, the others are refused as no_quota_left (art. 3,
  // art. 12). Whichever instance decides, the quota's CHECK decides the race.
  constexpr int kYears = 3;
  constexpr int kPerYear = 4;
  int n = 0;
  for (int round = 0; round < kPerYear; ++round) {
    for (const int year : {2023, 2025, 2027}) {
      ++n;
      client_->publish(kGovIn, application(n, year), message_id_of(n));
    }
  }
  ASSERT_TRUE(eventually([&] {
    return query("SELECT count(*) FROM inbox WHERE source = 'nqs.gov.in'") == kYears * kPerYear;
  })) << daemon_->log_text()
      << second.log_text();
  EXPECT_EQ(query("SELECT count(*) FROM applications WHERE stage = 'with_career_center'"), kYears);
  EXPECT_EQ(query("SELECT count(*) FROM applications WHERE stage = 'refused_automatic'"),
            kYears * (kPerYear - 1));
  EXPECT_EQ(query("SELECT sum(reserved) FROM quota"), kYears);
  EXPECT_THAT(daemon_->log_text(), HasSubstr("input processed"));
  EXPECT_THAT(second.log_text(), HasSubstr("input processed")) << "both instances took work";
  // Losing a race to the other instance (a version, the unique index, the quota CHECK) is normal
  // traffic: decided again quietly, never logged as a failure nor dead-lettered.
  for (const auto& log : {daemon_->log_text(), second.log_text()}) {
    std::istringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
      EXPECT_EQ(line.find("transient failure"), std::string::npos) << line;
      EXPECT_EQ(line.find("given up"), std::string::npos) << line;
    }
  }

  // Ten days pass for both: each open review deadline warns and breaches, once.
  ASSERT_TRUE(
      configuration::advance_clock_control(clock_file(), std::chrono::hours{24 * 10}).has_value());
  std::vector<Received> sla;
  ASSERT_TRUE(eventually([&] {
    for (auto& message : client_->drain("nqs.sla"))
      sla.push_back(std::move(message));
    return query("SELECT count(*) FROM inbox WHERE source = 'timer'") == 2 * kYears &&
           query("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0;
  })) << sla.size()
      << " SLA messages\n"
      << daemon_->log_text() << second.log_text();
  EXPECT_EQ(daemon_->stop(), 0);
  EXPECT_EQ(second.stop(), 0);
  for (auto& message : client_->drain("nqs.sla"))
    sla.push_back(std::move(message));
  std::map<std::string, std::set<std::string>> ids_by_kind;
  for (const auto& message : sla)
    ids_by_kind[message.routing_key].insert(message.properties.message_id);
  EXPECT_EQ(ids_by_kind["sla.warning.career_center_review"].size(), kYears);
  EXPECT_EQ(ids_by_kind["sla.breached.career_center_review"].size(), kYears);
  EXPECT_EQ(query("SELECT count(*) FROM deadlines WHERE warned_ms IS NOT NULL AND breached_ms IS "
                  "NOT NULL"),
            kYears);
  EXPECT_EQ(query("SELECT count(*) FROM timers WHERE kind LIKE 'sla.%'"), 0) << "all fired";
}

// The daemon on a PostgreSQL primary and its streaming standby, both in store.url: the primary
// stops and the standby is promoted while inputs flow.
class ReplicatedStore : public DaemonWithBroker {
 protected:
  void SetUp() override {
    store_url_ = servers_.url();
    DaemonWithBroker::SetUp();
  }

  // One number from one of the servers.
  static std::int64_t count_on(int port, const std::string& sql) {
    PGconn* db = PQconnectdb(ReplicatedPostgres::url_of(port).c_str());
    PGresult* result = PQexec(db, sql.c_str());
    const auto value = PQresultStatus(result) == PGRES_TUPLES_OK && PQntuples(result) == 1
                           ? std::stoll(PQgetvalue(result, 0, 0))
                           : std::int64_t{-1};
    PQclear(result);
    PQfinish(db);
    return value;
  }

  ReplicatedPostgres servers_{NQS_TEST_PG_FAILOVER_DIR, NQS_TEST_PG_FAILOVER_PORT};
};

TEST_F(ReplicatedStore, ThePromotedStandbyTakesOverWhileInputsFlowNothingLostNothingTwice) {
  start_daemon();
  for (int n = 1; n <= 20; ++n)
    client_->publish(kGovIn, application_message(n), message_id_of(n));
  ASSERT_TRUE(eventually([&] {
    collect();
    return distinct_command_ids().size() >= 5;
  })) << daemon_->log_text();
  servers_.stop_primary();
  servers_.promote_standby();
  for (int n = 21; n <= 40; ++n)
    client_->publish(kGovIn, application_message(n), message_id_of(n));
  wait_for_distinct_commands(40);
  collect();
  EXPECT_TRUE(dead_letters_.empty()) << daemon_->log_text();
  // Each input once, on the new primary.
  EXPECT_EQ(count_on(servers_.standby(), "SELECT count(*) FROM inbox"), 40);
  EXPECT_EQ(count_on(servers_.standby(), "SELECT count(*) FROM applications"), 40);
  EXPECT_TRUE(eventually([&] {
    return count_on(servers_.standby(), "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0;
  })) << "every command and notification confirmed";
  const auto log = daemon_->log_text();
  EXPECT_THAT(log,
              HasSubstr(fmt::format("reconnected to PostgreSQL 127.0.0.1:{}", servers_.standby())));
  EXPECT_EQ(daemon_->stop(), 0);
}

}  // namespace
}  // namespace nqs::test
