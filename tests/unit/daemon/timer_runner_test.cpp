// The timer runner without a broker: durable timers in a real SQLite file, a fake publisher. A
// deadline's warning fires once, with its effects committed before its message is handed over;
// a timer whose deadline was closed meanwhile fires without effect; a firing already in the
// inbox is not repeated.
#include "daemon/timer_runner.hpp"

#include <gtest/gtest.h>

#include <boost/json/serialize.hpp>

#include "calendar_support.hpp"
#include "loop_support.hpp"
#include "store/sql_store.hpp"
#include "test_support.hpp"

namespace nqs::daemon {
namespace {

using namespace std::chrono_literals;

constexpr const char* kApplication = "00000000-0000-4000-8000-000000000001";

Instant at(const char* text) {
  return *parse_instant(text);
}

class TimersOnStore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_sqlite({(dir_.path() / "store.sqlite").string()});
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    store_ = std::move(opened).value();
    workflow_ = std::make_unique<workflow::Workflow>(
        test::almaty_calendar(), domain::MciTable{{2025, 3932}}, nullptr, amqp::Names{});
    runner_ = std::make_unique<TimerRunner>(io_, workers_, *workflow_, *store_, publisher_, clock_,
                                            TimerSettings{500, 1h, 1ms});
  }

  // A deadline opened at `started`, and its warning timer, due before the clock's now.
  void open_deadline(const std::string& input, Instant started) {
    store::StateChanges changes;
    changes.opened_deadlines.push_back({kApplication,
                                        "lmc_payment",
                                        "lmc",
                                        "Rules 380 art. 17",
                                        started,
                                        at("2025-10-24T18:59:59.999Z"),
                                        {},
                                        {},
                                        {}});
    boost::json::object facts{{"step", "lmc_payment"},
                              {"responsible", "lmc"},
                              {"basis", "Rules 380 art. 17"},
                              {"started", to_utc_string(started)},
                              {"due", "2025-10-24T18:59:59.999Z"}};
    changes.timers.push_back({"sla.warning.lmc_payment", kApplication, at("2025-10-24T04:00:00Z"),
                              boost::json::serialize(facts)});
    record(input, std::move(changes));
  }
  void record(const std::string& input, store::StateChanges changes) {
    std::vector<store::InputLog::Input> inputs;
    inputs.push_back({store::InboxEntry{input, "test", store::InputOutcome::processed, "", "", "",
                                        "", clock_.now()},
                      {},
                      changes,
                      {}});
    ASSERT_TRUE(store_->record_inputs(std::move(inputs)).has_value());
  }

  bool run_until(const std::function<bool()>& done) { return test::run_until(io_, done); }

  test::TempDir dir_;
  boost::asio::io_context io_;
  Workers workers_{io_, 1};
  test::FixedClock clock_{*parse_instant("2025-10-24T04:00:00Z")};
  test::KeptRows publisher_;
  std::unique_ptr<store::SqlStore> store_;
  std::unique_ptr<workflow::Workflow> workflow_;
  std::unique_ptr<TimerRunner> runner_;
};

TEST_F(TimersOnStore, ADeadlinesWarningFiresOnceWithItsEffectsCommitted) {
  open_deadline("m-1", at("2025-10-17T05:00:00Z"));
  runner_->start();
  ASSERT_TRUE(run_until([&] { return runner_->counters().fired == 1; }));
  ASSERT_EQ(publisher_.submitted.size(), 1U);
  const auto& message = publisher_.submitted[0];
  EXPECT_EQ(message.exchange, "nqs.notifications");
  EXPECT_EQ(message.routing_key, "sla.warning.lmc_payment");
  EXPECT_GT(message.id, 0) << "handed over once committed";
  EXPECT_TRUE(store_->timers_of(kApplication).value().empty()) << "the timer's row is removed";
  EXPECT_TRUE(store_->deadline(kApplication, "lmc_payment").value()->warned.has_value());
  EXPECT_EQ(store_->count_inbox("processed").value(), 2) << "the firing is an input of its own";
  runner_->stop();
}

TEST_F(TimersOnStore, ATimerWhoseDeadlineWasClosedFiresWithoutEffect) {
  open_deadline("m-1", at("2025-10-17T05:00:00Z"));
  store::StateChanges closed;
  closed.closed_deadlines.push_back({kApplication, "lmc_payment", at("2025-10-20T05:00:00Z")});
  record("m-2", closed);
  runner_->start();
  ASSERT_TRUE(run_until([&] { return runner_->counters().without_effect == 1; }));
  EXPECT_TRUE(publisher_.submitted.empty());
  EXPECT_TRUE(store_->timers_of(kApplication).value().empty());
  runner_->stop();
}

TEST_F(TimersOnStore, AFiringSeenBeforeIsNotRepeated) {
  open_deadline("m-1", at("2025-10-17T05:00:00Z"));
  runner_->start();
  ASSERT_TRUE(run_until([&] { return runner_->counters().fired == 1; }));
  // The same timer again, as another instance would see a firing still in flight: its inbox key
  // is known, so nothing is published twice and the row is left to that firing.
  open_deadline("m-3", at("2025-10-17T05:00:00Z"));
  runner_->reschedule();
  for (int turn = 0; turn < 20; ++turn) {
    io_.restart();
    io_.run_one_for(5ms);
  }
  EXPECT_EQ(publisher_.submitted.size(), 1U);
  EXPECT_EQ(runner_->counters().fired, 1U);
  EXPECT_EQ(store_->timers_of(kApplication).value().size(), 1U);
  runner_->stop();
}

}  // namespace
}  // namespace nqs::daemon
