// amqp::Connection on its own against the test broker: the acknowledgements asked for in a turn
// of the event loop are sent when it ends, an unbroken run of the oldest as one, on the channel
// of the delivery's queue, and they settle exactly the deliveries asked for.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/io_context.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "amqp/connection.hpp"
#include "broker_support.hpp"

namespace nqs::test {
namespace {

class ConnectionWithBroker : public ::testing::Test {
 protected:
  void SetUp() override {
    client_.bind_queue("acks", "acks.x", "acks");
    for (int i = 1; i <= 6; ++i)
      client_.publish("acks", std::to_string(i), fmt::format("m{}", i));
    auto settings = amqp::parse_amqp_url(vhost_.url()).value();
    settings.prefetch = 3;  // the next three come only once the first three are settled
    amqp::Connection::Handlers handlers;
    handlers.on_delivery = [this](amqp::Delivery delivery) {
      const auto body = delivery.body;
      delivered_[body] = std::move(delivery);
    };
    handlers.on_lost = [this](const std::string& reason) { lost_ = reason; };
    connection_ = std::make_shared<amqp::Connection>(io_, settings, handlers, 1);
    ASSERT_TRUE(connection_->open().has_value());
    ASSERT_TRUE(connection_->consume("acks", 1024).has_value());
    connection_->start();
  }

  // Runs the loop until `count` deliveries have come (bounded, never a measure of speed).
  bool delivered(std::size_t count) {
    return eventually(
        [&] {
          io_.run_for(std::chrono::milliseconds{50});
          return delivered_.size() >= count;
        },
        std::chrono::seconds{30});
  }

  TestVhost vhost_;
  TestClient client_{vhost_.name(), broker_port(), /*quorum=*/true};
  boost::asio::io_context io_;
  std::shared_ptr<amqp::Connection> connection_;
  std::map<std::string, amqp::Delivery> delivered_;  // by body
  std::string lost_;
};

TEST_F(ConnectionWithBroker, AcknowledgementsOfATurnSettleExactlyTheDeliveriesAskedFor) {
  ASSERT_TRUE(delivered(3));
  EXPECT_EQ(delivered_.size(), 3u);  // the prefetch window
  for (const char* body : {"2", "1", "3"})
    ASSERT_TRUE(connection_->ack(delivered_.at(body)));
  // Sent when the turn ends, as one basic.ack with `multiple`: the window opens again.
  ASSERT_TRUE(delivered(6)) << lost_;
  // 5 is behind 4, still unsettled: acknowledged on its own; 6 is rejected (no dead-letter
  // exchange: dropped).
  ASSERT_TRUE(connection_->ack(delivered_.at("5")));
  ASSERT_TRUE(connection_->reject(delivered_.at("6")));
  io_.poll();
  connection_->close();
  EXPECT_TRUE(lost_.empty()) << lost_;  // the broker closes the channel for a tag it does not hold
  // Only 4, never acknowledged, is back in its queue.
  const auto left = client_.drain("acks");
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left.front().body, "4");
}

// An acknowledgement asked for just before the connection closes is still sent, and one asked
// for twice is sent once.
TEST_F(ConnectionWithBroker, ClosingSendsTheAcknowledgementsAskedForOnce) {
  ASSERT_TRUE(delivered(3));
  ASSERT_TRUE(connection_->ack(delivered_.at("1")));
  ASSERT_TRUE(connection_->ack(delivered_.at("1")));
  ASSERT_TRUE(connection_->ack(delivered_.at("3")));
  connection_->close();
  EXPECT_TRUE(lost_.empty()) << lost_;
  std::vector<std::string> left;
  for (const auto& message : client_.drain("acks"))
    left.push_back(message.body);
  std::sort(left.begin(), left.end());  // a quorum queue serves what returned first
  EXPECT_EQ(left, (std::vector<std::string>{"2", "4", "5", "6"}));
}

// Tags start again at 1 on every connection: a delivery of an earlier one names, by its tag, a
// delivery of this one. Asked to acknowledge it, the connection refuses, and so never ends a run
// with it.
TEST_F(ConnectionWithBroker, ADeliveryOfAnEarlierConnectionIsNeverAcknowledgedOnThisOne) {
  ASSERT_TRUE(delivered(3));
  auto earlier = delivered_.at("3");
  earlier.generation = 0;  // this connection is generation 1
  EXPECT_FALSE(connection_->ack(earlier).has_value());
  EXPECT_FALSE(connection_->reject(earlier).has_value());
  ASSERT_TRUE(connection_->ack(delivered_.at("1")));
  ASSERT_TRUE(connection_->ack(delivered_.at("2")));
  io_.poll();
  connection_->close();
  std::vector<std::string> left;
  for (const auto& message : client_.drain("acks"))
    left.push_back(message.body);
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"3", "4", "5", "6"}));
}

// Each queue is consumed on a channel of its own, so that the acknowledgements of one queue's
// deliveries, settled in their order, are runs of their own whatever the other queue does.
TEST_F(ConnectionWithBroker, EachQueueHasItsChannelAndItsRuns) {
  client_.bind_queue("acks.other", "acks.x", "other");
  client_.publish("acks.other", "a", "ma");
  client_.publish("acks.other", "b", "mb");
  ASSERT_TRUE(connection_->consume("acks.other", 1024).has_value());
  ASSERT_TRUE(delivered(5));
  EXPECT_NE(delivered_.at("a").channel, delivered_.at("1").channel);
  EXPECT_EQ(delivered_.at("a").channel, delivered_.at("b").channel);
  EXPECT_EQ(delivered_.at("a").delivery_tag, 1u);  // tags are the channel's own
  for (const char* body : {"1", "a", "2", "b"})
    ASSERT_TRUE(connection_->ack(delivered_.at(body)));
  io_.poll();
  connection_->close();
  EXPECT_TRUE(lost_.empty()) << lost_;
  EXPECT_TRUE(client_.drain("acks.other").empty());
  std::vector<std::string> left;
  for (const auto& message : client_.drain("acks"))
    left.push_back(message.body);
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (std::vector<std::string>{"3", "4", "5", "6"}));
}

}  // namespace
}  // namespace nqs::test
