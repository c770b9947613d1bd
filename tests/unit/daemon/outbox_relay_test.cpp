// The outbox relay without a broker: rows committed in a real SQLite file, a fake broker that
// holds each publish until the test confirms or refuses it. A confirmed row is marked sent and
// reported; one lost is sent again; one the broker refuses every time it goes alone is set aside;
// nothing goes out while the broker is away, and what was committed before a restart is found.
#include "daemon/outbox_relay.hpp"

#include <gtest/gtest.h>

#include "loop_support.hpp"
#include "store/sql_store.hpp"
#include "test_support.hpp"

namespace nqs::daemon {
namespace {

using namespace std::chrono_literals;

class FakeBroker final : public ConfirmedPublisher {
 public:
  struct Published {
    amqp::Outgoing message;
    Completion done;
  };
  [[nodiscard]] bool connected() const override { return up; }
  [[nodiscard]] bool blocked() const override { return false; }
  void publish(const amqp::Outgoing& message, Completion done) override {
    published.push_back({message, std::move(done)});
  }
  // Completes the oldest publish not yet completed.
  void complete(bool confirmed, bool over_a_message = false) {
    auto next = std::move(published.at(completed++).done);
    next(confirmed, confirmed ? "" : "refused", over_a_message);
  }
  [[nodiscard]] std::size_t waiting() const { return published.size() - completed; }

  bool up = true;
  std::vector<Published> published;
  std::size_t completed = 0;
};

class RelayOnStore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = store::open_sqlite({(dir_.path() / "store.sqlite").string()});
    ASSERT_TRUE(opened.has_value()) << opened.error().message;
    store_ = std::move(opened).value();
    relay_ = std::make_unique<OutboxRelay>(
        io_, *store_, broker_, clock_, RelaySettings{256, 1h, 1ms},
        [this](const store::OutboxMessage& row) { sent_.push_back(row.key); });
  }

  // Commits an input with `count` messages, as the processor does.
  std::vector<store::OutboxMessage> commit(const std::string& input, int count) {
    std::vector<store::OutboxMessage> rows;
    for (int i = 0; i < count; ++i) {
      store::OutboxMessage row;
      row.key = fmt::format("{}-{}", input, i);
      row.exchange = "ais.commands";
      row.routing_key = "RegisterApplication";
      row.properties_json = R"({"message_id":")" + row.key + R"("})";
      row.body = "{}";
      row.created_at = clock_.now();
      rows.push_back(row);
    }
    auto recorded =
        store_->record_input(store::InboxEntry{input, "test", store::InputOutcome::processed, "",
                                               "", "", "", clock_.now()},
                             std::move(rows));
    EXPECT_TRUE(recorded.has_value());
    return recorded.value().outbox;
  }

  bool run_until(const std::function<bool()>& done) { return test::run_until(io_, done); }
  void drain() { test::drain(io_); }
  std::int64_t pending() { return store_->count_pending_outbox().value(); }

  test::TempDir dir_;
  boost::asio::io_context io_;
  test::FixedClock clock_{*parse_instant("2025-09-01T10:00:00Z")};
  FakeBroker broker_;
  std::unique_ptr<store::SqlStore> store_;
  std::unique_ptr<OutboxRelay> relay_;
  std::vector<std::string> sent_;
};

TEST_F(RelayOnStore, ConfirmedRowsAreMarkedSentAndReported) {
  relay_->submit(commit("m-1", 3));
  ASSERT_EQ(broker_.waiting(), 3U);
  EXPECT_EQ(broker_.published[0].message.properties.message_id, "m-1-0");
  broker_.complete(true);
  broker_.complete(true);
  EXPECT_EQ(sent_, (std::vector<std::string>{"m-1-0", "m-1-1"}));
  drain();
  EXPECT_EQ(pending(), 1) << "two confirmed rows marked sent";
  broker_.complete(true);
  drain();
  EXPECT_EQ(pending(), 0);
  EXPECT_TRUE(relay_->idle());
}

TEST_F(RelayOnStore, APublishNotConfirmedIsSentAgain) {
  relay_->submit(commit("m-1", 1));
  broker_.complete(false);
  EXPECT_TRUE(sent_.empty());
  ASSERT_TRUE(run_until([&] { return broker_.published.size() == 2; }));
  EXPECT_EQ(broker_.published[1].message.properties.message_id, "m-1-0") << "the same message";
  broker_.complete(true);
  drain();
  EXPECT_EQ(sent_, std::vector<std::string>{"m-1-0"});
  EXPECT_EQ(pending(), 0);
  EXPECT_EQ(relay_->confirm_failures(), 1U);
}

TEST_F(RelayOnStore, ARowTheBrokerRefusesEveryTimeAloneIsSetAside) {
  relay_->submit(commit("m-1", 1));
  for (int attempt = 0; attempt < OutboxRelay::kParkAfter + 1; ++attempt) {
    ASSERT_TRUE(run_until([&] { return broker_.waiting() == 1 || relay_->parked() == 1; }));
    if (relay_->parked() == 1) break;
    broker_.complete(false, true);
  }
  drain();
  EXPECT_EQ(relay_->parked(), 1U);
  EXPECT_EQ(sent_, std::vector<std::string>{"m-1-0"}) << "its input is settled";
  EXPECT_EQ(store_->outbox_stats().value().parked, 1);
  EXPECT_EQ(pending(), 0);
  const auto attempts = broker_.published.size();
  drain();
  EXPECT_EQ(broker_.published.size(), attempts) << "never sent again";
}

TEST_F(RelayOnStore, NothingGoesOutWhileTheBrokerIsAwayAndWhatWasCommittedIsFoundAfter) {
  broker_.up = false;
  const auto before = commit("m-0", 2);  // committed by a process that died before sending
  relay_->start();
  relay_->submit(commit("m-1", 1));
  EXPECT_TRUE(broker_.published.empty());
  broker_.up = true;
  relay_->rescan();
  ASSERT_EQ(broker_.waiting(), 3U);
  for (int i = 0; i < 3; ++i)
    broker_.complete(true);
  drain();
  EXPECT_EQ(pending(), 0);
  EXPECT_EQ(sent_.size(), 3U);
  relay_->stop();
}

}  // namespace
}  // namespace nqs::daemon
