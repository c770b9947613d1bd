// The PostgreSQL store on a real server (tests/pg/pg.sh): the store contract that SQLite passes,
// and what several instances need: timers claimed once, an application written by one of two
// connections deciding it at the same moment.
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>

#include "pg_support.hpp"
#include "store_contract.hpp"

namespace nqs::store {
namespace {

using test::fresh_database;

std::unique_ptr<Store> connect(const std::string& url) {
  auto store = open_postgres(PostgresSettings{url});
  EXPECT_TRUE(store.has_value()) << (store ? "" : store.error().message);
  return std::move(store).value();
}

const StoreBackend kPostgres{
    "postgres", [] {
      const auto url = fresh_database();
      return std::function<std::unique_ptr<Store>()>([url] { return connect(url); });
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
  EXPECT_EQ(second->find_application("a-1").value()->stage, "with_lmc");
  EXPECT_FALSE(second->find_input("e-2").value().has_value()) << "nothing of the loser remains";
}

TEST(PostgresStore, APasswordNeverAppearsInMessages) {
  EXPECT_EQ((PostgresSettings{"postgresql://nqs:s3cret@db.example:5432/nqs"}.redacted()),
            "postgresql://nqs:***@db.example:5432/nqs");
  auto refused = open_postgres(PostgresSettings{"postgresql://nqs:s3cret@127.0.0.1:9/nqs"});
  ASSERT_FALSE(refused.has_value());
  EXPECT_THAT(refused.error().message, ::testing::Not(::testing::HasSubstr("s3cret")));
  EXPECT_THAT(refused.error().message, ::testing::HasSubstr("cannot open the store"));
}

}  // namespace
}  // namespace nqs::store
