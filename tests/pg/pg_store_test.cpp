// The PostgreSQL store on a real server (tests/pg/pg.sh): the store contract that SQLite passes,
// and what several instances need: timers claimed once, an application written by one of two
// connections deciding it at the same moment.
#include <libpq-fe.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "pg_support.hpp"
#include "store/sql_store.hpp"
#include "store_contract.hpp"

namespace nqs::store {
namespace {

using test::fresh_database;
using test::ReplicatedPostgres;

PostgresSettings settings_for(const std::string& url,
                              std::chrono::milliseconds statement_timeout = std::chrono::seconds{
                                  15}) {
  PostgresSettings settings;
  settings.url = url;
  settings.statement_timeout = statement_timeout;
  return settings;
}

std::unique_ptr<SqlStore> connect(
    const std::string& url,
    std::chrono::milliseconds statement_timeout = std::chrono::seconds{15}) {
  auto store = open_postgres(settings_for(url, statement_timeout));
  EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
  return std::move(store).value();
}

const StoreBackend kPostgres{
    "postgres", [] {
      const auto url = fresh_database();
      return std::function<std::unique_ptr<SqlStore>()>([url] { return connect(url); });
    }};
INSTANTIATE_TEST_SUITE_P(Postgres, StoreContract, ::testing::Values(kPostgres),
                         [](const auto& test_info) { return test_info.param.name; });

TEST(PostgresStore, TwoInstancesNeverClaimTheSameTimer) {
  const auto url = fresh_database();
  auto first = connect(url);
  auto second = connect(url);
  StateChanges timers;
  for (int i = 0; i < 10; ++i) {
    timers.timers.push_back(
        {"voucher_expiry", fmt::format("a-{}", i), at("2025-11-01T00:00:00Z"), ""});
  }
  ASSERT_TRUE(record(*first, with_changes("m-1", timers)).has_value());
  const auto now = at("2025-11-02T00:00:00Z");
  auto claimed_first = first->due_timers(now, 6).value();
  auto claimed_second = second->due_timers(now, 6).value();
  EXPECT_EQ(claimed_first.size(), 6U);
  EXPECT_EQ(claimed_second.size(), 4U) << "only what the first did not take";
  std::set<std::string> subjects;
  for (const auto& timer : claimed_first)
    subjects.insert(timer.subject);
  for (const auto& timer : claimed_second)
    subjects.insert(timer.subject);
  EXPECT_EQ(subjects.size(), 10U);
  // Claimed timers are due again only when their lease runs out (an instance died).
  EXPECT_TRUE(first->due_timers(now, 10).value().empty());
  EXPECT_EQ(first->next_timer_due().value(), now + std::chrono::minutes{1});
  EXPECT_EQ(second->due_timers(now + std::chrono::minutes{2}, 100).value().size(), 10U);
}

TEST(PostgresStore, OfTwoInstancesDecidingOneApplicationOnlyOneWrites) {
  const auto url = fresh_database();
  auto first = connect(url);
  auto second = connect(url);
  StateChanges create;
  create.applications = {application("a-1", "with_career_center")};
  ASSERT_TRUE(record(*first, with_changes("m-1", create)).has_value());
  // Both read version 1 and decide; the second to commit finds it changed.
  StateChanges forward;
  forward.applications = {application("a-1", "with_lmc", "", "", 1)};
  StateChanges refuse;
  refuse.applications = {application("a-1", "refused_career_center", "", "", 1)};
  ASSERT_TRUE(record(*first, with_changes("e-1", forward)).has_value());
  auto lost = record(*second, with_changes("e-2", refuse));
  ASSERT_FALSE(lost.has_value());
  EXPECT_THAT(lost.error().message, ::testing::HasSubstr("changed since it was read"));
  EXPECT_EQ(second->find_application("a-1").value()->stage, domain::Stage::with_lmc);
  EXPECT_FALSE(second->find_input("e-2").value().has_value()) << "nothing of the loser remains";
}

TEST(PostgresStore, APasswordNeverAppearsInMessages) {
  EXPECT_EQ(settings_for("postgresql://nqs:s3cret@db.example:5432/nqs").redacted(),
            "postgresql://nqs:***@db.example:5432/nqs");
  auto refused = open_postgres(settings_for("postgresql://nqs:s3cret@127.0.0.1:9/nqs"));
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused.error().message, ::testing::Not(::testing::HasSubstr("s3cret")));
  EXPECT_THAT(refused.error().message, ::testing::HasSubstr("cannot open the store"));
}

// An administrator's statement on the test server.
void admin(const std::string& sql) {
  PGconn* connection = PQconnectdb(NQS_TEST_PG_URL);
  PQclear(PQexec(connection, sql.c_str()));
  PQfinish(connection);
}

TEST(PostgresStore, SeveralHostsAreTriedInTurnForOneThatTakesWrites) {
  // The first host is down (nothing listens on port 9): libpq goes on to the next.
  const auto url = fresh_database();
  const auto name = url.substr(url.rfind('/') + 1);
  const std::string server = NQS_TEST_PG_URL;
  const auto host_port =
      server.substr(server.find('@') + 1, server.rfind('/') - server.find('@') - 1);
  auto store = open_postgres(
      settings_for(fmt::format("postgresql://nqs@127.0.0.1:9,{}/{}", host_port, name)));
  ASSERT_TRUE(store.has_value()) << store.error().message;
  auto where = store.value()->ping();
  ASSERT_TRUE(where.has_value()) << where.error().message;
  EXPECT_EQ(where.value(), "PostgreSQL " + host_port);
}

TEST(PostgresStore, AConnectionEndedByTheServerIsReopenedAndItsNoticesLogged) {
  const auto url = fresh_database();
  std::vector<std::string> notices;
  auto settings = settings_for(url);
  settings.on_notice = [&](const std::string& notice) { notices.push_back(notice); };
  auto opened = open_postgres(settings);
  ASSERT_TRUE(opened.has_value()) << opened.error().message;
  auto store = std::move(opened).value();
  // A server warning (here from a trigger an administrator added) reaches the logger, not stderr.
  PGconn* owner = PQconnectdb(url.c_str());
  PQclear(PQexec(owner,
                 "CREATE FUNCTION warn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE "
                 "WARNING 'inbox row written'; RETURN NEW; END $$; CREATE TRIGGER warn AFTER "
                 "INSERT ON inbox FOR EACH ROW EXECUTE FUNCTION warn()"));
  PQfinish(owner);
  ASSERT_TRUE(record(*store, with_changes("m-1", {})).has_value());
  admin(
      fmt::format("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{}' "
                  "AND application_name = 'nqs-adapter'",
                  url.substr(url.rfind('/') + 1)));
  // The statement on the ended connection fails (the caller retries); the next one reconnects.
  auto ended = store->ping();
  ASSERT_FALSE(ended.has_value());
  EXPECT_THAT(ended.error().message,
              ::testing::HasSubstr("terminating connection due to administrator command"));
  auto again = record(*store, with_changes("m-2", {}));
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_TRUE(store->find_input("m-1").value().has_value());
  EXPECT_TRUE(store->find_input("m-2").value().has_value());
  std::string all;
  for (const auto& notice : notices)
    all += notice + "\n";
  EXPECT_THAT(all, ::testing::HasSubstr("WARNING:  inbox row written"));
  EXPECT_THAT(all, ::testing::HasSubstr("reconnected to PostgreSQL"));
}

TEST(PostgresStore, AServerProcessThatHangsIsGivenUpOnTheClientAndReplaced) {
  // The server process of the store's connection is stopped (SIGSTOP): not even its
  // statement_timeout can fire. The client gives the statement up after the timeout and its
  // margin, and the next statement runs on a new connection.
  const auto url = fresh_database();
  auto store = connect(url, std::chrono::seconds{1});
  PGconn* admin_connection = PQconnectdb(NQS_TEST_PG_URL);
  PGresult* found = PQexec(
      admin_connection,
      fmt::format("SELECT pid FROM pg_stat_activity WHERE datname = '{}' AND application_name = "
                  "'nqs-adapter'",
                  url.substr(url.rfind('/') + 1))
          .c_str());
  ASSERT_EQ(PQntuples(found), 1);
  const pid_t backend = std::stoi(PQgetvalue(found, 0, 0));
  PQclear(found);
  PQfinish(admin_connection);
  ASSERT_EQ(::kill(backend, SIGSTOP), 0);
  auto hung = record(*store, with_changes("m-1", {}));
  ::kill(backend, SIGCONT);
  ASSERT_FALSE(hung.has_value());
  EXPECT_THAT(hung.error().message, ::testing::HasSubstr("did not answer within 6000 ms"));
  auto later = record(*store, with_changes("m-1", {}));
  EXPECT_TRUE(later.has_value()) << later.error().message;
}

TEST(PostgresStore, AnInstanceWaitingForTheMigrationLockOutlastsTheStatementTimeout) {
  // Another instance holds the migration lock for longer than a statement may take: the one
  // starting waits for it (migrations run without the statement timeout) instead of failing.
  const auto url = fresh_database();
  PGconn* holder = PQconnectdb(url.c_str());
  PQclear(PQexec(holder, "SELECT pg_advisory_lock(7450001)"));
  std::optional<Result<std::unique_ptr<SqlStore>>> opened;
  std::thread opener(
      [&] { opened.emplace(open_postgres(settings_for(url, std::chrono::seconds{1}))); });
  std::this_thread::sleep_for(std::chrono::milliseconds{2500});  // past the statement timeout
  PQclear(PQexec(holder, "SELECT pg_advisory_unlock(7450001)"));
  PQfinish(holder);
  opener.join();
  ASSERT_TRUE(opened->has_value()) << opened->error().message;
  EXPECT_EQ(opened->value()->schema_version().value(), 14);
}

TEST(PostgresStore, AStatementPastItsTimeoutIsCancelledByTheServer) {
  const auto url = fresh_database();
  auto store = connect(url, std::chrono::seconds{1});
  // Another session holds the lock every write takes: the server cancels the statement at its
  // statement_timeout, and the store reports the failure instead of waiting.
  PGconn* holder = PQconnectdb(url.c_str());
  PQclear(PQexec(holder, "BEGIN; LOCK TABLE inbox IN ACCESS EXCLUSIVE MODE"));
  auto blocked = record(*store, with_changes("m-1", {}));
  PQclear(PQexec(holder, "ROLLBACK"));
  PQfinish(holder);
  ASSERT_FALSE(blocked.has_value());
  EXPECT_THAT(blocked.error().message, ::testing::HasSubstr("statement timeout"));
  auto later = record(*store, with_changes("m-1", {}));
  EXPECT_TRUE(later.has_value()) << later.error().message;
}

TEST(PostgresStore, AfterTheFailoverToItsStandbyTheStoreGoesOnLosingNothingApplyingNothingTwice) {
  // A primary and its streaming standby of this test's own; the store is given both hosts.
  const ReplicatedPostgres servers(NQS_TEST_PG_FAILOVER_DIR, NQS_TEST_PG_FAILOVER_PORT);
  const int primary = servers.primary();
  const int standby = servers.standby();
  std::vector<std::string> notices;
  auto settings = settings_for(servers.url());
  settings.connect_timeout = std::chrono::seconds{2};
  settings.on_notice = [&](const std::string& notice) { notices.push_back(notice); };
  auto opened = open_postgres(settings);
  ASSERT_TRUE(opened.has_value()) << opened.error().message;
  auto store = std::move(opened).value();
  EXPECT_EQ(store->ping().value(), fmt::format("PostgreSQL 127.0.0.1:{}", primary));

  // Inputs flow; halfway the primary stops (its WAL reaches the standby as it shuts down) and the
  // standby is promoted. Each input is recorded as the daemon records it: retried until it is
  // committed or found a duplicate.
  constexpr int kInputs = 40;
  int failures = 0;
  int duplicates = 0;
  for (int i = 0; i < kInputs; ++i) {
    if (i == kInputs / 2) {
      servers.stop_primary();
      servers.promote_standby();
    }
    const auto key = fmt::format("m-{}", i);
    StateChanges changes;
    changes.applications = {application(fmt::format("a-{}", i), "with_career_center")};
    for (int attempt = 0;; ++attempt) {
      ASSERT_LT(attempt, 50) << "the store never came back";
      auto recorded = record(*store, with_changes(key, changes));
      if (recorded) {
        if (recorded.value().front().duplicate) ++duplicates;
        break;
      }
      ++failures;
      std::this_thread::sleep_for(std::chrono::milliseconds{200});
    }
    // A retry of an input already committed is a duplicate, never applied again.
    auto again = record(*store, with_changes(key, changes));
    ASSERT_TRUE(again.has_value()) << again.error().message;
    EXPECT_TRUE(again.value().front().duplicate) << key;
  }
  EXPECT_GT(failures, 0) << "the failover was seen";
  EXPECT_EQ(store->ping().value(), fmt::format("PostgreSQL 127.0.0.1:{}", standby));
  EXPECT_EQ(store->count_inbox("processed").value() + store->count_inbox("rejected").value(),
            kInputs)
      << "each input once, on the new primary";
  for (int i = 0; i < kInputs; ++i) {
    auto found = store->find_application(fmt::format("a-{}", i));
    ASSERT_TRUE(found.has_value() && found.value().has_value()) << i;
    EXPECT_EQ(found.value()->version, 1) << "applied once";
  }
  std::string all;
  for (const auto& notice : notices)
    all += notice + "\n";
  EXPECT_THAT(all,
              ::testing::HasSubstr(fmt::format("reconnected to PostgreSQL 127.0.0.1:{}", standby)));
}

TEST(PostgresStore, AServerThatTurnedReadOnlyIsLeftForTheOneThatTakesWrites) {
  // The primary stays up but stops taking writes (as a demoted primary does), and its standby is
  // promoted: the store's next write is refused (25006), and the one after it lands on the new
  // primary.
  const ReplicatedPostgres servers(std::string(NQS_TEST_PG_FAILOVER_DIR) + "-read-only",
                                   NQS_TEST_PG_FAILOVER_PORT + 2);
  const int standby = servers.standby();
  auto store = connect(servers.url());
  ASSERT_TRUE(record(*store, with_changes("m-1", {})).has_value());

  // The standby has it before it is promoted (replication is asynchronous).
  PGconn* replica = PQconnectdb(ReplicatedPostgres::url_of(standby).c_str());
  for (int wait = 0; wait < 100; ++wait) {
    PGresult* found = PQexec(replica, "SELECT 1 FROM inbox WHERE input_key = 'm-1'");
    const bool there = PQresultStatus(found) == PGRES_TUPLES_OK && PQntuples(found) == 1;
    PQclear(found);
    if (there) break;
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  PQfinish(replica);
  PGconn* old_primary = PQconnectdb(ReplicatedPostgres::url_of(servers.primary()).c_str());
  PQclear(PQexec(old_primary, "ALTER SYSTEM SET default_transaction_read_only = on"));
  PQclear(PQexec(old_primary, "SELECT pg_reload_conf()"));
  PQfinish(old_primary);
  servers.promote_standby();

  std::optional<Error> refused;
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto recorded = record(*store, with_changes("m-2", {}));
    if (recorded) break;
    if (!refused) refused = recorded.error();
    std::this_thread::sleep_for(std::chrono::milliseconds{200});
  }
  ASSERT_TRUE(refused.has_value()) << "the read-only server refused a write first";
  EXPECT_THAT(refused->message, ::testing::HasSubstr("25006"));
  EXPECT_EQ(store->ping().value(), fmt::format("PostgreSQL 127.0.0.1:{}", standby));
  EXPECT_TRUE(store->find_input("m-1").value().has_value()) << "replicated before the promotion";
  EXPECT_TRUE(store->find_input("m-2").value().has_value());
}

}  // namespace
}  // namespace nqs::store
